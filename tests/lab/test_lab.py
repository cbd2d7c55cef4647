"""The lab itself: every host answers Ansible, the directors have real IPVS,
nothing in the lab reaches outside it, and lab-down leaves nothing behind."""

import json
import os
import subprocess
import sys

import pytest

from lab import config, lifecycle, network, snapshot

pytestmark = pytest.mark.lab

ALL_HOSTS = [host.name for host in config.HOSTS]
# Not lab addresses: documentation ranges, a public resolver, the host's own uplink.
OUTSIDE = ["203.0.113.1", "198.51.100.1", "8.8.8.8", "10.0.0.1", "192.168.1.1"]


def host_uplink_address():
    route = subprocess.run(["ip", "-j", "route", "get", "203.0.113.1"], capture_output=True, text=True, check=True)
    return json.loads(route.stdout)[0]["prefsrc"]


def test_every_host_answers_ansible_ping(lab):
    result = lab.ansible("all", "-m", "ansible.builtin.ping")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ALL_HOSTS:
        assert "%s | SUCCESS" % name in result.stdout


def test_inventory_groups(lab):
    result = lab.ansible("all", "--list-hosts", "--limit", "directors:realservers:asterisk:clients")
    listed = {line.strip() for line in result.stdout.splitlines()[1:]}
    assert listed == set(ALL_HOSTS)


@pytest.mark.parametrize("director", ["director1", "director2"])
def test_director_has_real_ipvs(lab, director):
    # The director image carries ipvsadm; an older image without it gets it through the proxy.
    if lab.run(director, ["sh", "-c", "command -v ipvsadm"]).returncode != 0:
        install = lab.apt_install(director, "ipvsadm")
        assert install.returncode == 0, install.stdout + install.stderr
    result = lab.run(director, ["sh", "-c", "modprobe ip_vs && ipvsadm -Ln"])
    assert result.returncode == 0, result.stderr
    assert "IP Virtual Server version" in result.stdout
    assert "ip_vs" in lab.run(director, ["cat", "/proc/modules"]).stdout


def test_directors_run_their_own_kernel(lab):
    guest = lab.run("director1", ["uname", "-r"]).stdout.strip()
    assert guest and guest != os.uname().release


@pytest.mark.parametrize("name", ALL_HOSTS)
def test_lab_host_has_its_address_and_no_default_route(lab, name):
    host = config.HOSTS_BY_NAME[name]
    result = lab.run(name, ["sh", "-c", "ip -o -4 addr show && echo == && ip route show && ip -6 route show"])
    assert result.returncode == 0, result.stderr
    addresses, routes = result.stdout.split("==\n")
    assert " %s/24 " % host.ip in addresses
    assert routes.strip(), "no routes at all on %s" % name
    assert "default" not in routes


@pytest.mark.parametrize("name", ALL_HOSTS)
def test_lab_host_cannot_reach_outside(lab, name):
    targets = [*OUTSIDE, host_uplink_address()]
    script = 'for a in "$@"; do echo "$a: $(ip route get "$a" 2>&1)"; done'
    result = lab.run(name, ["sh", "-c", script, "sh", *targets])
    answers = result.stdout.splitlines()
    assert len(answers) == len(targets), result.stdout + result.stderr
    for answer in answers:
        assert "Network is unreachable" in answer, "%s has a route: %s" % (name, answer)


CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()\n"
    "except OSError as error:\n"
    "    sys.exit('refused: %s' % error)\n"
)


@pytest.mark.parametrize("name", ["director1", "rs1", "client"])
def test_only_the_package_proxy_port_is_reachable_on_the_host(lab, name):
    proxy = lab.run(name, ["python3", "-c", CONNECT, config.PROXY_IP, str(config.PROXY_PORT)])
    assert proxy.returncode == 0, proxy.stderr
    # The same host address on another port: the lab namespace forwards only the proxy flow.
    other = lab.run(name, ["python3", "-c", CONNECT, config.PROXY_IP, "22"])
    assert other.returncode != 0


