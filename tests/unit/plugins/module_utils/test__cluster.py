"""Tests for the cluster model: the tutorial's cluster, and every way to get it wrong."""

import copy

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import (
    director_settings,
    fwmark_rules,
    hold_leaving,
    leaving_real_servers,
    normalize_cluster,
    vips_served_by,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError

HOSTS = {
    "director1": "172.16.11.74",
    "director2": "172.16.11.75",
    "rs1": "172.16.11.76",
    "rs2": "172.16.11.77",
    "rs3": "172.16.11.78",
    "named": "rs.example.org",
}

TUTORIAL = {
    "vrrp": {"virtual_router_id": 51, "advert_int": 1, "version": 3, "interface": "eth0", "unicast": False},
    "sync_daemon": {"enabled": True, "interface": "eth0", "id": 0},
    "timeouts": {"tcp": 10, "tcpfin": 10, "udp": 10},
    "virtual_services": [
        {
            "name": "web01",
            "vip": "172.16.11.210",
            "protocol": "tcp",
            "port": 80,
            "scheduler": "wlc",
            "check": {"type": "http", "path": "/", "expect_status": 200, "timeout": 3, "interval": 2, "retry": 1},
            "real_servers": [{"host": "rs1"}, {"host": "rs2"}, {"host": "rs3"}],
        },
        {
            "name": "sipserver",
            "vip": "172.16.11.211",
            "fwmark": 3,
            "ports": [
                {"protocol": "udp", "port": 5060},
                {"protocol": "udp", "port": 5061},
                {"protocol": "tcp", "port": 5060},
                {"protocol": "tcp", "port": 5061},
            ],
            "scheduler": "wlc",
            "persistent": 0,
            "one_packet": True,
            "check": {"type": "sip", "port": 5060, "timeout": 2, "interval": 2, "retry": 1},
            "real_servers": [{"host": "rs1"}, {"host": "rs2"}, {"host": "rs3"}],
        },
    ],
}


def model(cluster=None):
    return normalize_cluster(copy.deepcopy(TUTORIAL if cluster is None else cluster), HOSTS.get)


def broken(path, value):
    """The tutorial cluster with one value replaced (``path`` is a list of keys/indexes)."""
    cluster = copy.deepcopy(TUTORIAL)
    node = cluster
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return cluster


def test_tutorial_cluster_normalizes():
    result = model()
    web, sip = result["virtual_services"]
    assert result["vrrp"] == {
        "virtual_router_id": 51,
        "advert_int": 1,
        "version": 3,
        "interface": "eth0",
        "unicast": False,
        "networks": [],
        "track_scripts": [],
        "track_interfaces": [],
        "notify": {"master": None, "backup": None, "fault": None},
    }
    assert web["routed"] is False
    assert result["sync_daemon"] == {"enabled": True, "interface": "eth0", "id": 0, "maxlen": None}
    assert result["timeouts"] == {"tcp": 10, "tcpfin": 10, "udp": 10}
    assert web["vip"] == "172.16.11.210"
    assert web["vip_netmask"] == 32
    assert web["ports"] == [{"protocol": "tcp", "port": 80}]
    assert web["check"]["expect_status"] == [200]
    assert [rs["address"] for rs in web["real_servers"]] == ["172.16.11.76", "172.16.11.77", "172.16.11.78"]
    assert [rs["port"] for rs in web["real_servers"]] == [80, 80, 80]
    assert [rs["name"] for rs in web["real_servers"]] == ["rs1", "rs2", "rs3"]
    assert sip["fwmark"] == 3
    assert sip["port"] is None
    assert sip["protocol"] is None
    assert sip["one_packet"] is True
    assert sip["check"]["type"] == "sip"
    assert sip["check"]["port"] == 5060
    assert sip["check"]["transport"] == "udp"
    assert [rs["port"] for rs in sip["real_servers"]] == [None, None, None]


def test_defaults_and_addresses():
    cluster = {
        "virtual_services": [
            {
                "name": "dns",
                "vip": "10.0.0.1",
                "vip_netmask": "255.255.255.0",
                "protocol": "UDP",
                "port": "53",
                "persistent": 60,
                "persistence_engine": "sip",
                "persistence_granularity": 24,
                "quorum": 1,
                "sorry_server": {"address": "10.0.0.9"},
                "real_servers": [{"address": "10.0.0.2", "port": 53, "weight": 5, "name": "a"}],
            }
        ]
    }
    result = model(cluster)
    assert result["vrrp"]["version"] == 2
    assert result["vrrp"]["advert_int"] == 1
    assert result["sync_daemon"]["enabled"] is False
    assert result["timeouts"] == {"tcp": 0, "tcpfin": 0, "udp": 0}
    (svc,) = result["virtual_services"]
    assert svc["vip_netmask"] == 24
    assert svc["protocol"] == "udp"
    assert svc["port"] == 53
    assert svc["check"]["type"] == "none"
    assert svc["sorry_server"] == {"address": "10.0.0.9", "port": 53}
    assert svc["persistence_granularity"] == 24
    assert svc["real_servers"] == [
        {"name": "a", "host": None, "address": "10.0.0.2", "port": 53, "weight": 5, "drained": False}
    ]


def test_subsecond_advert_needs_vrrp3():
    assert model(broken(["vrrp", "advert_int"], 0.2))["vrrp"]["advert_int"] == 0.2
    with pytest.raises(LvsError, match=r"lvs_cluster\.vrrp\.advert_int .*version 2"):
        model(broken(["vrrp"], dict(TUTORIAL["vrrp"], version=2, advert_int=0.5)))


@pytest.mark.parametrize(
    "path, value, message",
    [
        (["virtual_services", 0, "vip"], "172.16.11.300", r"lvs_cluster\.virtual_services\[0\]\.vip must be an IP"),
        (["virtual_services", 0, "vip"], KeyError, r"virtual_services\[0\]\.vip must be an IP address, got None"),
        (["virtual_services", 1, "fwmark"], 0, r"virtual_services\[1\]\.fwmark must be between 1"),
        (["virtual_services", 0, "port"], 70000, r"virtual_services\[0\]\.port must be between 1 and 65535"),
        (["virtual_services", 0, "scheduler"], "fast", r"virtual_services\[0\]\.scheduler must be one of"),
        (["virtual_services", 0, "protocol"], "icmp", r"virtual_services\[0\]\.protocol must be one of"),
        (["virtual_services", 0, "name"], "two words", r"virtual_services\[0\]\.name is not a valid name"),
        (["virtual_services", 0, "real_servers"], [], r"virtual_services\[0\]\.real_servers must not be empty"),
        (["virtual_services", 0, "real_servers", 0], {"host": "rs9"}, r"real_servers\[0\]\.host 'rs9' is not a host"),
        (["virtual_services", 0, "real_servers", 0], {"host": "named"}, r"real_servers\[0\]\.host 'named': its addr"),
        (["virtual_services", 0, "real_servers", 0], {"host": "rs1", "address": "1.2.3.4"}, r"not both"),
        (["virtual_services", 0, "real_servers", 0], {"weight": 1}, r"real_servers\[0\] needs host"),
        (["virtual_services", 0, "real_servers", 1], {"host": "rs1"}, r"lists real server 172.16.11.76 more than"),
        (["virtual_services", 0, "real_servers", 0], {"host": "rs1", "weight": -1}, r"real_servers\[0\]\.weight"),
        (["virtual_services", 1, "real_servers", 0], {"host": "rs1", "port": 5060}, r"takes? no port"),
        (["virtual_services", 1, "ports"], [], r"virtual_services\[1\]\.ports must not be empty"),
        (["virtual_services", 1, "ports", 1], {"protocol": "udp", "port": 5060}, r"lists 5060/udp more than once"),
        (["virtual_services", 1, "port"], 5060, r"virtual_services\[1\]\.port: a firewall-mark service"),
        (["virtual_services", 0, "ports"], [{"port": 81}], r"virtual_services\[0\]\.ports needs fwmark"),
        (["virtual_services", 1, "persistence_engine"], "sip", r"persistence_engine needs persistent > 0"),
        (
            ["virtual_services", 0, "scheduler_flags"],
            ["port"],
            r"virtual_services\[0\]\.scheduler_flags applies to the sh and mh schedulers only, not wlc",
        ),
        (["virtual_services", 0, "scheduler_flags"], ["mh-port"], r"scheduler_flags must be one of fallback, port"),
        (["virtual_services", 0, "scheduler_flags"], "port", r"scheduler_flags must be a list"),
        (["virtual_services", 1, "persistence_engine"], "callid", r"persistence_engine must be one of sip"),
        (["virtual_services", 0, "one_packet"], True, r"virtual_services\[0\]\.one_packet applies only to UDP"),
        (["virtual_services", 0, "one_packet"], "maybe", r"virtual_services\[0\]\.one_packet must be a boolean"),
        (["virtual_services", 0, "check", "type"], "ping", r"virtual_services\[0\]\.check\.type must be one of"),
        (["virtual_services", 0, "check", "path"], "index.html", r"check\.path must be an absolute URL path"),
        (["virtual_services", 0, "check", "expect_status"], 999, r"check\.expect_status must be between 100"),
        (["virtual_services", 0, "check", "timeout"], "soon", r"check\.timeout must be a number"),
        (["virtual_services", 1, "check", "port"], KeyError, None),
        (["virtual_services", 1, "check"], {"type": "tcp"}, r"virtual_services\[1\]\.check\.port is required"),
        (["virtual_services", 1, "check", "codes"], [200, 1000], r"check\.codes must be between 100 and 699"),
        (["virtual_services", 0, "colour"], "blue", r"virtual_services\[0\] has unknown key\(s\) colour"),
        (["virtual_services", 0, "vip_netmask"], "255.0.255.0", r"vip_netmask must be a prefix length"),
        (["virtual_services", 0, "vip_netmask"], 0, r"virtual_services\[0\]\.vip_netmask must not be 0"),
        (
            ["virtual_services", 0, "sorry_server"],
            {"address": "10.9.9.9", "port": 8080},
            r"virtual_services\[0\]\.sorry_server\.port is 8080: direct routing cannot change the destination port",
        ),
        (
            ["virtual_services", 0, "real_servers", 0, "port"],
            8080,
            r"real_servers\[0\]\.port is 8080: direct routing cannot change the destination port, so it must be",
        ),
        (["virtual_services", 0, "vip_netmask"], 33, r"virtual_services\[0\]\.vip_netmask must be between 0 and 32"),
        (["virtual_services", 0, "vip_netmask"], True, r"vip_netmask must be a prefix length"),
        (["virtual_services", 0, "sorry_server"], {"address": "x"}, r"sorry_server\.address must be an IP"),
        (["virtual_services", 0, "quorum"], 0, r"virtual_services\[0\]\.quorum must be between 1"),
        (["virtual_services"], [], r"lvs_cluster\.virtual_services must not be empty"),
        (["virtual_services"], "web01", r"lvs_cluster\.virtual_services must be a list"),
        (["vrrp", "virtual_router_id"], 256, r"lvs_cluster\.vrrp\.virtual_router_id must be between 1 and 255"),
        (["vrrp", "version"], 4, r"lvs_cluster\.vrrp\.version must be one of 2, 3"),
        (["vrrp", "interface"], "eth0 eth1", r"lvs_cluster\.vrrp\.interface must be a network interface name"),
        (["vrrp", "advert_int"], 0, r"lvs_cluster\.vrrp\.advert_int must be between"),
        (["vrrp", "unicast"], "sometimes", r"lvs_cluster\.vrrp\.unicast must be a boolean"),
        (["sync_daemon", "id"], 300, r"lvs_cluster\.sync_daemon\.id must be between 0 and 255"),
        (["sync_daemon", "maxlen"], 0, r"lvs_cluster\.sync_daemon\.maxlen must be between 1 and 65507"),
        (["sync_daemon", "maxlen"], 70000, r"lvs_cluster\.sync_daemon\.maxlen must be between 1 and 65507"),
        (["timeouts", "udp"], -1, r"lvs_cluster\.timeouts\.udp must be between 0"),
        (["timeouts", "icmp"], 5, r"lvs_cluster\.timeouts has unknown key\(s\) icmp"),
        (["vrrp"], "yes", r"lvs_cluster\.vrrp must be a dictionary"),
        (["extra"], 1, r"lvs_cluster has unknown key\(s\) extra"),
    ],
)
def test_wrong_values_name_the_variable(path, value, message):
    cluster = broken(path, value)
    if message is None:
        # The SIP check defaults to port 5060 when the service has no single port.
        assert model(cluster)["virtual_services"][1]["check"]["port"] == 5060
        return
    with pytest.raises(LvsError, match=message):
        model(cluster)


def test_fwmark_used_twice():
    cluster = copy.deepcopy(TUTORIAL)
    other = copy.deepcopy(cluster["virtual_services"][1])
    other.update(name="sip2", vip="172.16.11.212")
    cluster["virtual_services"].append(other)
    with pytest.raises(LvsError, match=r"lvs_cluster\.virtual_services: fwmark 3 is used by more than one service"):
        model(cluster)


def test_same_vip_port_twice_and_same_name_twice():
    cluster = copy.deepcopy(TUTORIAL)
    other = copy.deepcopy(cluster["virtual_services"][0])
    other["name"] = "web02"
    cluster["virtual_services"].append(other)
    with pytest.raises(LvsError, match=r"172.16.11.210 80/tcp is claimed by more than one service"):
        model(cluster)
    cluster["virtual_services"][2]["name"] = "web01"
    with pytest.raises(LvsError, match=r"the name 'web01' is used by more than one service"):
        model(cluster)


def test_missing_cluster_and_custom_variable_name():
    with pytest.raises(LvsError, match=r"^lvs_cluster is not defined$"):
        normalize_cluster(None, HOSTS.get)
    with pytest.raises(LvsError, match=r"^director_cluster\.virtual_services must be a list"):
        normalize_cluster({"virtual_services": None}, HOSTS.get, var="director_cluster")


def test_input_is_not_modified():
    cluster = copy.deepcopy(TUTORIAL)
    normalize_cluster(cluster, HOSTS.get)
    assert cluster == TUTORIAL


def test_fwmark_rules():
    assert fwmark_rules(model()) == [
        {
            "service": "sipserver",
            "family": "inet",
            "vip": "172.16.11.211",
            "protocol": p,
            "port": n,
            "mark": 3,
            "destination": "172.16.11.211/32",
            "set_mark": "0x3/0xffffffff",
        }
        for p, n in (("udp", 5060), ("udp", 5061), ("tcp", 5060), ("tcp", 5061))
    ]


def test_vips_served_by():
    result = model()
    assert vips_served_by(result, ["rs1"]) == ["172.16.11.210", "172.16.11.211"]
    assert vips_served_by(result, ["172.16.11.77"]) == ["172.16.11.210", "172.16.11.211"]
    assert vips_served_by(result, ["rs1"], port=5060) == ["172.16.11.211"]
    assert vips_served_by(result, ["rs1"], port=5060, protocol="tcp") == ["172.16.11.211"]
    assert vips_served_by(result, ["rs1"], port=80, protocol="udp") == []
    assert vips_served_by(result, ["director1", None, ""]) == []
    # Without an address resolver, hosts match by name only.
    unresolved = normalize_cluster(copy.deepcopy(TUTORIAL), None)
    assert unresolved["virtual_services"][0]["real_servers"][0]["address"] is None
    assert vips_served_by(unresolved, ["rs2", "172.16.11.77"]) == ["172.16.11.210", "172.16.11.211"]


def test_director_settings():
    directors = ["director1", "director2"]
    primary = director_settings(directors, "director1", HOSTS.get)
    backup = director_settings(directors, "director2", HOSTS.get)
    assert primary == {"state": "MASTER", "priority": 150, "address": "172.16.11.74", "peers": ["172.16.11.75"]}
    assert backup == {"state": "BACKUP", "priority": 100, "address": "172.16.11.75", "peers": ["172.16.11.74"]}
    swapped = director_settings(directors, "director2", HOSTS.get, {"director2": "200"})
    assert swapped["state"] == "MASTER"
    assert swapped["priority"] == 200
    three = [director_settings([*directors, "rs1"], h, HOSTS.get)["priority"] for h in [*directors, "rs1"]]
    assert three == [150, 100, 80]


@pytest.mark.parametrize(
    "directors, me, priorities, message",
    [
        (["director1"], "director2", None, r"'director2' is not in the directors group"),
        (["director1", "director2"], "director1", {"director2": 150}, r"share VRRP priority 150"),
        (["director1", "director2"], "director1", {"director2": 255}, r"lvs_director_priority of director2"),
        (["director1", "nowhere"], "director1", None, r"director 'nowhere' has no address"),
        (["director1", "named"], "director1", None, r"lvs_address of director named must be an IP"),
    ],
)
def test_director_settings_errors(directors, me, priorities, message):
    with pytest.raises(LvsError, match=message):
        director_settings(directors, me, HOSTS.get, priorities)


def test_scheduler_flags_are_kept_once_in_one_order():
    cluster = copy.deepcopy(TUTORIAL)
    cluster["virtual_services"][0].update(scheduler="mh", scheduler_flags=["port", "fallback", "port"])
    assert model(cluster)["virtual_services"][0]["scheduler_flags"] == ["fallback", "port"]
    assert model()["virtual_services"][0]["scheduler_flags"] == []


DIRECTORS = ["director1", "director2"]


def edited(edit):
    """The tutorial cluster changed by ``edit(cluster)``."""
    cluster = copy.deepcopy(TUTORIAL)
    edit(cluster)
    return cluster


def with_directors(cluster):
    return normalize_cluster(copy.deepcopy(cluster), HOSTS.get, directors=DIRECTORS)


def web(**values):
    return lambda cluster: cluster["virtual_services"][0].update(values)


def sip(**values):
    return lambda cluster: cluster["virtual_services"][1].update(values)


def vrrp(**values):
    return lambda cluster: cluster["vrrp"].update(values)


def both(*edits):
    def edit(cluster):
        for one in edits:
            one(cluster)

    return edit


def add_real_server(index, server):
    return lambda cluster: cluster["virtual_services"][index]["real_servers"].append(server)


SIP_UDP = [{"protocol": "udp", "port": 5060}, {"protocol": "udp", "port": 5061}]


# One case per model rule (each refused naming the variable path); the directors are given in every case, so
# the rules that need them run too.
@pytest.mark.parametrize(
    "edit, message",
    [
        # VIPs no client can reach (check_vip), and the broadcast address of the VIP's own network.
        (web(vip="0.0.0.0"), r"^lvs_cluster\.virtual_services\[0\]\.vip 0\.0\.0\.0 is unspecified"),
        (web(vip="::"), r"^lvs_cluster\.virtual_services\[0\]\.vip :: is unspecified"),
        (web(vip="127.0.0.1"), r"^lvs_cluster\.virtual_services\[0\]\.vip 127\.0\.0\.1 is a loopback address"),
        (web(vip="::1"), r"^lvs_cluster\.virtual_services\[0\]\.vip ::1 is a loopback address"),
        (sip(vip="224.0.0.18"), r"^lvs_cluster\.virtual_services\[1\]\.vip 224\.0\.0\.18 is a multicast address"),
        (sip(vip="ff02::1"), r"^lvs_cluster\.virtual_services\[1\]\.vip ff02::1 is a multicast address"),
        (web(vip="255.255.255.255"), r"^lvs_cluster\.virtual_services\[0\]\.vip 255\.255\.255\.255 is the broadcast"),
        (
            web(vip="172.16.11.255", vip_netmask=24),
            r"^lvs_cluster\.virtual_services\[0\]\.vip 172\.16\.11\.255 is the broadcast address of its network"
            r" 172\.16\.11\.0/24 \(vip_netmask 24\)",
        ),
        (
            web(vip="172.16.11.127", vip_netmask="255.255.255.128"),
            r"^lvs_cluster\.virtual_services\[0\]\.vip 172\.16\.11\.127 is the broadcast address",
        ),
        (web(vip="169.254.1.1"), r"^lvs_cluster\.virtual_services\[0\]\.vip 169\.254\.1\.1 is a link-local address"),
        (web(vip="fe80::10"), r"^lvs_cluster\.virtual_services\[0\]\.vip fe80::10 is a link-local address"),
        (web(vip="240.0.0.10"), r"^lvs_cluster\.virtual_services\[0\]\.vip 240\.0\.0\.10 is a reserved address"),
        # A VIP that is a real server's, a sorry server's or a director's address.
        (
            web(vip="172.16.11.77"),
            r"^lvs_cluster\.virtual_services\[0\]\.vip 172\.16\.11\.77 is also the address of"
            r" lvs_cluster\.virtual_services\[0\]\.real_servers\[1\]",
        ),
        (
            web(sorry_server={"address": "172.16.11.210"}),
            r"^lvs_cluster\.virtual_services\[0\]\.vip 172\.16\.11\.210 is also the address of"
            r" lvs_cluster\.virtual_services\[0\]\.sorry_server",
        ),
        (
            web(vip="172.16.11.74"),
            r"^lvs_cluster\.virtual_services\[0\]\.vip 172\.16\.11\.74 is the address of director director1",
        ),
        # A real or sorry server that has the VIP of another service.
        (
            add_real_server(1, {"address": "172.16.11.210"}),
            r"^lvs_cluster\.virtual_services\[1\]\.real_servers\[3\] is 172\.16\.11\.210, the VIP of web01"
            r" \(lvs_cluster\.virtual_services\[0\]\.vip\)",
        ),
        (
            web(sorry_server={"address": "172.16.11.211"}),
            r"^lvs_cluster\.virtual_services\[0\]\.sorry_server is 172\.16\.11\.211, the VIP of sipserver",
        ),
        # A VIP off the directors' network: under its own network vip_netmask, or outside vrrp.networks.
        (
            web(vip="10.1.1.10", vip_netmask=24),
            r"^lvs_cluster\.virtual_services\[0\]\.vip 10\.1\.1\.10/24: its network 10\.1\.1\.0/24 does not hold"
            r" director director1 \(172\.16\.11\.74\), director2 \(172\.16\.11\.75\).*"
            r"set lvs_cluster\.virtual_services\[0\]\.routed: true",
        ),
        (
            both(vrrp(networks=["172.16.11.0/24"]), sip(vip="10.1.1.11")),
            r"^lvs_cluster\.virtual_services\[1\]\.vip 10\.1\.1\.11 is in none of lvs_cluster\.vrrp\.networks"
            r" \(172\.16\.11\.0/24\)",
        ),
        (
            both(vrrp(networks=["172.16.11.0/24"]), sip(vip="fd00::11")),
            r"^lvs_cluster\.virtual_services\[1\]\.vip fd00::11 is in none of lvs_cluster\.vrrp\.networks",
        ),
        (vrrp(networks=["172.16.11.1"]), r"^lvs_cluster\.vrrp\.networks\[0\] must be a network with its prefix"),
        (vrrp(networks=["172.16.11.0/33"]), r"^lvs_cluster\.vrrp\.networks\[0\] must be a network with its prefix"),
        (vrrp(networks=[24]), r"^lvs_cluster\.vrrp\.networks\[0\] must be a network with its prefix"),
        (
            vrrp(networks=["10.0.0.0/8", "0.0.0.0/0"]),
            r"^lvs_cluster\.vrrp\.networks\[1\] must not have prefix length 0",
        ),
        (vrrp(networks="172.16.11.0/24"), r"^lvs_cluster\.vrrp\.networks must be a list"),
        (web(routed="perhaps"), r"^lvs_cluster\.virtual_services\[0\]\.routed must be a boolean"),
        # Services that cannot work.
        (
            sip(persistent=60, persistence_engine="sip"),
            r"^lvs_cluster\.virtual_services\[1\]\.persistence_engine sip: IPVS's SIP engine parses SIP over UDP"
            r" only, but the service also has 5060/tcp, 5061/tcp",
        ),
        (
            web(port=5060, persistent=60, persistence_engine="sip", check={"type": "tcp"}),
            r"^lvs_cluster\.virtual_services\[0\]\.persistence_engine sip: .* also has 5060/tcp",
        ),
        (
            web(protocol="udp"),
            r"^lvs_cluster\.virtual_services\[0\]\.check\.type http connects over TCP, but the service's ports are"
            r" all UDP \(80/udp\)",
        ),
        (
            web(protocol="udp", check={"type": "tcp"}),
            r"^lvs_cluster\.virtual_services\[0\]\.check\.type tcp connects over TCP",
        ),
        (
            web(quorum=4),
            r"^lvs_cluster\.virtual_services\[0\]\.quorum 4 is above the sum of the weights of its real servers \(3\)",
        ),
        (
            web(quorum=1, real_servers=[{"host": "rs1", "weight": 0}, {"host": "rs2", "weight": 0}]),
            r"^lvs_cluster\.virtual_services\[0\]\.quorum 1 is above the sum of the weights of its real servers \(0\)",
        ),
        (
            web(real_servers=[{"host": "rs1"}, {"address": "172.16.11.76", "name": "again"}]),
            r"^lvs_cluster\.virtual_services\[0\]\.real_servers lists real server 172\.16\.11\.76 more than once",
        ),
        # Strings that end in a config file.
        (web(name="w" * 65), r"^lvs_cluster\.virtual_services\[0\]\.name is not a valid name \(1-64 of"),
        (web(name="web\nvirtual_server"), r"^lvs_cluster\.virtual_services\[0\]\.name is not a valid name"),
        (web(name="web}"), r"^lvs_cluster\.virtual_services\[0\]\.name is not a valid name"),
        (web(name="web#1"), r"^lvs_cluster\.virtual_services\[0\]\.name is not a valid name"),
        (web(name='"web"'), r"^lvs_cluster\.virtual_services\[0\]\.name is not a valid name"),
        (
            web(real_servers=[{"host": "rs1", "name": "rs1 {"}]),
            r"^lvs_cluster\.virtual_services\[0\]\.real_servers\[0\]\.name is not a valid name",
        ),
        (
            web(real_servers=[{"host": "rs1", "name": "r" * 65}]),
            r"^lvs_cluster\.virtual_services\[0\]\.real_servers\[0\]\.name is not a valid name",
        ),
        (
            web(real_servers=[{"host": "rs#1"}]),
            r"^lvs_cluster\.virtual_services\[0\]\.real_servers\[0\]\.host 'rs#1' cannot name the real server",
        ),
        (sip(real_servers=[{"host": "fd00::11"}]), r"real_servers\[0\]\.host 'fd00::11' cannot name the real server"),
        (vrrp(interface="eth0\n}"), r"^lvs_cluster\.vrrp\.interface must be a network interface name"),
        (
            lambda cluster: cluster["sync_daemon"].update(interface="eth0#"),
            r"^lvs_cluster\.sync_daemon\.interface must be a network interface name",
        ),
    ]
    + [
        (
            web(check={"type": "http", "path": path}),
            r"^lvs_cluster\.virtual_services\[0\]\.check\.path must be an absolute URL path of at most 1024",
        )
        for path in (
            "health",
            "/a b",
            "/a\tb",
            '/a"b',
            "/a'b",
            "/a{b",
            "/a}b",
            "/a#b",
            "/a!b",
            "/$HOME",
            "/a\x01b",
            "/a\x7fb",
            "/a\nb",
            "/a\\b",
            "/é",
            "/" + "a" * 1024,
            7,
        )
    ],
)
def test_model_rules_name_the_variable(edit, message):
    with pytest.raises(LvsError, match=message) as info:
        with_directors(edited(edit))
    assert info.value.key.startswith("lvs_cluster")


@pytest.mark.parametrize(
    "edit",
    [
        # The same values, where they are right.
        web(vip="172.16.11.255"),  # a host VIP: no broadcast address of its own
        web(vip="172.16.11.255", vip_netmask=31, routed=True),  # /31: no broadcast address
        web(vip="172.16.11.254", vip_netmask=24),
        web(vip="10.1.1.10", vip_netmask=24, routed=True),
        web(vip="10.1.1.10"),  # a host prefix says nothing of the directors' network: not checked
        both(vrrp(networks=["172.16.11.9/24", "fd00::/64"]), sip(vip="fd00::11")),
        both(vrrp(networks=["172.16.11.0/24"]), sip(vip="10.1.1.11", routed=True)),
        sip(vip="fd00::11", vip_netmask=64),  # no director has an IPv6 address: nothing to compare
        sip(persistent=60, persistence_engine="sip", ports=SIP_UDP),
        web(protocol="udp", check={"type": "http", "port": 8080}),
        sip(ports=SIP_UDP, check={"type": "tcp", "port": 5060}),
        web(quorum=3),
        web(name="w" * 64, sorry_server={"address": "172.16.11.99"}),
        web(real_servers=[{"host": "rs1", "name": "r" * 64}]),
        web(real_servers=[{"address": "fd00::11"}], vip="fd00::10", check={"type": "tcp"}),
        web(check={"type": "http", "path": "/health/check.php?x=1&y=a%20b;c=(d)*,e:f@g~h+i"}),
        web(check={"type": "http", "path": "/" + "a" * 1023}),
    ],
)
def test_model_rules_accept_what_is_right(edit):
    with_directors(edited(edit))


def test_normalised_networks_and_routed():
    cluster = edited(both(vrrp(networks=["172.16.11.9/24", " fd00::1/64 "]), sip(vip="fd00::11", routed="yes")))
    result = with_directors(cluster)
    assert result["vrrp"]["networks"] == ["172.16.11.0/24", "fd00::/64"]
    assert [s["routed"] for s in result["virtual_services"]] == [False, True]


def test_the_director_rules_need_the_directors():
    # Without the directors (the default) a VIP is not compared with their addresses.
    assert model(edited(web(vip="172.16.11.74")))["virtual_services"][0]["vip"] == "172.16.11.74"
    assert model(edited(web(vip="10.1.1.10", vip_netmask=24)))["virtual_services"][0]["vip_netmask"] == 24
    # vrrp.networks is the model's own: checked with or without them.
    with pytest.raises(LvsError, match=r"^lvs_cluster\.virtual_services\[1\]\.vip 10\.1\.1\.11 is in none of"):
        model(edited(both(vrrp(networks=["172.16.11.0/24"]), sip(vip="10.1.1.11"))))
    # The custom variable name is in every message.
    with pytest.raises(LvsError, match=r"^director_cluster\.virtual_services\[0\]\.vip 172\.16\.11\.75 is the addr"):
        normalize_cluster(edited(web(vip="172.16.11.75")), HOSTS.get, "director_cluster", DIRECTORS)


@pytest.mark.parametrize(
    "directors, address_of, message",
    [
        ("director1", HOSTS.get, r"^directors must be a list of inventory hostnames"),
        (["director1", "nowhere"], HOSTS.get, r"^director 'nowhere' is not a host in the inventory"),
        (["director1", "named"], HOSTS.get, r"^lvs_address of director named must be an IP address"),
        (DIRECTORS, None, r"^directors can be checked only with the inventory's addresses"),
    ],
)
def test_wrong_directors(directors, address_of, message):
    with pytest.raises(LvsError, match=message):
        normalize_cluster(copy.deepcopy(TUTORIAL), address_of, directors=directors)


def test_an_unresolved_real_server_is_not_compared_with_the_vips():
    # Without addresses (address_of None) a host has no address to compare.
    assert normalize_cluster(copy.deepcopy(TUTORIAL), None)["virtual_services"][0]["real_servers"][0]["address"] is None


def weights(result):
    return {
        s["name"]: [(rs["name"], rs["weight"], rs["drained"]) for rs in s["real_servers"]]
        for s in result["virtual_services"]
    }


def test_a_drained_host_has_weight_0_in_every_service_that_lists_it():
    drains = {"rs2": True, "rs3": "false"}
    result = normalize_cluster(copy.deepcopy(TUTORIAL), HOSTS.get, drained_of=drains.get)
    expected = [("rs1", 1, False), ("rs2", 0, True), ("rs3", 1, False)]
    assert weights(result) == {"web01": expected, "sipserver": expected}


def test_nothing_is_drained_without_drain_variables():
    result = model()
    assert all(
        rs["drained"] is False and rs["weight"] == 1 for s in result["virtual_services"] for rs in s["real_servers"]
    )


def test_a_drain_that_is_not_a_boolean_names_the_host():
    with pytest.raises(LvsError, match=r"lvs_drain of host rs1 must be a boolean, got 'soon'"):
        normalize_cluster(copy.deepcopy(TUTORIAL), HOSTS.get, drained_of={"rs1": "soon"}.get)


def test_a_drain_of_every_real_server_of_a_service_is_refused():
    drains = {"rs1": True, "rs2": True, "rs3": True}
    with pytest.raises(LvsError, match=r"virtual_services\[0\] \(web01\): every real server is drained.*rs1, rs2, rs3"):
        normalize_cluster(copy.deepcopy(TUTORIAL), HOSTS.get, drained_of=drains.get)


def test_a_drain_keeps_the_quorum_check_on_the_configured_weights():
    cluster = copy.deepcopy(TUTORIAL)
    cluster["virtual_services"][0]["quorum"] = 3
    drained = normalize_cluster(cluster, HOSTS.get, drained_of={"rs1": True}.get)
    assert drained["virtual_services"][0]["quorum"] == 3


# ---------------------------------------------------------------- VRRP hooks


def test_a_track_script_gets_its_defaults_and_its_command_as_words():
    cluster = broken(
        ["vrrp", "track_scripts"], [{"name": "gateway", "command": ["/usr/bin/ping", "-c", 1, "10.0.0.1"]}]
    )
    assert normalize_cluster(cluster, HOSTS.get)["vrrp"]["track_scripts"] == [
        {
            "name": "gateway",
            "command": ["/usr/bin/ping", "-c", "1", "10.0.0.1"],
            "interval": 2,
            "timeout": 5,
            "fall": 3,
            "rise": 2,
            "weight": 0,
        }
    ]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            {"name": "gw", "command": ["ping", "10.0.0.1"]},
            r"track_scripts\[0\]\.command\[0\] must be the program's absolute",
        ),
        (
            {"name": "gw", "command": ["/bin/sh", "-c", "reboot; true"]},
            r"track_scripts\[0\]\.command\[2\] must be 1-255 of",
        ),
        ({"name": "gw", "command": ["/bin/echo", 'a"b']}, r"command\[1\] must be"),
        ({"name": "gw", "command": ["/bin/echo", "$HOME"]}, r"command\[1\] must be"),
        ({"name": "gw", "command": ["/bin/echo", "a b"]}, r"command\[1\] must be"),
        ({"name": "gw", "command": []}, r"track_scripts\[0\]\.command must not be empty"),
        ({"name": "gw"}, r"track_scripts\[0\] needs a name and a command"),
        ({"name": "1st", "command": ["/bin/true"]}, r"track_scripts\[0\]\.name must be 1-32 of"),
        ({"name": "gw", "command": ["/bin/true"], "weight": 254}, r"track_scripts\[0\]\.weight must be"),
        ({"name": "gw", "command": ["/bin/true"], "every": 2}, r"track_scripts\[0\] has unknown key\(s\) every"),
    ],
)
def test_a_track_script_that_could_break_keepalived_conf_or_run_a_shell_is_refused(script, message):
    with pytest.raises(LvsError, match=message):
        normalize_cluster(broken(["vrrp", "track_scripts"], [script]), HOSTS.get)


