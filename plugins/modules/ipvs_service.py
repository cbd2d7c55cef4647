#!/usr/bin/python
# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ipvs_service
short_description: Manage IPVS virtual services and their real servers in the kernel
version_added: 0.1.0
description:
  - Creates, changes and removes Linux IPVS virtual services (what C(ipvsadm -A/-E/-D) do) and
    their real servers (C(ipvsadm -a/-e/-d)) so that the kernel table matches the options.
  - One service with the top-level options, or many at once with O(services). All changes
    of one run are fed to a single C(ipvsadm -R) call, so a table of 1,000 services is one
    process, not 1,000.
  - The current table is read with C(ipvsadm -Sn) and C(ipvsadm -Ln --thresholds) (the
    thresholds are not part of C(-Sn)); nothing is changed when it already matches.
  - All input is validated before anything changes. If the batch fails half-way the module
    reads the table again and reports which commands took effect and which did not.
  - Connection timeouts and the connection sync daemon are managed by
    M(sipvs.lvs.ipvs_settings); M(sipvs.lvs.ipvs_info) reads the table with counters.
author:
  - sipvs.lvs contributors (@sipvs)
attributes:
  check_mode:
    details: Plans and reports exactly the commands a real run would execute and the table it would leave.
  diff_mode:
    details: Structured before and after of every service that changes, keyed by its name (RV(service_names)).
extends_documentation_fragment:
  - sipvs.lvs.attributes
  - sipvs.lvs.attributes.ipvs
  - ansible.builtin.action_common_attributes
options:
  # The single-service options, which are also the suboptions of every O(services) element
  # (*service), as _service_options() serves both in the argument spec.
  <<: &service
    protocol:
      description:
        - Protocol of a service that is an address and a port. Defaults to V(tcp) when O(address) is given.
        - Mutually exclusive with O(fwmark).
      type: str
      choices: [tcp, udp, sctp]
    address:
      description:
        - Virtual IP address (IPv4 or IPv6) of the service. Give O(address) and O(port), or O(fwmark).
      type: str
    port:
      description:
        - Virtual port, 1-65535; V(0) means every port and needs O(persistent).
      type: int
    fwmark:
      description:
        - Firewall mark (1-4294967295) that selects the packets of the service, instead of O(address) and O(port).
      type: int
    family:
      description:
        - Address family of a O(fwmark) service (C(ipvsadm -6)). Derived from O(address) otherwise.
        - Defaults to V(ipv4).
      type: str
      choices: [ipv4, ipv6]
    scheduler:
      description:
        - Scheduling algorithm (C(ipvsadm -s)).
      type: str
      default: wlc
      choices: [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos]
    scheduler_flags:
      description:
        - Scheduler flags (C(ipvsadm -b)), for example V(sh-fallback) and V(sh-port) for O(scheduler=sh).
      type: list
      elements: str
      choices: [flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port]
    persistent:
      description:
        - Persistence timeout in seconds (C(ipvsadm -p)); V(0) means not persistent.
      type: int
      default: 0
    persistence_netmask:
      description:
        - Granularity of persistence (C(ipvsadm -M)) as a dotted IPv4 netmask or a prefix length;
          for IPv6 services a prefix length. V(0.0.0.0) makes every client one (used with O(persistence_engine)).
        - Defaults to V(255.255.255.255) (IPv6 V(128)). Needs O(persistent).
      type: str
    persistence_engine:
      description:
        - Alternative persistence engine (C(ipvsadm --pe)); V(sip) keys persistence on the SIP Call-ID.
        - Needs O(persistent).
      type: str
      choices: [sip]
    one_packet:
      description:
        - One-packet scheduling (C(ipvsadm -o)), which schedules every UDP datagram on its own.
        - UDP and O(fwmark) services only.
      type: bool
      default: false
    real_servers:
      description:
        - The real servers of the service. With O(purge_real_servers=true) the list is exact.
      type: list
      elements: dict
      suboptions:
        address:
          description: Real server address.
          type: str
          required: true
        port:
          description:
            - Real server port. Defaults to the service port (V(0) for a O(fwmark) service).
            - With O(real_servers[].forwarding=route) or V(tunnel) it must equal the service port.
          type: int
        forwarding:
          description: Forwarding method, C(ipvsadm -g), C(-m) or C(-i).
          type: str
          choices: [route, masq, tunnel]
          default: route
        weight:
          description: Weight, 0-65535; V(0) takes the server out of scheduling without dropping its connections.
          type: int
          default: 1
        upper_threshold:
          description: Upper connection threshold (C(ipvsadm -x)); V(0) means none.
          type: int
          default: 0
        lower_threshold:
          description: Lower connection threshold (C(ipvsadm -y)); V(0) means none.
          type: int
          default: 0
    purge_real_servers:
      description:
        - Remove real servers of the service that are not in O(real_servers).
        - With V(false) listed servers are added or changed and others are left alone.
      type: bool
      default: true
    state:
      description:
        - V(present) creates or updates the service, V(absent) deletes it with its real servers.
      type: str
      choices: [present, absent]
      default: present
  services:
    description:
      - Many services at once, each with the options of a single service (O(protocol) ...
        O(state)). Mutually exclusive with the single-service options.
    type: list
    elements: dict
    suboptions: *service
  purge:
    description:
      - With O(services), delete every service in the kernel that is not listed.
    type: bool
    default: false
