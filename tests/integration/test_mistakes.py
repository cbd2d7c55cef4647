"""One mistake at a time in inventories/example's lvs_cluster: ``ansible-playbook site.yml`` stops on the
controller, before any host is contacted, with a message that names the variable. Each case is one of the model's
rules (module_utils/_cluster.py, _model.py; each also has its unit test in test__cluster.py). The copies' hosts
point at a closed port on 127.0.0.1: nothing would be touched even if a check let a mistake through."""

import pytest
from ansible_collections.sipvs.lvs.tests.integration.test_validate import SECRET, touched_no_host


def web(cluster):
    return cluster["virtual_services"][0]


def sip(cluster):
    return cluster["virtual_services"][1]


def web_vip(vip, **more):
    return lambda cluster: web(cluster).update(vip=vip, **more)


def vrrp_networks_and_a_sip_vip_outside(cluster):
    cluster["vrrp"]["networks"] = ["172.16.11.0/24"]
    sip(cluster)["vip"] = "10.1.1.11"


def real_server_with_the_web_vip(cluster):
    sip(cluster)["real_servers"].append({"address": "172.16.11.210"})


def real_server_twice(cluster):
    web(cluster)["real_servers"].append({"address": "172.16.11.76", "name": "again"})


def sip_engine_on_tcp_ports(cluster):
    sip(cluster).update(persistent=60, persistence_engine="sip")


def check_path(path):
    return lambda cluster: web(cluster)["check"].update(path=path)


CASES = {
    "vip-loopback": (web_vip("127.0.0.1"), "lvs_cluster.virtual_services[0].vip 127.0.0.1 is a loopback address"),
    "vip-subnet-broadcast": (
        web_vip("172.16.11.255", vip_netmask=24),
        "lvs_cluster.virtual_services[0].vip 172.16.11.255 is the broadcast address of its network 172.16.11.0/24",
    ),
    "vip-of-a-real-server": (
        web_vip("172.16.11.76"),
        "lvs_cluster.virtual_services[0].vip 172.16.11.76 is also the address of"
        " lvs_cluster.virtual_services[0].real_servers[0]",
    ),
    "real-server-with-a-vip": (
        real_server_with_the_web_vip,
        "lvs_cluster.virtual_services[1].real_servers[3] is 172.16.11.210, the VIP of web01"
        " (lvs_cluster.virtual_services[0].vip)",
    ),
    "sorry-server-with-a-vip": (
        lambda cluster: web(cluster).update(sorry_server={"address": "172.16.11.211"}),
        "lvs_cluster.virtual_services[0].sorry_server is 172.16.11.211, the VIP of sipserver",
    ),
    # These two need the directors' addresses: the model is checked with directors=groups['directors'].
    "vip-of-a-director": (
        web_vip("172.16.11.74"),
        "virtual_services[0].vip 172.16.11.74 is the address of director director1",
    ),
    "vip-off-the-directors-network": (
        web_vip("10.1.1.10", vip_netmask=24),
        "virtual_services[0].vip 10.1.1.10/24: its network 10.1.1.0/24 does not hold director director1",
    ),
    "vip-outside-vrrp-networks": (
        vrrp_networks_and_a_sip_vip_outside,
        "lvs_cluster.virtual_services[1].vip 10.1.1.11 is in none of lvs_cluster.vrrp.networks (172.16.11.0/24)",
    ),
    "sip-engine-on-tcp": (
        sip_engine_on_tcp_ports,
        "lvs_cluster.virtual_services[1].persistence_engine sip: IPVS's SIP engine parses SIP over UDP only, but"
        " the service also has 5060/tcp, 5061/tcp",
    ),
    "http-check-of-udp": (
        lambda cluster: web(cluster).update(protocol="udp"),
        "lvs_cluster.virtual_services[0].check.type http connects over TCP, but the service's ports are all UDP",
    ),
    "quorum-above-the-weights": (
        lambda cluster: web(cluster).update(quorum=4),
        "lvs_cluster.virtual_services[0].quorum 4 is above the sum of the weights of its real servers (3)",
    ),
    "real-server-twice": (
        real_server_twice,
        "lvs_cluster.virtual_services[0].real_servers lists real server 172.16.11.76 more than once",
    ),
    "name-with-a-brace": (
        lambda cluster: web(cluster).update(name="web01 {"),
        "lvs_cluster.virtual_services[0].name is not a valid name",
    ),
    "check-path-with-a-comment": (
        check_path("/#x"),
        "lvs_cluster.virtual_services[0].check.path must be an absolute URL path",
    ),
    "interface-with-a-brace": (
        lambda cluster: cluster["vrrp"].update(interface="eth0}"),
        "lvs_cluster.vrrp.interface must be a network interface name",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_mistake_stops_site_before_any_host(example_inventory, ansible_playbook, case):
    edit, message = CASES[case]
    rc, output = ansible_playbook(example_inventory(edit).path, "site.yml", *SECRET)
    assert rc != 0, output
    assert message in " ".join(output.split()), output
    assert touched_no_host(output), output


# A role variable, not the model: the chain name goes into the directors' root shell script and iptables-restore
# input whatever the engine (module_utils/_model.py check_iptables_chain; unit tests in test__model.py).
@pytest.mark.parametrize("engine", ["keepalived", "piranha", "static"])
def test_fwmark_chain_with_shell_syntax_stops_site_before_any_host(example_inventory, ansible_playbook, engine):
    inventory = example_inventory()
    with (inventory.path / "group_vars" / "directors.yml").open("a") as directors:
        directors.write("director_engine: %s\ndirector_fwmark_chain: 'SIPVS$(reboot)'\n" % engine)
    rc, output = ansible_playbook(inventory.path, "site.yml", *SECRET)
    assert rc != 0, output
    assert "director_fwmark_chain must be an iptables chain name" in " ".join(output.split()), output
    assert touched_no_host(output), output


# The asterisk role's variables, not the model: one host's mistake in its host_vars (module_utils/_asterisk.py;
# unit tests in test__asterisk.py).
ASTERISK_MISTAKES = {
    "peer-matching-the-internet": (
        "asterisk_endpoints:\n"
        "  - {name: '777', type: account, context: piranha, password: '{{ sipvs_sip_777_password }}'}\n"
        "  - {name: sipp, type: peer, context: sipp, match: ['0.0.0.0/0']}\n",
        "asterisk_endpoints[1].match[0] (peer sipp) 0.0.0.0/0 is a network of 4294967296 addresses: a peer is not"
        " authenticated",
    ),
    "sip-listen-twice": (
        "asterisk_sip_listen: [{protocol: udp, port: 5060}, {protocol: udp, port: 5060}]\n",
        "asterisk_sip_listen[1] udp/5060 is listed twice (also asterisk_sip_listen[0])",
    ),
}


@pytest.mark.parametrize("case", sorted(ASTERISK_MISTAKES))
def test_one_asterisk_mistake_stops_site_before_any_host(example_inventory, ansible_playbook, case):
    host_vars, message = ASTERISK_MISTAKES[case]
    inventory = example_inventory()
    (inventory.path / "host_vars").mkdir(exist_ok=True)
    (inventory.path / "host_vars" / "rs2.yml").write_text("---\n" + host_vars)
    rc, output = ansible_playbook(inventory.path, "site.yml", *SECRET)
    assert rc != 0, output
    assert message in " ".join(output.split()), output
    assert touched_no_host(output), output