def test_two_track_scripts_of_one_name_are_refused():
    scripts = [{"name": "gw", "command": ["/bin/true"]}, {"name": "gw", "command": ["/bin/false"]}]
    with pytest.raises(LvsError, match=r"vrrp\.track_scripts: the name 'gw' is used by more than one script"):
        normalize_cluster(broken(["vrrp", "track_scripts"], scripts), HOSTS.get)


def test_notify_commands_and_tracked_interfaces():
    cluster = broken(["vrrp", "notify"], {"master": ["/usr/local/bin/page", "master"]})
    cluster["vrrp"]["track_interfaces"] = ["eth1"]
    vrrp = normalize_cluster(cluster, HOSTS.get)["vrrp"]
    assert vrrp["notify"] == {"master": ["/usr/local/bin/page", "master"], "backup": None, "fault": None}
    assert vrrp["track_interfaces"] == ["eth1"]
    with pytest.raises(LvsError, match=r"vrrp\.notify has unknown key\(s\) stop"):
        normalize_cluster(broken(["vrrp", "notify"], {"stop": ["/bin/true"]}), HOSTS.get)
    with pytest.raises(LvsError, match=r"vrrp\.track_interfaces lists eth1 more than once"):
        normalize_cluster(broken(["vrrp", "track_interfaces"], ["eth1", "eth1"]), HOSTS.get)
    with pytest.raises(LvsError, match=r"vrrp\.track_interfaces lists eth0, the VRRP interface"):
        normalize_cluster(broken(["vrrp", "track_interfaces"], ["eth0"]), HOSTS.get)


