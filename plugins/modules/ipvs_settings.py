#!/usr/bin/python
# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ipvs_settings
short_description: Set IPVS connection timeouts and the connection sync daemon
version_added: 0.1.0
description:
  - Sets the kernel's IPVS connection timeouts (C(ipvsadm --set tcp tcpfin udp)) and starts,
    changes or stops the IPVS connection synchronisation daemons (C(ipvsadm --start-daemon)
    and C(--stop-daemon)), which copy the connection table from the active director (master)
    to the standby (backup).
  - Reads the current state with C(ipvsadm -L --timeout) and C(ipvsadm -L --daemon) and
    changes only what differs. Options left out are left as they are.
  - Virtual services are managed by M(sipvs.lvs.ipvs_service).
author:
  - sipvs.lvs contributors (@sipvs)
attributes:
  check_mode:
    details: Plans and reports exactly the commands a real run would execute.
  diff_mode:
    details: Structured before and after of RV(timeouts) and RV(sync_daemons).
extends_documentation_fragment:
  - sipvs.lvs.attributes
  - sipvs.lvs.attributes.ipvs
  - ansible.builtin.action_common_attributes
options:
  timeouts:
    description:
      - Connection timeouts in seconds. A value left out (or V(null)) is not changed.
    type: dict
    suboptions:
      tcp:
        description: Idle timeout of established TCP connections.
        type: int
      tcpfin:
        description: Timeout of TCP connections after a FIN.
        type: int
      udp:
        description: Timeout of UDP connection entries.
        type: int
  sync_master:
    description:
      - The master sync daemon, which sends connection updates (run it on the active director).
      - Left alone when not given. A running daemon whose settings differ is stopped and started again.
    type: dict
    # Also the suboptions of sync_backup (*sync_daemon), as _daemon_options() serves both in the argument spec.
    suboptions: &sync_daemon
      state:
        description: V(present) runs the daemon with these settings, V(absent) stops it.
        type: str
        choices: [present, absent]
        default: present
      interface:
        description: Interface the sync messages use (C(--mcast-interface)). Required with state V(present).
        type: str
      syncid:
        description: Sync ID, 0-255 (C(--syncid)); V(0) means every ID. Master and backup must agree.
        type: int
        default: 0
      maxlen:
        description:
          - Largest sync message payload (C(--sync-maxlen)); the kernel derives it from the MTU when not given.
          - For O(sync_backup) it is the receive buffer, which the kernel makes at least 1024 bytes; a smaller value
            is asked for (and reported) as 1024.
        type: int
      group:
        description: Multicast group (C(--mcast-group)); the kernel's default is V(224.0.0.81).
        type: str
      port:
        description: UDP port (C(--mcast-port)); the kernel's default is V(8848).
        type: int
      ttl:
        description: Multicast TTL (C(--mcast-ttl)); the kernel's default is V(1).
        type: int
  sync_backup:
    description:
      - The backup sync daemon, which receives connection updates (run it on the standby director).
        Same suboptions as O(sync_master).
    type: dict
    suboptions: *sync_daemon
