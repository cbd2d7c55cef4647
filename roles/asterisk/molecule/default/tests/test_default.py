"""Verify the asterisk role against the running container: sockets, files,
and real SIP exchanges (OPTIONS, REGISTER with digest auth, INVITE/BYE)."""

import base64
import json
import os
import pathlib
import re

import pytest

NAME = "sipvs-molecule-asterisk-sid"
VIP = "172.16.11.211"
HERE = pathlib.Path(__file__).resolve().parent
# sipclient.py builds and reads its messages with the collection's SIP code: both files go into
# one directory in the container, where python3 finds _sip beside the script it runs.
CLIENT_DIR = "/tmp/sipvs-sipclient"
SIPCLIENT = base64.b64encode((HERE / "sipclient.py").read_bytes()).decode()
SIP_MODULE = base64.b64encode((HERE.parents[4] / "plugins" / "module_utils" / "_sip.py").read_bytes()).decode()

# podman exec is much faster than going through Ansible for every command.
testinfra_hosts = ["podman://" + NAME]

# GET a URL on the host with its own python3 (no curl in the images).
FETCH = "python3 -c 'import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=10).read().decode())' %s"


@pytest.fixture(scope="module")
def real_address(host):
    return host.check_output("ip -o -4 addr show dev eth0").split()[3].split("/")[0]


@pytest.fixture(scope="module")
def password():
    path = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "asterisk-777-password"
    return path.read_text().split()[0]


def sip(host, **request):
    """Upload the SIP client and _sip.py into CLIENT_DIR in the container, run it there; return its JSON result."""
    out = host.check_output(
        "mkdir -p %s && cd %s && echo %s | base64 -d > sipclient.py && echo %s | base64 -d > _sip.py"
        " && python3 sipclient.py %s",
        CLIENT_DIR,
        CLIENT_DIR,
        SIPCLIENT,
        SIP_MODULE,
        json.dumps(request),
    )
    return json.loads(out)


def test_asterisk_running_and_enabled(host):
    service = host.service("asterisk")
    assert service.is_running
    assert service.is_enabled
    assert host.check_output("asterisk -V").startswith("Asterisk 22")


def test_listens_on_vip_and_real_address(host, real_address):
    for address in (VIP, real_address):
        assert host.socket("udp://%s:5060" % address).is_listening
        assert host.socket("tcp://%s:5060" % address).is_listening
    # The 5061 transports were removed by the side effect: none may remain,
    # TCP listener included (that needs the restart the role does).
    listeners = host.check_output("ss -Hlntu")
    assert ":5061 " not in listeners
    # Nothing listens on the wildcard address for SIP.
    assert "0.0.0.0:5060 " not in listeners


def test_secret_file_is_private(host, password):
    auth = host.file("/etc/asterisk/pjsip_sipvs_auth.conf")
    assert auth.user == "root"
    assert auth.group == "asterisk"
    assert auth.mode == 0o640
    assert "password=%s" % password in auth.content_string
    pjsip = host.file("/etc/asterisk/pjsip.conf")
    assert pjsip.mode == 0o640
    assert password not in pjsip.content_string


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_options_on_vip_answered_from_vip(host, proto):
    result = sip(host, do="options", proto=proto, target=VIP, port=5060, bind="127.0.0.1")
    assert result["status"].startswith("SIP/2.0 "), result
    assert result["source"] == VIP


def test_options_on_real_address(host, real_address):
    result = sip(host, do="options", proto="udp", target=real_address, port=5060, bind="127.0.0.1")
    assert result["status"].startswith("SIP/2.0 "), result
    assert result["source"] == real_address


def test_account_registers_with_its_secret_only(host, password):
    good = sip(host, do="register", target=VIP, port=5060, bind="127.0.0.1", user="777", password=password)
    assert good["statuses"][-1] == "SIP/2.0 200 OK", good
    bad = sip(host, do="register", target=VIP, port=5060, bind="127.0.0.1", user="777", password=password + "x")
    assert bad["statuses"][-1].split()[1] in ("401", "403"), bad


def test_loadtest_peer_call_media_on_real_address(host, real_address):
    # sipp is identified by source address (the container's own address here).
    result = sip(host, do="invite", target=VIP, port=5060, bind=real_address, exten="200")
    assert result["status"] == "SIP/2.0 200 OK", result
    assert result["source"] == VIP
    assert result["sdp_c"] == [real_address], "media must go to the real server, not the VIP"
    assert result["bye"] == "SIP/2.0 200 OK"


def test_unknown_source_cannot_call(host):
    result = sip(host, do="invite", target=VIP, port=5060, bind="127.0.0.1", exten="200")
    assert result["status"].split()[1] in ("401", "403"), result


@pytest.mark.parametrize(
    "exten,context,step",
    [("100", "piranha", "Playback(demo-thanks)"), ("200", "sipp", "MusicOnHold(default,30)")],
)
def test_dialplan_loaded(host, exten, context, step):
    out = host.check_output("asterisk -rx %s", "dialplan show %s@%s" % (exten, context))
    assert step in out


def test_no_chan_sip(host):
    assert "chan_sip" not in host.check_output("asterisk -rx %s", "module show like chan_")


def test_metrics_on_the_real_address_only(host, real_address):
    listening = host.check_output("ss -Htln sport = :8088")
    assert [line.split()[3] for line in listening.splitlines()] == ["%s:8088" % real_address], listening
    metrics = host.check_output(FETCH % ("http://%s:8088/metrics" % real_address))
    assert re.search(r"^asterisk_core_uptime_seconds\{.*\} [0-9]+$", metrics, re.MULTILINE), metrics[:2000]
    assert "asterisk_channels_count" in metrics