def table_entry(service, servers, **fields):
    """A service of ipvs_info's table with real servers (address, port, active, inactive)."""
    entry = {"family": "ipv4", "fwmark": None, "protocol": None, "address": None, "port": None, **fields}
    entry["real_servers"] = [
        {"address": a, "port": p, "weight": 1, "active_connections": act, "inactive_connections": inact}
        for a, p, act, inact in servers
    ]
    return entry


def without(cluster, service, host):
    cluster = copy.deepcopy(cluster)
    entry = next(s for s in cluster["virtual_services"] if s["name"] == service)
    entry["real_servers"] = [rs for rs in entry["real_servers"] if rs["host"] != host]
    return cluster


TABLE = [
    table_entry(
        "sipserver",
        [("172.16.11.76", 0, 0, 40), ("172.16.11.77", 0, 0, 41), ("172.16.11.78", 0, 1, 39)],
        fwmark=3,
    ),
    table_entry(
        "web01",
        [("172.16.11.76", 80, 2, 3), ("172.16.11.77", 80, 0, 0), ("172.16.11.78", 80, 0, 0)],
        protocol="tcp",
        address="172.16.11.210",
        port=80,
    ),
    # A service the model does not have: not looked at (the engine removes it as before).
    table_entry("other", [("172.16.11.79", 8080, 5, 5)], protocol="tcp", address="172.16.11.212", port=8080),
]


