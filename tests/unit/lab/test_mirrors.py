"""lab/mirrors.py: the lab's Debian mirrors are the ones the host's apt sources name."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))

from lab import mirrors, proxy
from lab.shell import LabError

# This machine's /etc/apt/sources.list.d/debian.sources (Debian 12 on a cloud image).
DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example.net/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.net/debian-security/
Suites: bookworm-security
Components: main
"""

ONE_LINE = """\
# a comment
deb-src http://src.example.org/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://tls.example.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/x.gpg] http://apt.example.org/debian bookworm main contrib  # trailing
deb http://security.example.org/debian-security bookworm-security main
"""


def test_deb822_stanzas_give_the_mirror_and_the_security_mirror():
    found = mirrors.choose(mirrors.deb822_entries(DEB822), "bookworm")
    assert found == {
        "debian": "http://mirror.example.net/debian",
        "security": "http://mirror.example.net/debian-security",
    }


def test_one_line_sources_skip_source_packages_https_and_options():
    found = mirrors.choose(mirrors.one_line_entries(ONE_LINE), "bookworm")
    assert found == {
        "debian": "http://apt.example.org/debian",
        "security": "http://security.example.org/debian-security",
    }


def test_a_disabled_stanza_and_another_release_are_not_used():
    text = "Types: deb\nURIs: http://old.example.org/debian\nSuites: bookworm\nEnabled: no\n\n" + DEB822.replace(
        "bookworm", "trixie"
    )
    assert mirrors.choose(mirrors.deb822_entries(text), "bookworm") == {"debian": None, "security": None}
    assert mirrors.choose(mirrors.deb822_entries(text), "trixie")["debian"] == "http://mirror.example.net/debian"


def test_a_sid_host_uses_its_unstable_mirror():
    found = mirrors.choose(mirrors.one_line_entries("deb http://m.example.org/debian sid main\n"), "")
    assert found == {"debian": "http://m.example.org/debian", "security": None}


def test_codename_from_os_release():
    assert mirrors.codename('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n') == "bookworm"
    assert mirrors.codename("ID=debian\n") == ""


def test_a_host_without_a_debian_mirror_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "other.sources").write_text(DEB822.replace("http://", "https://"))
    (tmp_path / "os-release").write_text("VERSION_CODENAME=bookworm\n")
    monkeypatch.setattr(mirrors, "APT_SOURCES", tmp_path / "sources.list")
    monkeypatch.setattr(mirrors, "APT_SOURCES_DIR", tmp_path / "sources.list.d")
    monkeypatch.setattr(mirrors, "OS_RELEASE", tmp_path / "os-release")
    mirrors.host_mirrors.cache_clear()
    try:
        with pytest.raises(
            LabError, match=r"no http:// Debian mirror for bookworm in the host's apt sources \(.*other"
        ):
            mirrors.host_mirrors()
    finally:
        mirrors.host_mirrors.cache_clear()


def test_the_proxy_serves_the_host_mirrors_only():
    lines = proxy.remaps({"debian": "http://mirror.example.net/debian", "security": None})
    assert lines == [
        "Remap-debrep: file:deb_mirror*.gz /debian mirror.example.net/debian ; http://mirror.example.net/debian/"
    ]
    both = proxy.remaps({"debian": "http://m.example/debian", "security": "http://s.example/debian-security"})
    assert both[1] == "Remap-secdeb: /debian-security s.example/debian-security ; http://s.example/debian-security/"