notes:
  - Only one tool should own the IPVS table of a host. Do not combine this module with
    keepalived or pulse managing the same services.
  - Real servers in tunnel mode are configured with the default IPIP encapsulation.
seealso:
  - module: sipvs.lvs.ipvs_info
  - module: sipvs.lvs.ipvs_settings
"""

EXAMPLES = r"""
- name: SIP through firewall mark 3 to three real servers (direct routing)
  sipvs.lvs.ipvs_service:
    fwmark: 3
    scheduler: wlc
    real_servers:
      - address: 172.16.11.76
      - address: 172.16.11.77
      - address: 172.16.11.78

- name: HTTP on the VIP
  sipvs.lvs.ipvs_service:
    protocol: tcp
    address: 172.16.11.210
    port: 80
    scheduler: wlc
    real_servers:
      - {address: 172.16.11.76, weight: 2}
      - {address: 172.16.11.77}

- name: SIP over UDP, persistence by Call-ID and one-packet scheduling
  sipvs.lvs.ipvs_service:
    protocol: udp
    address: 172.16.11.211
    port: 5060
    scheduler: rr
    persistent: 60
    persistence_netmask: 0.0.0.0
    persistence_engine: sip
    one_packet: true
    real_servers:
      - address: 172.16.11.76
      - address: 172.16.11.77

- name: Take a real server out of rotation, leaving the others as they are
  sipvs.lvs.ipvs_service:
    protocol: tcp
    address: 172.16.11.210
    port: 80
    purge_real_servers: false
    real_servers:
      - {address: 172.16.11.77, weight: 0}

- name: The whole table in one call; anything not listed is removed
  sipvs.lvs.ipvs_service:
    purge: true
    services:
      - {protocol: tcp, address: 172.16.11.210, port: 80, real_servers: [{address: 172.16.11.76}]}
      - {fwmark: 3, persistent: 400, real_servers: [{address: 172.16.11.76}, {address: 172.16.11.77}]}

- name: Remove a service
  sipvs.lvs.ipvs_service:
    protocol: tcp
    address: 172.16.11.210
    port: 80
    state: absent
"""

RETURN = r"""
commands:
  description:
    - The ipvsadm commands run (or, in check mode, that would run), in order, as argv lists.
      They are fed together to one C(ipvsadm -R). Empty when nothing changes.
  returned: always
  type: list
  elements: list
  sample:
    - ["ipvsadm", "-A", "-f", "3", "-s", "wlc"]
    - ["ipvsadm", "-a", "-f", "3", "-r", "172.16.11.76:0", "-g", "-w", "1"]
service_names:
  description: Names of the services that changed (C(tcp 172.16.11.210:80), C(fwmark 3)); keys of the diff.
  returned: always
  type: list
  elements: str
  sample: ["fwmark 3"]
service:
  description:
    - With the single-service options, the service as the kernel has it after the run
      (in check mode, as it would have it); V(null) when it does not exist.
  returned: when the single-service options are used
  type: dict
  contains:
    protocol:
      description: V(tcp), V(udp) or V(sctp); V(null) for a fwmark service.
      type: str
    address:
      description: Virtual IP; V(null) for a fwmark service.
      type: str
    port:
      description: Virtual port; V(null) for a fwmark service.
      type: int
    fwmark:
      description: Firewall mark; V(null) for an address service.
      type: int
    family:
      description: V(ipv4) or V(ipv6).
      type: str
    scheduler:
      description: Scheduling algorithm.
      type: str
    scheduler_flags:
      description: Scheduler flags.
      type: list
      elements: str
    persistent:
      description: Persistence timeout in seconds, V(null) when not persistent.
      type: int
    persistence_netmask:
      description: Persistence granularity, V(null) when not persistent.
      type: str
    persistence_engine:
      description: Persistence engine or V(null).
      type: str
    one_packet:
      description: One-packet scheduling.
      type: bool
    real_servers:
      description: Real servers sorted by address and port.
      type: list
      elements: dict
      contains:
        address:
          description: Real server address.
          type: str
        port:
          description: Real server port.
          type: int
        forwarding:
          description: V(route), V(masq) or V(tunnel).
          type: str
        weight:
          description: Weight.
          type: int
        upper_threshold:
          description: Upper connection threshold (0 = none).
          type: int
        lower_threshold:
          description: Lower connection threshold (0 = none).
          type: int
  sample:
    protocol: null
    address: null
    port: null
    fwmark: 3
    family: ipv4
    scheduler: wlc
    scheduler_flags: []
    persistent: null
    persistence_netmask: null
    persistence_engine: null
    one_packet: false
    real_servers:
      - {address: 172.16.11.76, port: 0, forwarding: route, weight: 1, upper_threshold: 0, lower_threshold: 0}