def test_nothing_leaves_when_the_table_has_what_the_model_lists():
    assert leaving_real_servers(model(), TABLE) == []
    assert leaving_real_servers(model(), []) == []


def test_a_real_server_removed_from_a_service_leaves_with_its_flows():
    removed = model(without(without(TUTORIAL, "sipserver", "rs3"), "web01", "rs1"))
    assert leaving_real_servers(removed, TABLE) == [
        {"service": "web01", "address": "172.16.11.76", "port": 80, "flows": 5},
        {"service": "sipserver", "address": "172.16.11.78", "port": None, "flows": 40},
    ]


def test_a_table_service_matches_by_fwmark_or_address_protocol_and_port():
    removed = model(without(TUTORIAL, "web01", "rs1"))
    other_port = [dict(TABLE[1], port=8080)]
    other_family = [dict(TABLE[0], family="ipv6")]
    assert leaving_real_servers(removed, other_port) == []
    assert leaving_real_servers(model(without(TUTORIAL, "sipserver", "rs3")), other_family) == []


def test_held_model_has_the_leaving_real_servers_drained_and_the_model_is_unchanged():
    removed = model(without(TUTORIAL, "sipserver", "rs3"))
    before = copy.deepcopy(removed)
    held = hold_leaving(removed, leaving_real_servers(removed, TABLE))
    assert removed == before
    sip = next(s for s in held["virtual_services"] if s["name"] == "sipserver")
    assert [(rs["address"], rs["weight"]) for rs in sip["real_servers"]] == [
        ("172.16.11.76", 1),
        ("172.16.11.77", 1),
        ("172.16.11.78", 0),
    ]
    assert sip["real_servers"][-1] == {
        "name": "172.16.11.78",
        "host": None,
        "address": "172.16.11.78",
        "port": None,
        "weight": 0,
        "drained": True,
    }
    assert held["virtual_services"][0] == removed["virtual_services"][0]
