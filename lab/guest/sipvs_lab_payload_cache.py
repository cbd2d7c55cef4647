"""Ansible's module payloads imported from a cached, compiled copy: the lab's directors only.

Every Ansible module run brings its module_utils in a zip (AnsiballZ), and
Python imports from a zip slowly and never keeps the compiled code. Under
qemu's software emulation that is a large share of every task on a director
(measured on a lab director, ansible.builtin.stat: 3.4 s from the zip, 2.0 s
from the same files, compiled; 13 tasks on both directors: 81-97 s without,
57-65 s with). This path hook, loaded by a .pth file in the
director image, unpacks each payload once into a root-only directory named by
the SHA-256 of its files (names and contents: the same payload in every run),
and imports from there, so Python compiles each file once per director.

What runs is exactly what the zip holds. Any doubt (not an Ansible payload, an
unsafe cache directory, an error) leaves the import to Python's own zip
importer. The collection does not depend on this; it only makes the lab's
converges cheaper.
"""

import contextlib
import hashlib
import importlib.machinery
import os
import shutil
import stat
import sys
import zipfile

CACHE_DIR = "/var/cache/sipvs-lab-payloads"
# The wrapper adds a sitecustomize.py naming this run's temporary path: not part of the payload.
RUN_SPECIFIC = {"sitecustomize.py"}
LOADERS = [
    (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
    (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES),
    (importlib.machinery.SourcelessFileLoader, importlib.machinery.BYTECODE_SUFFIXES),
]


def _cache_is_safe():
    """Only a directory owned by this (root) user that nobody else can write."""
    try:
        info = os.lstat(CACHE_DIR)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _payload_and_inner(path):
    """('/tmp/x/ansible_stat_payload.zip', 'ansible/module_utils') for a path into a payload."""
    head, marker, inner = path.partition("_payload.zip")
    if not marker or (inner and not inner.startswith("/")):
        return None
    payload = head + marker
    if not os.path.basename(payload).startswith("ansible_") or not os.path.isfile(payload):
        return None
    return payload, inner.lstrip("/")


def _unpacked(payload):
    """The payload's files in the cache, unpacked on first use; its directory."""
    with zipfile.ZipFile(payload) as archive:
        entries = sorted(
            (info for info in archive.infolist() if info.filename not in RUN_SPECIFIC), key=lambda i: i.filename
        )
        digest = hashlib.sha256()
        contents = []
        for info in entries:
            if info.filename.startswith("/") or ".." in info.filename.split("/"):
                raise ImportError("unsafe name in %s" % payload)
            data = b"" if info.is_dir() else archive.read(info)
            digest.update(b"%d:%s\0%d:" % (len(info.filename), info.filename.encode(), len(data)) + data)
            contents.append((info, data))
    directory = os.path.join(CACHE_DIR, digest.hexdigest())
    if os.path.isdir(directory):
        return directory
    unpacking = "%s.%d.tmp" % (directory, os.getpid())
    for info, data in contents:
        target = os.path.join(unpacking, info.filename)
        if info.is_dir():
            os.makedirs(target, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            out.write(data)
    try:
        os.rename(unpacking, directory)
    except OSError:  # another run unpacked the same payload first
        shutil.rmtree(unpacking, ignore_errors=True)
        if not os.path.isdir(directory):
            raise
    return directory


def payload_finder(path):
    """sys.path_hooks entry: a FileFinder on the cached copy of an Ansible payload path."""
    found = _payload_and_inner(path)
    if found is None or not _cache_is_safe():
        raise ImportError("not an Ansible payload")
    payload, inner = found
    try:
        directory = os.path.join(_unpacked(payload), inner)
    except Exception as error:  # anything but ImportError would break the import itself
        raise ImportError(str(error)) from error
    return importlib.machinery.FileFinder(directory, *LOADERS)


def install():
    if os.geteuid() != 0 or payload_finder in sys.path_hooks:
        return
    with contextlib.suppress(FileExistsError, PermissionError):
        os.mkdir(CACHE_DIR, 0o700)
    sys.path_hooks.insert(0, payload_finder)
    sys.path_importer_cache.clear()
