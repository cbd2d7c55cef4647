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
  - The whole resulting file is validated before anything is written, and the new text is read back and
    validated once more, so the module never writes a file it would itself refuse. On any change C(serial_no)
    is incremented (and added as V(1) when the file has none); at V(2147483647), the largest value Piranha
    reads, it wraps to V(1). Without a change it is left alone.
  - It refuses, with the file and line (or the option) in the message, what Piranha cannot load - an IPv6
    address (Piranha is IPv4 only), control characters in a name or value (tab is fine, and CR LF only in
    C(send) and C(expect)), a server on its virtual's own address, two servers of one virtual on the same
    address and port (a server's port defaults to the virtual's, which defaults to V(80); a service name and
    its number are not recognised as the same port), a C(port) that is neither a number nor a service name,
    values longer than 4096 characters, numbers longer than 20 digits, a UTF-8 byte order mark and a CR that
    does not end a line (a file with CR line ends).
  - Values in O(globals), O(options), O(servers) and O(config) are typed as in RV(config) -
    booleans are V(0) or V(1) (V(true) and V(false) are accepted), numbers are integers,
    C(port) is a number or a service name such as V(http), everything else is a string.
    C(send) and C(expect) hold the real characters (a YAML V("\\r\\n") is CR LF); the module
    quotes and escapes them in the file.
author:
  - sipvs.lvs contributors (@sipvs)
extends_documentation_fragment:
  - sipvs.lvs.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
options:
  path:
    description:
      - The lvs.cf file. It must be a regular file, or a symlink to one; directories, FIFOs, character and block
        devices and sockets are refused from what C(lstat) says, without being opened.
      - A file larger than 16 MiB is refused before it is read, and so is an empty O(path).
      - With O(state=present) a missing file is created.
      - A symlink is resolved once; the file it points to is read, backed up, replaced and given the file
        attributes, so a symlink swapped during the run cannot redirect the write.
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
  - The file is written to a temporary file in its own directory, flushed to disk with C(fsync), and moved into
    place (an atomic rename).
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

import contextlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sipvs.lvs.plugins.module_utils._lvs_cf import MAX_FILE_SIZE, check_file, plan
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


def _where(path, real):
    """The file as messages name it: the path given, and what it resolves to when that differs."""
    return path if real == path else "%s (%s)" % (path, real)


def _check_regular(module, doing, where, path, info):
    """fail_json unless ``info`` (an lstat result) is a regular file within the size cap."""
    try:
        check_file(info.st_mode, info.st_size)
    except LvsError as exc:
        module.fail_json(msg="cannot %s %s: %s" % (doing, where, exc.message), path=path, key="path")


def read_file(module, path, real):
    """The text of ``real`` (``path`` resolved), or None when it does not exist.

    lstat() comes first, so only a regular file within the size cap is opened: a FIFO cannot
    block the module and a device is never read. O_NOFOLLOW, O_NONBLOCK and the inode check
    after open() cover a file swapped between lstat() and open().
    """
    where = _where(path, real)
    try:
        info = os.lstat(real)
    except FileNotFoundError:
        return None
    except OSError as exc:
        module.fail_json(msg="cannot read %s: %s" % (where, exc), path=path)
    _check_regular(module, "read", where, path, info)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            opened = os.fstat(handle.fileno())
            if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
                module.fail_json(msg="cannot read %s: it was replaced while being opened" % where, path=path)
            data = handle.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        module.fail_json(msg="cannot read %s: %s" % (where, exc), path=path)
    if len(data) > MAX_FILE_SIZE:
        module.fail_json(
            msg="cannot read %s: it grew over %d bytes while being read" % (where, MAX_FILE_SIZE), path=path
        )
    return data.decode(ENCODING, ERRORS)


def write_file(module, path, real, text):
    """Write ``text`` to a temporary file next to ``real``, fsync it, and move it over ``real``.

    The temporary file is in the target's directory so that the move is a rename on one
    filesystem: what fsync() put on disk is what becomes the file.
    """
    where = _where(path, real)
    try:
        info = os.lstat(real)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        module.fail_json(msg="cannot write %s: %s" % (where, exc), path=path)
    if info is not None:  # replaced by a device, FIFO or link since it was read
        _check_regular(module, "write", where, path, info)
    tmp = None
    try:
        data = text.encode(ENCODING, ERRORS)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(real), prefix=".lvs.cf.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it the file
    except (OSError, UnicodeError) as exc:
        _remove(tmp)
        module.fail_json(msg="cannot write a temporary file for %s: %s" % (where, exc), path=path)
    try:
        module.atomic_move(tmp, real)
    except Exception as exc:  # ansible-core 2.19 raises a bare Exception where older ones call fail_json
        _remove(tmp)
        module.fail_json(msg="cannot replace %s: %s" % (where, exc), path=path)


def _remove(tmp):
    """Remove the temporary file of a failed write, if it is still there."""
    if tmp is not None:
        # Best effort: the failure being reported matters more than a stray temporary file.
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def main():
    module = build_module()
    params = module.params
    path = params["path"]
    state = params["state"]
    if not path or "\x00" in path:
        module.fail_json(msg="path must be a file name, got %r" % path, path=path, key="path")
    # Resolved once and used to read, back up and replace: a symlink swapped in between cannot redirect the write.
    real = os.path.realpath(path)

    before = read_file(module, path, real)
    if before is None and state == "read":
        module.fail_json(msg="%s does not exist" % path, path=path)
    if before is None and state == "present" and not os.path.isdir(os.path.dirname(real)):
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
            output["backup_file"] = module.backup_local(real)
        # Through a symlink, the file it points to is replaced, not the link.
        write_file(module, path, real, result.text)
    if state != "read" and (before is not None or (changed and not module.check_mode)):
        file_args = module.load_file_common_arguments(params, path=real)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    module.exit_json(changed=changed, **output)


if __name__ == "__main__":
    main()
