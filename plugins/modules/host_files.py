#!/usr/bin/python
# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_files
short_description: Write a role's directories and files in one module run
version_added: 0.1.0
description:
  - Creates directories and writes files with the given content, mode, owner and group, changing
    only what differs, all in one module run on the host.
  - The content is rendered on the controller (for example with the P(ansible.builtin.template#lookup)
    lookup); each file is written to a temporary file in its directory and renamed over the old one.
  - A path that exists as another kind (a symlink, a directory where a file is wanted) is refused.
author:
  - sipvs.lvs contributors (@sipvs)
attributes:
  check_mode:
    support: full
    details: Reports exactly the paths a real run would change.
  diff_mode:
    support: full
    details: One diff per changed path (the content, or the mode and owner).
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  directories:
    description: Directories, created (not their parents) or given their mode and owner, before the files.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mode:
        description: Octal mode as a string.
        type: str
        default: "0755"
      owner: &owner
        description: Owner's name.
        type: str
        default: root
      group: &group
        description: Group's name.
        type: str
        default: root
  files:
    description: Regular files and their whole content.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path; its directory must exist (or be in O(directories)).
        type: path
        required: true
      content:
        description: The file's text (UTF-8).
        type: str
        required: true
      mode:
        description: Octal mode as a string.
        type: str
        default: "0644"
      owner: *owner
      group: *group
"""

EXAMPLES = r"""
- name: Write the firewall-mark files
  sipvs.lvs.host_files:
    directories:
      - path: /etc/sipvs
    files:
      - path: /etc/sipvs/fwmark-inet.rules
        content: "{{ lookup('ansible.builtin.template', 'fwmark.rules.j2') }}"
      - path: /usr/local/sbin/sipvs-fwmark
        content: "{{ lookup('ansible.builtin.template', 'sipvs-fwmark.sh.j2') }}"
        mode: "0755"
  register: written
"""

RETURN = r"""
changed_paths:
  description: The paths created or changed (content, mode or owner), in the order given.
  returned: always
  type: list
  elements: str
"""

import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sipvs.lvs.plugins.module_utils._files import (
    FilesError,
    describe,
    diff_of,
    normalise_entry,
    plan_files,
)

ENTRY = dict(
    path=dict(type="path", required=True),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="root"),
)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            directories=dict(
                type="list", elements="dict", default=[], options=dict(ENTRY, mode=dict(type="str", default="0755"))
            ),
            files=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(ENTRY, mode=dict(type="str", default="0644"), content=dict(type="str", required=True)),
            ),
        ),
        supports_check_mode=True,
    )


def _ids(entry):
    try:
        return pwd.getpwnam(entry["owner"]).pw_uid, grp.getgrnam(entry["group"]).gr_gid
    except KeyError:
        raise FilesError("%s: no owner or group %s:%s" % (entry["path"], entry["owner"], entry["group"])) from None


def _read(path, kind):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    current = dict(kind=describe(st.st_mode), mode=st.st_mode, uid=st.st_uid, gid=st.st_gid)
    if current["kind"] == "file" and kind == "file":
        with open(path, "rb") as handle:
            current["content"] = handle.read()
    return current


def _apply(change):
    entry = change["entry"]
    uid, gid = entry["uid"], entry["gid"]
    if entry["kind"] == "directory":
        if change["create"]:
            os.mkdir(entry["path"], entry["mode"])
        os.chown(entry["path"], uid, gid)
        os.chmod(entry["path"], entry["mode"])
        return
    if not (change["create"] or change["content"]):
        os.chown(entry["path"], uid, gid)
        os.chmod(entry["path"], entry["mode"])
        return
    directory, name = os.path.split(entry["path"])
    fd, temporary = tempfile.mkstemp(prefix=".%s." % name, dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(entry["content"])
            handle.flush()
            os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), entry["mode"])
            os.fsync(handle.fileno())
        os.replace(temporary, entry["path"])
    except BaseException:
        os.unlink(temporary)
        raise


def main():
    module = build_module()
    try:
        wanted = [normalise_entry(e, "directory", i) for i, e in enumerate(module.params["directories"])]
        wanted += [normalise_entry(e, "file", i) for i, e in enumerate(module.params["files"])]
        for entry in wanted:
            entry["uid"], entry["gid"] = _ids(entry)
        found = {entry["path"]: _read(entry["path"], entry["kind"]) for entry in wanted}
        changes = plan_files(wanted, found)
    except (FilesError, OSError) as e:
        module.fail_json(msg=str(e))
    result = dict(changed=bool(changes), changed_paths=[change["path"] for change in changes])
    if module._diff:
        result["diff"] = [diff_of(change, found[change["path"]]) for change in changes]
    if not module.check_mode:
        for change in changes:
            try:
                _apply(change)
            except OSError as e:
                module.fail_json(msg="writing %s: %s" % (change["path"], e), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
