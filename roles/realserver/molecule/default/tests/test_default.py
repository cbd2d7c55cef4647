"""Verify the realserver role against the running containers."""

import pytest
import testinfra

VIPS = ["172.16.11.210", "172.16.11.211"]
NAMES = ["sipvs-molecule-realserver-bookworm", "sipvs-molecule-realserver-trixie", "sipvs-molecule-realserver-sid"]

# podman exec is much faster than going through Ansible for every command.
testinfra_hosts = ["podman://" + name for name in NAMES]


def test_vips_on_lo_with_label(host):
    out = host.check_output("ip -o -4 addr show dev lo")
    for index, vip in enumerate(VIPS):
        assert "inet %s/32 scope global lo:sipvs%d" % (vip, index) in out


def test_vip_unit_enabled_and_active(host):
    unit = host.service("sipvs-vips.service")
    assert unit.is_enabled
    assert host.check_output("systemctl is-active sipvs-vips.service") == "active"


def test_vip_unit_restores_and_prunes(host):
    # What happens at boot: the unit's script puts back a VIP that went
    # missing and removes one of ours that is no longer configured.
    host.check_output("ip addr del %s/32 dev lo" % VIPS[1])
    host.check_output("ip addr add 172.16.11.99/32 dev lo label lo:sipvs7")
    host.check_output("systemctl restart sipvs-vips.service")
    out = host.check_output("ip -o -4 addr show dev lo")
    assert "inet %s/32" % VIPS[1] in out
    assert "172.16.11.99" not in out
    assert "inet 127.0.0.1/8" in out


def test_vips_answer_locally(host):
    # The VIP is a local address: the kernel routes it to lo.
    for vip in VIPS:
        assert "dev lo" in host.check_output("ip route get %s" % vip)


@pytest.mark.parametrize("name,value", [("arp_ignore", "1"), ("arp_announce", "2")])
def test_arp_sysctls(host, name, value):
    iface = host.check_output("ip -o -4 route show default").split()[4]
    for scope in ("all", iface):
        assert host.check_output("cat /proc/sys/net/ipv4/conf/%s/%s" % (scope, name)) == value
    conf = host.file("/etc/sysctl.d/90-sipvs-realserver.conf")
    assert conf.is_file
    assert "net.ipv4.conf.all.%s=%s" % (name, value) in conf.content_string.replace(" ", "")
    assert "net.ipv4.conf.%s.%s=%s" % (iface, name, value) in conf.content_string.replace(" ", "")


def test_web_server_names_the_host(host):
    assert host.service("apache2").is_running
    assert host.service("apache2").is_enabled
    assert host.socket("tcp://0.0.0.0:80").is_listening or host.socket("tcp://:::80").is_listening
    hostname = host.check_output("hostname")
    for address in ["127.0.0.1", *VIPS]:
        page = host.check_output(
            'python3 -c "import urllib.request,sys; '
            "sys.stdout.write(urllib.request.urlopen('http://%s/').read().decode())\"" % address
        )
        assert "<p>%s</p>" % hostname in page


def test_check_names_are_podman_hosts():
    # Guard against testing nothing: both containers must be reachable.
    for name in NAMES:
        host = testinfra.get_host("podman://" + name)
        assert host.check_output("cat /etc/debian_version")
