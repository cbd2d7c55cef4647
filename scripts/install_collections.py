"""Unpack named collections from a downloaded ``ansible`` wheel.

Galaxy is unreachable from our machines, but PyPI's ``ansible`` package
carries every community collection; we take only the ones we need.
"""

import pathlib
import sys
import zipfile


def wanted_names(list_file):
    names = []
    for line in pathlib.Path(list_file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def unpack(wheel, names, dest):
    prefixes = ["ansible_collections/%s/" % n.replace(".", "/") for n in names]
    found = set()
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            for name, prefix in zip(names, prefixes):
                if member.startswith(prefix):
                    archive.extract(member, dest)
                    found.add(name)
    missing = sorted(set(names) - found)
    if missing:
        raise SystemExit("collections not in %s: %s" % (wheel, ", ".join(missing)))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: install_collections.py WHEEL LIST DEST")
    unpack(sys.argv[1], wanted_names(sys.argv[2]), sys.argv[3])
