#!/usr/bin/python
# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ipvs_info
short_description: Read the kernel's IPVS table, counters, timeouts and sync daemons
version_added: 0.1.0
description:
  - Returns as data what C(ipvsadm -L -n) shows, for every virtual service and real server,
    with the configuration from C(ipvsadm -Sn), the thresholds and active/inactive
    connection counts from C(ipvsadm -Ln --thresholds), and optionally the C(--stats) and
    C(--rate) counters (exact values, C(--exact)).
  - Also the connection timeouts (C(ipvsadm -L --timeout)), the sync daemons
    (C(ipvsadm -L --daemon)) and, on request, the connection entries (C(ipvsadm -Lcn)).
  - Changes nothing.
author:
  - sipvs.lvs contributors (@sipvs)
attributes:
  check_mode:
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
extends_documentation_fragment:
  - sipvs.lvs.attributes
  - sipvs.lvs.attributes.ipvs
  - ansible.builtin.action_common_attributes
options:
  stats:
    description: Add traffic counters (C(ipvsadm -Ln --stats --exact)) to every service and real server.
    type: bool
    default: true
  rate:
    description: Add rates (C(ipvsadm -Ln --rate --exact)) to every service and real server.
    type: bool
    default: true
  connections:
    description:
      - Add the connection entries (C(ipvsadm -Lcn --persistent-conn)), including persistence
        templates. Can be long on a busy director.
    type: bool
    default: false
seealso:
  - module: sipvs.lvs.ipvs_service
  - module: sipvs.lvs.ipvs_settings
"""

EXAMPLES = r"""
- name: Read the table with counters
  sipvs.lvs.ipvs_info:
  register: ipvs

- name: Active connections of every real server of the SIP service
  ansible.builtin.debug:
    msg: "{{ (ipvs.services | selectattr('fwmark', 'equalto', 3) | first).real_servers
             | items2dict(key_name='address', value_name='active_connections') }}"

- name: Connection entries too
  sipvs.lvs.ipvs_info:
    stats: false
    rate: false
    connections: true
  register: ipvs_connections
"""

RETURN = r"""
version:
  description: IPVS version and connection hash table size, from the C(-Ln) header.
  returned: always
  type: dict
  contains:
    version:
      description: IPVS version.
      type: str
    table_size:
      description: Size of the connection hash table.
      type: int
  sample: {version: 1.2.1, table_size: 4096}