def test_realserver_is_sid_with_systemd_and_apt_through_the_proxy(lab):
    assert "sid" in lab.run("rs1", ["cat", "/etc/debian_version"]).stdout
    state = lab.run("rs1", ["systemctl", "is-system-running"]).stdout.strip()
    assert state in ("running", "degraded")
    update = lab.run("rs2", ["apt-get", "-q", "update"])
    assert update.returncode == 0, update.stdout + update.stderr
    assert "sid" in update.stdout


def test_realserver_sysctls_stay_in_its_namespace(lab):
    key = "net.ipv4.conf.all.arp_ignore"
    path = "/proc/sys/net/ipv4/conf/all/arp_ignore"
    original = lab.run("rs3", ["sysctl", "-n", key]).stdout.strip()
    neighbour = lab.run("rs1", ["sysctl", "-n", key]).stdout.strip()
    with open(path) as host_value:
        on_host = host_value.read().strip()
    changed = "2" if original != "2" else "1"
    try:
        result = lab.run("rs3", ["sysctl", "-w", "%s=%s" % (key, changed)])
        assert result.returncode == 0, result.stderr
        assert lab.run("rs3", ["sysctl", "-n", key]).stdout.strip() == changed
        assert lab.run("rs1", ["sysctl", "-n", key]).stdout.strip() == neighbour
        with open(path) as host_value:
            assert host_value.read().strip() == on_host
    finally:
        lab.run("rs3", ["sysctl", "-w", "%s=%s" % (key, original)])


def test_client_has_sip_tools_and_reaches_the_lab(lab):
    for argv in (["sipp", "-v"], ["sipsak", "-V"], ["curl", "--version"]):
        assert lab.run("client", argv).returncode in (0, 99), argv  # sipp -v exits 99
    for name in ("director1", "director2", "rs1", "rs2", "rs3"):
        target = config.HOSTS_BY_NAME[name].ip
        assert lab.run("client", ["ping", "-c", "1", "-W", "3", target]).returncode == 0, target


def test_lab_up_again_changes_nothing(lab):
    before = snapshot.take()
    lifecycle.up(say=lambda _message: None)
    changes = snapshot.differences(before, snapshot.take())
    assert not changes, "\n".join(changes)


def test_errors_are_one_line_not_tracebacks():
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    result = subprocess.run(
        [*as_nobody, sys.executable, "-m", "lab", "up"], capture_output=True, text=True, cwd=config.REPO, check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith("lab: error: the lab needs root")
    assert "Traceback" not in result.stderr


@pytest.mark.lab_teardown
def test_zz_lab_down_leaves_nothing_behind(lab):
    assert lab.owned, (
        "this session found the lab already up (not SIPVS_LAB_TAKE_OVER=1); run make lab-down before make test-lab"
    )
    lifecycle.down(say=lambda _message: None)
    left = snapshot.differences(lab.before, snapshot.take())
    assert not left, "\n".join(left)
    lifecycle.down(say=lambda _message: None)  # safe to run twice
    left = snapshot.differences(lab.before, snapshot.take())
    assert not left, "\n".join(left)


@pytest.mark.lab_teardown
def test_zz_failed_lab_up_cleans_up_after_itself(lab):
    """A lab-up that fails half way (here: directors given 1 s to boot) takes down what it started."""
    assert lab.owned and not network.netns_exists(config.LAB_NS)
    result = subprocess.run(
        [sys.executable, "-m", "lab", "up"],
        capture_output=True,
        text=True,
        cwd=config.REPO,
        env=dict(os.environ, SIPVS_LAB_BOOT_TIMEOUT="1"),
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("lab: error: lab-up failed (cleaned up): director1 did not answer ssh within 1s")
    left = snapshot.differences(lab.before, snapshot.take())
    assert not left, "\n".join(left)