notes:
  - The kernel forgets these settings at reboot; run the module at boot (or from the
    director role's service) to keep them.
seealso:
  - module: sipvs.lvs.ipvs_service
  - module: sipvs.lvs.ipvs_info
"""

EXAMPLES = r"""
- name: Timeouts for SIP over UDP and long-lived TCP
  sipvs.lvs.ipvs_settings:
    timeouts:
      tcp: 900
      tcpfin: 120
      udp: 300

- name: Active director sends its connection table
  sipvs.lvs.ipvs_settings:
    sync_master:
      interface: eth0
      syncid: 10

- name: Standby director receives it
  sipvs.lvs.ipvs_settings:
    sync_backup:
      interface: eth0
      syncid: 10

- name: Stop the master sync daemon
  sipvs.lvs.ipvs_settings:
    sync_master:
      state: absent
"""

RETURN = r"""
commands:
  description: The ipvsadm commands run (or, in check mode, that would run), as argv lists.
  returned: always
  type: list
  elements: list
  sample:
    - ["ipvsadm", "--set", "900", "120", "300"]
    - ["ipvsadm", "--start-daemon", "master", "--mcast-interface", "eth0", "--syncid", "10"]
timeouts:
  description: The connection timeouts after the run (in check mode, as they would be).
  returned: always
  type: dict
  contains:
    tcp:
      description: TCP timeout in seconds.
      type: int
    tcpfin:
      description: TCP FIN timeout in seconds.
      type: int
    udp:
      description: UDP timeout in seconds.
      type: int
  sample: {tcp: 900, tcpfin: 120, udp: 300}
sync_daemons:
  description:
    - The sync daemons after the run (in check mode, as they would be), V(null) when not running.
    - Settings the kernel chooses (maxlen, group, port, ttl) are predicted in check mode from the
      kernel's defaults and the interface MTU.
  returned: always
  type: dict
  contains:
    master:
      description: The master daemon with C(interface), C(syncid), C(maxlen), C(group), C(port), C(ttl), or V(null).
      type: dict
    backup:
      description: The backup daemon, same keys, or V(null).
      type: dict
  sample:
    master: {interface: eth0, syncid: 10, maxlen: 1472, group: 224.0.0.81, port: 8848, ttl: 1}
    backup: null
applied:
  description: On failure only, the commands that succeeded before the one that failed.
  returned: failure of an ipvsadm command
  type: list
  elements: list
  sample: []
not_applied:
  description: On failure only, the command that failed and those after it.
  returned: failure of an ipvsadm command
  type: list
  elements: list
  sample: [["ipvsadm", "--start-daemon", "master", "--mcast-interface", "eth9", "--syncid", "10"]]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sipvs.lvs.plugins.module_utils._ipvs import (
    SYNC_STATES,
    Ipvsadm,
    IpvsadmError,
    normalise_daemon,
    normalise_timeouts,
    parse_daemon,
    parse_timeout,
    plan_daemon,
    plan_timeouts,
    predict_daemon,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError


def _daemon_options():
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        interface=dict(type="str"),
        syncid=dict(type="int", default=0),
        maxlen=dict(type="int"),
        group=dict(type="str"),
        port=dict(type="int"),
        ttl=dict(type="int"),
    )


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            timeouts=dict(
                type="dict",
                options=dict(tcp=dict(type="int"), tcpfin=dict(type="int"), udp=dict(type="int")),
            ),
            sync_master=dict(type="dict", options=_daemon_options()),
            sync_backup=dict(type="dict", options=_daemon_options()),
        ),
        required_one_of=[("timeouts", "sync_master", "sync_backup")],
        supports_check_mode=True,
    )


def _read(ipvsadm):
    timeouts = parse_timeout(ipvsadm.output(["-L", "--timeout"], "reading timeouts (ipvsadm -L --timeout)"))
    daemons = parse_daemon(ipvsadm.output(["-L", "--daemon"], "reading sync daemons (ipvsadm -L --daemon)"))
    return timeouts, daemons


def _mtu(interface):
    try:
        with open(os.path.join("/sys/class/net", interface, "mtu")) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def main():
    module = build_module()
    params = module.params
    try:
        want_timeouts = normalise_timeouts(params["timeouts"])
        want_daemons = {name: normalise_daemon(params["sync_" + name], name) for name in SYNC_STATES}
        ipvsadm = Ipvsadm(module)
        timeouts, daemons = _read(ipvsadm)
    except IpvsadmError as e:
        module.fail_json(msg=str(e), **e.details())
    except LvsError as e:
        module.fail_json(msg=str(e))

    commands = plan_timeouts(timeouts, want_timeouts)
    for name in SYNC_STATES:
        commands += plan_daemon(name, daemons[name], want_daemons[name])
    after_timeouts = dict(timeouts, **(want_timeouts or {}))
    after_daemons = {}
    for name in SYNC_STATES:
        want = want_daemons[name]
        mtu = _mtu(want["interface"]) if want and want.get("interface") else None
        after_daemons[name] = predict_daemon(daemons[name], want, mtu)
    result = dict(changed=bool(commands), commands=[["ipvsadm", *argv] for argv in commands])

    if commands and not module.check_mode:
        for index, argv in enumerate(commands):
            try:
                ipvsadm.run(argv, "running ipvsadm %s" % " ".join(argv))
            except IpvsadmError as e:
                module.fail_json(
                    msg=str(e),
                    applied=result["commands"][:index],
                    not_applied=result["commands"][index:],
                    **dict(result, **e.details()),
                )
        try:
            after_timeouts, after_daemons = _read(ipvsadm)
        except IpvsadmError as e:
            module.fail_json(msg=str(e), **e.details())

    result.update(timeouts=after_timeouts, sync_daemons=after_daemons)
    if module._diff:
        result["diff"] = dict(
            before=dict(timeouts=timeouts, sync_daemons=daemons),
            after=dict(timeouts=after_timeouts, sync_daemons=after_daemons),
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
