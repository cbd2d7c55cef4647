# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host_files module must change: pure decisions on recorded state.

A role's files are written in one module run instead of two per file
(template/copy run stat, then file for the attributes): on a TCG lab
director a module run costs ~3.7 s. The module reads each path's state,
plan_files() says what differs, the module applies it.
"""

from __future__ import annotations

import stat

KINDS = ("file", "directory")


class FilesError(Exception):
    pass


def normalise_entry(entry, kind, index):
    """One wanted path: absolute, no '..', mode as an int; names the option and index when wrong."""
    where = "%s[%d]" % ("files" if kind == "file" else "directories", index)
    path = entry.get("path") or ""
    if not path.startswith("/") or "/../" in path + "/" or "\0" in path:
        raise FilesError("%s.path must be an absolute path without '..': %r" % (where, path))
    try:
        mode = int(str(entry["mode"]), 8)
    except (TypeError, ValueError):
        raise FilesError("%s.mode must be an octal string such as '0644': %r" % (where, entry.get("mode"))) from None
    if mode & ~0o7777:
        raise FilesError("%s.mode is out of range: %r" % (where, entry["mode"]))
    wanted = dict(path=path.rstrip("/") or "/", kind=kind, mode=mode, owner=entry["owner"], group=entry["group"])
    if kind == "file":
        wanted["content"] = entry.get("content", "").encode("utf-8")
    return wanted


def describe(st_mode):
    if stat.S_ISDIR(st_mode):
        return "directory"
    if stat.S_ISREG(st_mode):
        return "file"
    if stat.S_ISLNK(st_mode):
        return "symlink"
    return "special file"


def plan_files(wanted, found):
    """wanted: normalised entries (directories first, in order); found: path -> None (absent) or
    dict(kind, mode, uid, gid, content for files) with wanted uid/gid resolved in 'uid'/'gid'
    of the entry. Returns the changes, each dict(path, entry, create, content, mode, owner)."""
    changes = []
    for entry in wanted:
        current = found.get(entry["path"])
        if current is None:
            changes.append(dict(path=entry["path"], entry=entry, create=True, content=True, mode=True, owner=True))
            continue
        if current["kind"] != entry["kind"]:
            raise FilesError(
                "%s is a %s, not a %s: refusing to replace it" % (entry["path"], current["kind"], entry["kind"])
            )
        change = dict(
            path=entry["path"],
            entry=entry,
            create=False,
            content=entry["kind"] == "file" and current["content"] != entry["content"],
            mode=stat.S_IMODE(current["mode"]) != entry["mode"],
            owner=(current["uid"], current["gid"]) != (entry["uid"], entry["gid"]),
        )
        if change["content"] or change["mode"] or change["owner"]:
            changes.append(change)
    return changes


def diff_of(change, current):
    """Ansible's diff for one change: the text before and after, or the attributes."""
    entry = change["entry"]
    before = {} if current is None else current
    if entry["kind"] == "file" and change["content"]:
        return dict(
            before_header=entry["path"],
            after_header=entry["path"],
            before=before.get("content", b"").decode("utf-8", "replace"),
            after=entry["content"].decode("utf-8", "replace"),
        )
    return dict(
        before_header=entry["path"],
        after_header=entry["path"],
        before=""
        if current is None
        else "mode %04o uid %d gid %d\n" % (stat.S_IMODE(before["mode"]), before["uid"], before["gid"]),
        after="mode %04o uid %d gid %d\n" % (entry["mode"], entry["uid"], entry["gid"]),
    )
