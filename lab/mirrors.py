"""The Debian mirrors the lab uses are the host's own: the ones its apt sources name.

The package proxy (lab/proxy.py) and the image builds (lab/images.py) take them
from here, so the lab works wherever the host's apt works and no file in the
repository names a mirror's host. Both one-line (.list) and deb822 (.sources)
files are read, as apt reads them.
"""

import functools
import pathlib

from lab.shell import LabError

APT_SOURCES = pathlib.Path("/etc/apt/sources.list")
APT_SOURCES_DIR = pathlib.Path("/etc/apt/sources.list.d")
OS_RELEASE = pathlib.Path("/etc/os-release")


def one_line_entries(text):
    """(types, uris, suites) of each `deb URI SUITE COMPONENTS...` line."""
    entries = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 3 and words[1].startswith("["):
            # deb [signed-by=... arch=...] URI SUITE ...: the options end at the word with "]".
            end = next((i for i, word in enumerate(words) if word.endswith("]")), len(words))
            words = [words[0], *words[end + 1 :]]
        if len(words) >= 3:
            entries.append(([words[0]], [words[1]], [words[2]]))
    return entries


def deb822_entries(text):
    """(types, uris, suites) of each enabled stanza of a .sources file."""
    entries = []
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.split()
        if fields.get("enabled", ["yes"])[0].lower() == "no":
            continue
        if fields.get("types") and fields.get("uris") and fields.get("suites"):
            entries.append((fields["types"], fields["uris"], fields["suites"]))
    return entries


def choose(entries, codename):
    """{'debian': URI, 'security': URI or None}: the first plain-http binary source of the host's
    release (or sid) and of its security suite. The lab's hosts reach them through the proxy, which
    speaks http only."""
    found = {"debian": None, "security": None}
    for types, uris, suites in entries:
        if "deb" not in types:
            continue
        for uri in uris:
            if not uri.startswith("http://"):
                continue
            if found["debian"] is None and (codename in suites or "sid" in suites or "unstable" in suites):
                found["debian"] = uri.rstrip("/")
            if found["security"] is None and codename + "-security" in suites:
                found["security"] = uri.rstrip("/")
    return found


def codename(os_release_text):
    for line in os_release_text.splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


def source_files():
    files = [APT_SOURCES] if APT_SOURCES.exists() else []
    files += sorted(APT_SOURCES_DIR.glob("*.list")) + sorted(APT_SOURCES_DIR.glob("*.sources"))
    return files


@functools.lru_cache(maxsize=1)
def host_mirrors():
    """The host's Debian mirror and security mirror, read once."""
    entries = []
    files = source_files()
    for path in files:
        text = path.read_text()
        entries += deb822_entries(text) if path.suffix == ".sources" else one_line_entries(text)
    release = codename(OS_RELEASE.read_text()) if OS_RELEASE.exists() else ""
    found = choose(entries, release)
    if found["debian"] is None:
        raise LabError(
            "no http:// Debian mirror for %s in the host's apt sources (%s): the lab's package proxy and "
            "images use the host's own mirror" % (release or "this release", ", ".join(map(str, files)) or "none")
        )
    return found


def without_scheme(uri):
    """mirror.example.net/debian for http://mirror.example.net/debian: how apt-cacher-ng remap keys name it."""
    return uri.split("://", 1)[1]