services:
  description:
    - With O(services), the whole IPVS table after the run (in check mode, as it would be),
      each entry shaped like RV(service), sorted by fwmark, protocol, address and port.
  returned: when O(services) is used
  type: list
  elements: dict
  sample: []
applied:
  description: On a failed batch only, the commands that took effect (found in the table read after the failure).
  returned: failure of the ipvsadm batch
  type: list
  elements: list
  sample: [["ipvsadm", "-A", "-t", "172.16.11.210:80", "-s", "wlc"]]
not_applied:
  description: On a failed batch only, the commands whose effect is missing from the table.
  returned: failure of the ipvsadm batch
  type: list
  elements: list
  sample: [["ipvsadm", "-a", "-t", "172.16.11.210:80", "-r", "172.16.11.76:80", "-g", "-w", "1"]]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sipvs.lvs.plugins.module_utils._ipvs import (
    SERVICE_KEYS,
    Ipvsadm,
    IpvsadmError,
    diff,
    normalise_service,
    normalise_services,
    plan,
    predict,
    restore_input,
    service_key,
    sort_services,
    split_applied,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import SCHEDULERS, LvsError

_SCHEDULER_FLAGS = ["flag-1", "flag-2", "flag-3", "sh-fallback", "sh-port", "mh-fallback", "mh-port"]
# The single-service options: a service's keys plus how to apply it.
_SINGLE = (*SERVICE_KEYS, "purge_real_servers", "state")


def _service_options():
    real_server = dict(
        address=dict(type="str", required=True),
        port=dict(type="int"),
        forwarding=dict(type="str", choices=["route", "masq", "tunnel"], default="route"),
        weight=dict(type="int", default=1),
        upper_threshold=dict(type="int", default=0),
        lower_threshold=dict(type="int", default=0),
    )
    return dict(
        protocol=dict(type="str", choices=["tcp", "udp", "sctp"]),
        address=dict(type="str"),
        port=dict(type="int"),
        fwmark=dict(type="int"),
        family=dict(type="str", choices=["ipv4", "ipv6"]),
        scheduler=dict(type="str", default="wlc", choices=list(SCHEDULERS)),
        scheduler_flags=dict(type="list", elements="str", choices=_SCHEDULER_FLAGS),
        persistent=dict(type="int", default=0),
        persistence_netmask=dict(type="str"),
        persistence_engine=dict(type="str", choices=["sip"]),
        one_packet=dict(type="bool", default=False),
        real_servers=dict(type="list", elements="dict", options=real_server),
        purge_real_servers=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def build_module():
    argument_spec = _service_options()
    argument_spec.update(
        # Each element is checked by normalise_services (the rules AnsibleModule checks below
        # plus the kernel's), not by AnsibleModule's suboptions, whose validation of 1,000
        # services took more time than the rest of the module (bench/ipvs_service.py).
        services=dict(type="list", elements="dict"),
        purge=dict(type="bool", default=False),
    )
    return AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("services", name) for name in ("protocol", "address", "port", "fwmark", "real_servers")],
        required_one_of=[("services", "address", "fwmark")],
        supports_check_mode=True,
    )


def _argv(program, commands):
    return [[program, *argv] for argv in commands]


def main():
    module = build_module()
    params = module.params
    many = params["services"] is not None
    try:
        if many:
            desired = normalise_services(params["services"])
        else:
            if params["purge"]:
                raise LvsError("purge works only with services")
            desired = [normalise_service({name: params[name] for name in _SINGLE})]
        ipvsadm = Ipvsadm(module)
        before = ipvsadm.table()
    except IpvsadmError as e:
        module.fail_json(msg=str(e), **e.details())
    except LvsError as e:
        module.fail_json(msg=str(e))

    purge = params["purge"]
    commands = plan(before, desired, purge)
    after = predict(before, desired, purge)
    result = dict(changed=bool(commands), commands=_argv("ipvsadm", commands))

    if commands and not module.check_mode:
        try:
            rc, out, err = ipvsadm.restore(restore_input(commands))
            after = ipvsadm.table()
        except IpvsadmError as e:
            module.fail_json(msg=str(e), **e.details())
        except LvsError as e:
            module.fail_json(msg=str(e))
        if plan(after, desired, purge):
            applied, not_applied = split_applied(commands, after)
            module.fail_json(
                msg="ipvsadm -R applied %d of %d planned commands; the table does not match: %s"
                % (len(applied), len(commands), (err or out or "no error output").strip()),
                rc=rc,
                stdout=out,
                stderr=err,
                applied=_argv("ipvsadm", applied),
                not_applied=_argv("ipvsadm", not_applied),
                **result,
            )
        if rc != 0 or err.strip():
            module.warn("ipvsadm -R exited %s but the table matches: %s" % (rc, err.strip()))

    after = sort_services(after)
    changes = diff(before, after)
    result["service_names"] = sorted(set(changes["before"]) | set(changes["after"]))
    if module._diff:
        result["diff"] = changes
    if many:
        result["services"] = after
    else:
        key = service_key(desired[0].service)
        found = [s for s in after if service_key(s) == key]
        result["service"] = found[0] if found else None
    module.exit_json(**result)


if __name__ == "__main__":
    main()
