"""Verify the director containers themselves: files, keepalived's own test,
the live iptables chain, the unit that restores it, the SIP check program."""

import base64
import pathlib
import re

import pytest

# podman exec is much faster than going through Ansible for every command.
testinfra_hosts = ["podman://sipvs-molecule-director1", "podman://sipvs-molecule-director2"]

CONF = "/etc/keepalived/keepalived.conf"
CHAIN = "SIPVS-FWMARK"
RULES = [
    "-A SIPVS-FWMARK -d 172.16.11.211/32 -p %s -m %s --dport %d -j MARK --set-xmark 0x3/0xffffffff" % (p, p, n)
    for p, n in (("udp", 5060), ("udp", 5061))
]
# A UDP peer that answers one OPTIONS the way Asterisk does, to the rport source.
RESPONDER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5070))
s.settimeout(10)
data, src = s.recvfrom(65535)
lines = data.decode().split("\r\n")
keep = [l for l in lines if l.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(), src)
"""

# GET a URL on the host with its own python3 (no curl in the images).
FETCH = "python3 -c 'import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=10).read().decode())' %s"


@pytest.fixture
def director(host):
    name = host.backend.get_hostname()
    expected = {
        "sipvs-molecule-director1": ("MASTER", 150, "172.16.11.75"),
        "sipvs-molecule-director2": ("BACKUP", 100, "172.16.11.74"),
    }
    return expected[name]


def test_packages(host):
    for name in ("keepalived", "ipvsadm", "iptables"):
        assert host.package(name).is_installed


def test_keepalived_conf_content(host, director):
    state, priority, peer = director
    conf = host.file(CONF)
    assert conf.user == "root"
    assert conf.mode == 0o640
    text = conf.content_string
    for line in (
        "    enable_script_security",
        "    script_user keepalived_script",
        "    lvs_timeouts tcp 10 tcpfin 10 udp 10",
        "    state %s" % state,
        "    priority %d" % priority,
        "    advert_int 0.2",
        "    version 3",
        "        %s" % peer,
        "        172.16.11.210/32 dev eth0 label eth0:1",
        "        172.16.11.211/32 dev eth0 label eth0:2",
        "virtual_server 172.16.11.210 80 {",
        "virtual_server fwmark 3 {",
        "    persistence_timeout 60",
        "    persistence_engine sip",
        "    ops",
        "    real_server 172.16.11.76 80 {",
        "    real_server 172.16.11.78 {",
    ):
        assert line + "\n" in text, line
    assert text.count("lvs_method DR") == 2
    assert text.count("HTTP_GET {") == 3
    # SIP over UDP with any status accepted: keepalived's own UDP_CHECK, one source port per real server.
    assert text.count("UDP_CHECK {") == 3
    assert "MISC_CHECK {" not in text
    for port in (5070, 5071, 5072):
        assert "            bind_port %d\n" % port in text
    assert text.count("            require_reply 5349502f322e3020\n") == 3
    payload = re.search(r"real_server 172.16.11.77 \{.*?payload ([0-9a-f]+)\n", text, re.S).group(1)
    request = bytes.fromhex(payload).decode()
    assert request.startswith("OPTIONS sip:172.16.11.77:5060 SIP/2.0\r\nVia: SIP/2.0/UDP ")
    assert ";rport\r\n" in request


def test_keepalived_accepts_the_config(host):
    # keepalived -t on a root script_user copy (2.2.7 bug) + script user/program checks; silent and 0 when clean.
    result = host.run("/usr/local/sbin/sipvs-keepalived-test %s", CONF)
    assert (result.rc, result.stdout, result.stderr) == (0, "", "")
    copy = host.run(
        "sed 's/^    script_user .*/    script_user root/' %s > /tmp/ka-root.conf"
        " && keepalived -t -f /tmp/ka-root.conf",
        CONF,
    )
    assert (copy.rc, copy.stderr) == (0, "")


# The keepalived engine's golden files (tests/unit/plugins/module_utils/test__keepalived.py): every check
# type, persistence option, unicast and multicast VRRP, sync daemon on and off.
GOLDEN = sorted((pathlib.Path(__file__).resolve().parents[5] / "tests/unit/fixtures/keepalived").glob("*.conf"))


@pytest.mark.parametrize("golden", GOLDEN, ids=[g.stem for g in GOLDEN])
def test_keepalived_accepts_the_golden_files(host, golden):
    # This container's only interface is eth0: the lab's ens2 and the fixtures' eth1/eth2 become eth0, the
    # one change made; and root as script_user (keepalived 2.2.7 kills itself in -t with another one).
    text = re.sub(r"\b(ens2|eth1|eth2)\b", "eth0", golden.read_text())
    text = re.sub(r"(?m)^(    script_user) .*$", r"\1 root", text)
    encoded = base64.b64encode(text.encode()).decode()
    result = host.run("echo %s | base64 -d > /tmp/golden.conf && keepalived -t -f /tmp/golden.conf", encoded)
    assert (result.rc, result.stderr) == (0, ""), result.stderr


def test_keepalived_test_rejects_a_broken_config(host):
    result = host.run(
        "sed 's/lvs_sched wlc/lvs_sched nosuch/' %s > /tmp/ka-bad.conf"
        " && /usr/local/sbin/sipvs-keepalived-test /tmp/ka-bad.conf",
        CONF,
    )
    assert result.rc == 1
    assert "keepalived -t: exit" in result.stderr


def test_keepalived_enabled_not_started(host):
    service = host.service("keepalived")
    assert service.is_enabled
    # director_start_services: false here (no IPVS in this kernel).
    assert not service.is_running


def test_forwarding(host):
    assert host.file("/etc/sysctl.d/60-sipvs-director.conf").contains("^net.ipv4.ip_forward=1$")
    assert host.file("/proc/sys/net/ipv4/ip_forward").content_string.strip() == "1"


def test_modules_at_boot(host):
    lines = [
        line
        for line in host.file("/etc/modules-load.d/sipvs-ipvs.conf").content_string.splitlines()
        if line and not line.startswith("#")
    ]
    assert lines == ["ip_vs", "ip_vs_wlc", "ip_vs_pe_sip"]


def live_chain(host):
    output = host.check_output("iptables -w -t mangle -S %s", CHAIN)
    return [line for line in output.splitlines() if line.startswith("-A")]


def jumps(host):
    return host.check_output("iptables -w -t mangle -S PREROUTING").splitlines().count("-A PREROUTING -j %s" % CHAIN)


def test_fwmark_rules_present_once(host):
    assert live_chain(host) == RULES
    assert jumps(host) == 1
    assert host.run("/usr/local/sbin/sipvs-fwmark check").rc == 0


def test_fwmark_unit_restores_rules(host):
    unit = host.service("sipvs-fwmark")
    assert unit.is_enabled
    assert host.check_output("systemctl is-active sipvs-fwmark") == "active"
    assert host.run("systemctl stop sipvs-fwmark").rc == 0
    assert host.run("iptables -w -t mangle -S %s", CHAIN).rc != 0
    assert jumps(host) == 0
    assert host.run("/usr/local/sbin/sipvs-fwmark check").rc == 1
    # What happens at boot: the unit loads the rules again, once.
    assert host.run("systemctl start sipvs-fwmark").rc == 0
    assert live_chain(host) == RULES
    assert jumps(host) == 1
    # A second load does not duplicate anything.
    assert host.check_output("/usr/local/sbin/sipvs-fwmark sync") == ""
    assert live_chain(host) == RULES
    assert jumps(host) == 1


def test_check_user(host):
    user = host.user("keepalived_script")
    assert user.exists
    assert user.shell == "/usr/sbin/nologin"
    assert user.uid < 1000


def test_sip_check_program(host):
    program = host.file("/usr/local/bin/sipvs-sip-check")
    assert program.user == "root"
    assert program.group == "root"
    assert program.mode == 0o755
    usage = host.run("runuser -u keepalived_script -- /usr/local/bin/sipvs-sip-check --help")
    assert usage.rc == 0
    assert "usage: sipvs-sip-check" in usage.stdout
    # Nothing listens on 127.0.0.1:5099: ICMP port unreachable -> unhealthy.
    down = host.run("runuser -u keepalived_script -- /usr/local/bin/sipvs-sip-check -p 5099 127.0.0.1")
    assert down.rc == 1
    nanny = host.run("/usr/local/bin/sipvs-sip-check --nanny 127.0.0.1 5099")
    assert (nanny.rc, nanny.stdout) == (0, "FAIL\n")


def test_sip_check_gets_a_real_reply(host):
    host.run("cat > /tmp/responder.py <<'EOF'\n%s\nEOF" % RESPONDER)
    result = host.run(
        "python3 /tmp/responder.py & sleep 0.5; "
        "runuser -u keepalived_script -- /usr/local/bin/sipvs-sip-check -p 5070 -t 3 127.0.0.1; rc=$?; wait; exit $rc"
    )
    assert result.rc == 0, result.stderr
    assert "answered 200" in result.stderr


def test_keepalived_restarts_by_itself(host):
    # The role's drop-in: Debian's unit has Restart=no, so a SIGKILLed keepalived stayed dead.
    dropin = host.file("/etc/systemd/system/keepalived.service.d/sipvs-restart.conf")
    assert dropin.user == "root"
    assert dropin.mode == 0o644
    for line in ("Restart=on-failure", "RestartSec=1s", "StartLimitIntervalSec=60", "StartLimitBurst=5"):
        assert line + "\n" in dropin.content_string, line
    # systemd has loaded it (the role's daemon-reload), not only the file on disk.
    assert host.check_output("systemctl show -p Restart keepalived") == "Restart=on-failure"
    assert host.check_output("systemctl show -p RestartUSec keepalived") == "RestartUSec=1s"
    assert host.check_output("systemctl show -p StartLimitBurst keepalived") == "StartLimitBurst=5"
    assert host.check_output("systemctl show -p NeedDaemonReload keepalived") == "NeedDaemonReload=no"
    assert "sipvs-restart.conf" in host.check_output("systemctl show -p DropInPaths keepalived")


def test_the_sync_daemons_start_before_keepalived(host):
    # Both daemons on every director, whatever its state (keepalived.conf has no lvs_sync_daemon).
    dropin = host.file("/etc/systemd/system/keepalived.service.d/sipvs-restart.conf").content_string
    for daemon in ("master", "backup"):
        line = "ExecStartPre=-/usr/sbin/ipvsadm --start-daemon %s --mcast-interface eth0 --syncid 0 --sync-maxlen 64"
        assert line % daemon + "\n" in dropin, daemon
    assert "lvs_sync_daemon" not in host.file(CONF).content_string


def test_the_metrics_exporter_listens_on_the_chosen_address_only(host):
    dropin = host.file("/etc/systemd/system/prometheus-node-exporter.service.d/sipvs-listen.conf")
    assert dropin.user == "root"
    assert dropin.mode == 0o644
    command = "/usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:9100 --collector.ipvs"
    assert "\nExecStart=\nExecStart=%s\n" % command in dropin.content_string
    service = host.service("prometheus-node-exporter")
    assert service.is_enabled
    # director_start_services is false here, so the role started nothing: the package's own
    # first start already read the drop-in the role wrote before installing it.
    assert service.is_running
    assert host.check_output("systemctl show -p NeedDaemonReload prometheus-node-exporter") == "NeedDaemonReload=no"
    listening = host.check_output("ss -Htlnp sport = :9100")
    assert [line.split()[3] for line in listening.splitlines()] == ["127.0.0.1:9100"], listening
    metrics = host.check_output(FETCH % "http://127.0.0.1:9100/metrics")
    # The IPVS collector is on (this container's kernel may have no IPVS: it is not asked to succeed).
    assert 'node_scrape_collector_success{collector="ipvs"}' in metrics