services:
  description:
    - Every virtual service, shaped like RV(sipvs.lvs.ipvs_service#module:service), sorted by
      fwmark, protocol, address and port.
    - Each has C(stats) and C(rate) (when asked for) and each real server additionally has
      C(active_connections), C(inactive_connections), and C(stats) and C(rate).
    - C(stats) has C(connections), C(packets_in), C(packets_out), C(bytes_in), C(bytes_out);
      C(rate) has C(connections_per_second), C(packets_in_per_second), C(packets_out_per_second),
      C(bytes_in_per_second), C(bytes_out_per_second).
  returned: always
  type: list
  elements: dict
  sample:
    - {protocol: udp, address: 172.16.11.211, port: 5060, fwmark: null, family: ipv4, scheduler: rr,
       scheduler_flags: [], persistent: 60, persistence_netmask: 255.255.255.255, persistence_engine: null,
       one_packet: true,
       stats: {connections: 2, packets_in: 2, packets_out: 0, bytes_in: 93, bytes_out: 0},
       rate: {connections_per_second: 0, packets_in_per_second: 0, packets_out_per_second: 0,
              bytes_in_per_second: 0, bytes_out_per_second: 0},
       real_servers: [{address: 172.16.11.78, port: 5060, forwarding: masq, weight: 1, upper_threshold: 0,
                       lower_threshold: 0, active_connections: 0, inactive_connections: 0,
                       stats: {connections: 2, packets_in: 2, packets_out: 0, bytes_in: 93, bytes_out: 0},
                       rate: {connections_per_second: 0, packets_in_per_second: 0, packets_out_per_second: 0,
                              bytes_in_per_second: 0, bytes_out_per_second: 0}}]}
timeouts:
  description: Connection timeouts in seconds.
  returned: always
  type: dict
  sample: {tcp: 900, tcpfin: 120, udp: 300}
sync_daemons:
  description:
    - The master and backup sync daemons, each V(null) when not running, else with
      C(interface), C(syncid), C(maxlen), C(group), C(port), C(ttl).
  returned: always
  type: dict
  sample: {master: {interface: eth0, syncid: 10, maxlen: 1472, group: 224.0.0.81, port: 8848, ttl: 1}, backup: null}
connections:
  description:
    - Connection entries, each with C(protocol), C(expires) (seconds), C(state), C(client),
      C(virtual), C(destination), C(persistence_engine) and C(persistence_data) (the SIP
      Call-ID for a template of the V(sip) engine). Persistence templates have protocol V(ip).
  returned: when O(connections=true)
  type: list
  elements: dict
  sample:
    - {protocol: tcp, expires: 893, state: ESTABLISHED, client: "172.16.11.236:40512", virtual: "172.16.11.210:80",
       destination: "172.16.11.76:80", persistence_engine: null, persistence_data: null}
commands:
  description: The ipvsadm commands run, as argv lists.
  returned: always
  type: list
  elements: list
  sample: [["ipvsadm", "-Sn"], ["ipvsadm", "-Ln", "--thresholds"]]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sipvs.lvs.plugins.module_utils._ipvs import (
    RATE_COLUMNS,
    STATS_COLUMNS,
    THRESHOLD_COLUMNS,
    Ipvsadm,
    IpvsadmError,
    annotate,
    parse_connections,
    parse_daemon,
    parse_list,
    parse_save,
    parse_timeout,
    parse_version,
    sort_services,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            stats=dict(type="bool", default=True),
            rate=dict(type="bool", default=True),
            connections=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    params = module.params
    commands = []

    def read(args, action):
        commands.append(["ipvsadm", *args])
        return ipvsadm.output(args, action)

    try:
        ipvsadm = Ipvsadm(module)
        services = sort_services(parse_save(read(["-Sn"], "reading the IPVS table (ipvsadm -Sn)")))
        text = read(["-Ln", "--thresholds"], "reading connection counts (ipvsadm -Ln --thresholds)")
        version = parse_version(text)
        annotate(services, parse_list(text, THRESHOLD_COLUMNS, "ipvsadm -Ln --thresholds"), None)
        if params["stats"]:
            text = read(["-Ln", "--stats", "--exact"], "reading statistics (ipvsadm -Ln --stats)")
            annotate(services, parse_list(text, STATS_COLUMNS, "ipvsadm -Ln --stats"), "stats")
        if params["rate"]:
            text = read(["-Ln", "--rate", "--exact"], "reading rates (ipvsadm -Ln --rate)")
            annotate(services, parse_list(text, RATE_COLUMNS, "ipvsadm -Ln --rate"), "rate")
        timeouts = parse_timeout(read(["-L", "--timeout"], "reading timeouts (ipvsadm -L --timeout)"))
        daemons = parse_daemon(read(["-L", "--daemon"], "reading sync daemons (ipvsadm -L --daemon)"))
        result = dict(changed=False, version=version, services=services, timeouts=timeouts, sync_daemons=daemons)
        if params["connections"]:
            text = read(["-Lcn", "--persistent-conn"], "reading connections (ipvsadm -Lcn)")
            result["connections"] = parse_connections(text)
    except IpvsadmError as e:
        module.fail_json(msg=str(e), commands=commands, **e.details())
    except LvsError as e:
        module.fail_json(msg=str(e), commands=commands)
    result["commands"] = commands
    module.exit_json(**result)


if __name__ == "__main__":
    main()
