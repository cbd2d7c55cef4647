#!/usr/bin/python
# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lvs_cf
short_description: Manage Piranha's lvs.cf (global keys, virtual services, real servers)
version_added: 0.1.0
description:
  - Reads, edits and writes C(/etc/sysconfig/ha/lvs.cf), the configuration of Piranha's C(pulse),
    C(lvsd) and C(nanny).
  - Edits keep the file as it is written. Lines that do not change stay byte for byte (comments, blank lines,
    key order, tabs, quotes); a changed value is rewritten in place; new lines follow the indentation of the
    block they go into.
  - Repeated keys count as in Piranha, the last one wins. Unknown keys and syntax errors fail with the file,
    line and key, and the file is left alone.
  - The whole resulting file is validated before anything is written. On any change C(serial_no) is incremented
    (and added as V(1) when the file has none); without a change it is left alone.
  - Values in O(globals), O(options), O(servers) and O(config) are typed as in RV(config) -
    booleans are V(0) or V(1) (V(true) and V(false) are accepted), numbers are integers,
    C(port) is a number or a service name such as V(http), everything else is a string.
    C(send) and C(expect) hold the real characters (a YAML V("\\r\\n") is CR LF); the module
    quotes and escapes them in the file.
author:
  - sipvs.lvs contributors (@sipvs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  path:
    description:
      - The lvs.cf file.
      - With O(state=present) a missing file is created.
    type: path
    default: /etc/sysconfig/ha/lvs.cf
  state:
    description:
      - V(present) sets what O(globals), O(virtual) (with O(options) and O(servers)) or O(config) describe.
      - V(absent) removes the O(virtual) block.
      - V(read) changes nothing and returns RV(config); it takes none of O(globals), O(virtual), O(options),
        O(servers) and O(config).
    type: str
    choices: [present, absent, read]
    default: present
  backup:
    description:
      - Keep a time-stamped copy of the file before changing it (see RV(backup_file)).
    type: bool
    default: false
  globals:
    description:
      - Global keys to set, for example C(keepalive) and C(deadtime). Other global keys are left as they are.
      - A key set to V(null) is removed.
      - C(serial_no) is ignored here; the module manages it.
      - Mutually exclusive with O(config).
    type: dict
  virtual:
    description:
      - Name of a C(virtual) block (one word). It is created when missing.
      - With O(state=absent) the block is removed.
      - Mutually exclusive with O(config).
    type: str
  options:
    description:
      - Keys of the O(virtual) block to set, for example C(address) (V(172.16.11.211 eth0:2)) and C(fwmark).
        Other keys of the block are left as they are; a key set to V(null) is removed.
      - C(address) is V("IP dev:alias"); C(pmask) needs C(persistent) greater than V(0).
    type: dict
  servers:
    description:
      - The real servers of the O(virtual) block. When given, the block's servers become exactly these.
      - Each item is a dict with C(name) and the server keys C(address), C(active), C(port) and C(weight);
        a server has exactly the keys given.
    type: list
    elements: dict
  config:
    description:
      - The whole file as data, in the shape of RV(config) - C(globals), C(virtuals) (each with C(name),
        C(options) and C(servers)) and optionally C(failovers).
      - The file comes to say exactly this; blocks and keys that already match stay where they are.
        C(failover) blocks are left alone unless C(failovers) is given. C(serial_no) is ignored.
      - The RV(config) that this module returns is accepted here and changes nothing.
      - Mutually exclusive with O(globals), O(virtual), O(options) and O(servers).
    type: dict
notes:
  - The file is written to a temporary file and moved into place.
  - Piranha itself must be restarted (C(service pulse restart)) to use the new file, and the backup director
    needs the same file.
seealso:
  - name: ipvsadm(8)
    description: The IPVS administration tool that Piranha's lvsd drives.
    link: https://man7.org/linux/man-pages/man8/ipvsadm.8.html
  - name: keepalived.conf(5)
    description: The modern replacement; the same services written for keepalived.
    link: https://www.keepalived.org/manpage.html
"""

EXAMPLES = r"""
- name: Add the SIP service of the tutorial (firewall mark 3) with its three Asterisk servers
  sipvs.lvs.lvs_cf:
    virtual: sipserver
    options:
      active: 1
      address: 172.16.11.211 eth0:2
      vip_nmask: 0.0.0.0
      fwmark: 3
      port: 5060
      persistent: 400
      expect: OK
      use_regex: 0
      send_program: /usr/local/bin/test-sip-server.sh %h
      load_monitor: none
      scheduler: wlc
      protocol: udp
      timeout: 6
      reentry: 15
      quiesce_server: 0
    servers:
      - {name: SIP-Server-01, address: 172.16.11.76, active: 1, weight: 1}
      - {name: SIP-Server-02, address: 172.16.11.77, active: 1, weight: 1}
      - {name: SIP-Server-03, address: 172.16.11.78, active: 1, weight: 1}
    backup: true

- name: Turn on the connection sync daemon
  sipvs.lvs.lvs_cf:
    globals:
      syncdaemon: 1
      syncd_iface: eth0
      syncd_id: 0

- name: Drop persistence from the SIP service
  sipvs.lvs.lvs_cf:
    virtual: sipserver
    options:
      persistent: null

- name: Remove the web service
  sipvs.lvs.lvs_cf:
    virtual: web01
    state: absent

- name: Read the file
  sipvs.lvs.lvs_cf:
    state: read
  register: lvs

- name: Write the whole file from data (what the director role does)
  sipvs.lvs.lvs_cf:
    path: /etc/sysconfig/ha/lvs.cf
    config: "{{ lvs.config }}"
    owner: root
    group: root
    mode: "0644"
"""

RETURN = r"""
config:
  description:
    - The file after the change (in check mode, as it would be), as data. Accepted back as O(config).
    - Booleans are V(0)/V(1), numbers integers, C(port) a number or a service name, everything else a string;
      C(send) and C(expect) are unescaped.
  returned: success
  type: dict
  contains:
    globals:
      description: The global keys as the file sets them (the last of repeated keys).
      type: dict
      returned: success
      sample: {"serial_no": 71, "primary": "172.16.11.74", "network": "direct", "heartbeat": 1}
    virtuals:
      description: The C(virtual) blocks in file order.
      type: list
      elements: dict
      returned: success
      contains:
        name:
          description: The block's name.
          type: str
          returned: success
        options:
          description: The block's keys.
          type: dict
          returned: success
          sample: {"address": "172.16.11.210 eth0:1", "port": 80, "send": "GET / HTTP/1.0\r\n\r\n"}
        servers:
          description: The block's C(server) blocks, each a dict of C(name) and its keys.
          type: list
          elements: dict
          returned: success
          sample: [{"name": "server-01", "address": "172.16.11.76", "active": 1, "port": 80, "weight": 1}]
    failovers:
      description: The C(failover) blocks, each with C(name) and C(options) (string values), kept as they are.
      type: list
      elements: dict
      returned: success
serial_no:
  description: The file's C(serial_no) after the change, or V(null) when the file has none.
  returned: success
  type: int
  sample: 71
backup_file:
  description: The copy of the file made before the change.
  returned: changed and O(backup=true)
  type: str
  sample: /etc/sysconfig/ha/lvs.cf.12345.2026-11-24@17:00:00~
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sipvs.lvs.plugins.module_utils._lvs_cf import plan
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError

ENCODING = "utf-8"
ERRORS = "surrogateescape"


def build_module():
    return AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/etc/sysconfig/ha/lvs.cf"},
            "state": {"type": "str", "choices": ["present", "absent", "read"], "default": "present"},
            "backup": {"type": "bool", "default": False},
            "globals": {"type": "dict"},
            "virtual": {"type": "str"},
            "options": {"type": "dict"},
            "servers": {"type": "list", "elements": "dict"},
            "config": {"type": "dict"},
        },
        mutually_exclusive=[
            ["config", "globals"],
            ["config", "virtual"],
            ["config", "options"],
            ["config", "servers"],
        ],
        required_by={"options": "virtual", "servers": "virtual"},
        required_if=[
            ["state", "present", ["globals", "virtual", "config"], True],
            ["state", "absent", ["virtual"]],
        ],
        add_file_common_args=True,
        supports_check_mode=True,
    )


def read_file(module, path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode(ENCODING, ERRORS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        module.fail_json(msg="cannot read %s: %s" % (path, exc), path=path)


def write_file(module, path, text):
    """Write ``text`` to a temporary file and move it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=module.tmpdir, prefix="lvs.cf.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode(ENCODING, ERRORS))
    except OSError as exc:
        module.fail_json(msg="cannot write a temporary file for %s: %s" % (path, exc), path=path)
    module.atomic_move(tmp, os.path.abspath(path))


def main():
    module = build_module()
    params = module.params
    path = params["path"]
    state = params["state"]

    before = read_file(module, path)
    if before is None and state == "read":
        module.fail_json(msg="%s does not exist" % path, path=path)
    if before is None and state == "present" and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        module.fail_json(msg="cannot create %s: its directory does not exist" % path, path=path)

    try:
        result = plan(
            before or "",
            path,
            state=state,
            globals_=params["globals"],
            virtual=params["virtual"],
            options=params["options"],
            servers=params["servers"],
            config=params["config"],
        )
    except LvsError as exc:
        module.fail_json(msg=str(exc), path=path, line=exc.line, key=exc.key)

    changed = result.changed
    output = {"config": result.config, "serial_no": result.serial_no}
    if changed and module._diff:
        output["diff"] = {
            "before": before or "",
            "after": result.text,
            "before_header": path,
            "after_header": path,
        }
    if changed and not module.check_mode:
        if params["backup"] and before is not None:
            output["backup_file"] = module.backup_local(path)
        # Through a symlink, the file it points to is replaced, not the link.
        write_file(module, os.path.realpath(path), result.text)
    if state != "read" and (before is not None or (changed and not module.check_mode)):
        file_args = module.load_file_common_arguments(params)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    module.exit_json(changed=changed, **output)


if __name__ == "__main__":
    main()
