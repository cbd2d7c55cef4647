"""The cluster and engine filters: hostvars resolution, priorities from hostvars, error translation,
and the normalised model as every filter's input."""

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.filter.cluster import FilterModule

FILTERS = FilterModule().filters()

HOSTVARS = {
    "director1": {"lvs_address": "172.16.11.74", "ansible_host": "director1.example"},
    "director2": {"ansible_host": "172.16.11.75", "lvs_director_priority": 200},
    "rs1": {"lvs_address": "172.16.11.76", "ansible_host": "sipvs-rs1"},
    "rs2": {"ansible_host": "172.16.11.77"},
    "10.0.0.9": {},
}

CLUSTER = {
    "virtual_services": [
        {
            "name": "web01",
            "vip": "172.16.11.210",
            "port": 80,
            "real_servers": [{"host": "rs1"}, {"host": "rs2"}, {"host": "10.0.0.9"}],
        },
        {
            "name": "sip",
            "vip": "172.16.11.211",
            "fwmark": 3,
            "ports": [{"protocol": "udp", "port": 5060}],
            "real_servers": [{"host": "rs1"}],
        },
    ]
}


def test_filters_are_registered():
    assert sorted(FILTERS) == [
        "cluster_model",
        "director_settings",
        "fwmark_rules",
        "hold_leaving",
        "iptables_chain",
        "keepalived_config",
        "leaving_real_servers",
        "listen_address",
        "piranha_config",
        "static_services",
        "static_settings",
        "vips_served_by",
    ]


def model(cluster=None, hostvars=None, var="lvs_cluster"):
    return FILTERS["cluster_model"](copy.deepcopy(CLUSTER if cluster is None else cluster), hostvars, var)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("vips_served_by", ("rs1",)),
        ("fwmark_rules", ()),
        ("keepalived_config", ({}, {})),
        ("piranha_config", ({}, [])),
        ("static_services", ()),
        ("static_settings", ()),
    ],
)
def test_filters_take_the_normalised_model_not_the_raw_variable(name, args):
    with pytest.raises(
        AnsibleFilterError, match="%s takes the cluster model as sipvs.lvs.cluster_model returns" % name
    ):
        FILTERS[name](copy.deepcopy(CLUSTER), *args)


def test_cluster_model_resolves_addresses_from_hostvars():
    model = FILTERS["cluster_model"](copy.deepcopy(CLUSTER), HOSTVARS)
    # lvs_address first, then ansible_host, then the inventory name itself.
    assert [rs["address"] for rs in model["virtual_services"][0]["real_servers"]] == [
        "172.16.11.76",
        "172.16.11.77",
        "10.0.0.9",
    ]


def test_errors_become_filter_errors_naming_the_variable():
    bad = copy.deepcopy(CLUSTER)
    bad["virtual_services"][0]["vip"] = "not-an-ip"
    with pytest.raises(AnsibleFilterError, match=r"^director_cluster\.virtual_services\[0\]\.vip must be an IP"):
        FILTERS["cluster_model"](bad, HOSTVARS, "director_cluster")
    bad = copy.deepcopy(CLUSTER)
    bad["virtual_services"][0]["real_servers"].append({"host": "rs7"})
    with pytest.raises(AnsibleFilterError, match=r"real_servers\[3\]\.host 'rs7' is not a host in the inventory"):
        FILTERS["cluster_model"](bad, HOSTVARS)
    with pytest.raises(AnsibleFilterError, match=r"hostvars must be the hostvars mapping"):
        FILTERS["cluster_model"](CLUSTER, ["rs1"])


def test_vips_served_by_needs_no_hostvars():
    vips = FILTERS["vips_served_by"]
    assert vips(model(), "rs1", "172.16.11.76") == ["172.16.11.210", "172.16.11.211"]
    assert vips(model(), "rs2") == ["172.16.11.210"]
    assert vips(model(), "rs1", port=5060, protocol="udp") == ["172.16.11.211"]
    assert vips(model(), "director1") == []


def test_fwmark_rules_filter():
    rules = FILTERS["fwmark_rules"](model(hostvars=HOSTVARS))
    assert rules == [
        {
            "service": "sip",
            "family": "inet",
            "vip": "172.16.11.211",
            "protocol": "udp",
            "port": 5060,
            "mark": 3,
            "destination": "172.16.11.211/32",
            "set_mark": "0x3/0xffffffff",
        }
    ]


def test_iptables_chain_filter_names_the_variable():
    assert FILTERS["iptables_chain"]("SIPVS-FWMARK", "director_fwmark_chain") == "SIPVS-FWMARK"
    with pytest.raises(AnsibleFilterError, match=r"^director_fwmark_chain must be an iptables chain name"):
        FILTERS["iptables_chain"]("SIPVS;reboot", "director_fwmark_chain")
    with pytest.raises(AnsibleFilterError, match=r"^director_fwmark_chain must name a chain of its own, not INPUT"):
        FILTERS["iptables_chain"]("INPUT", "director_fwmark_chain")
    with pytest.raises(AnsibleFilterError, match=r"^chain must be an iptables chain name"):
        FILTERS["iptables_chain"]("")


def test_listen_address_filter_names_the_variable():
    assert FILTERS["listen_address"]("172.16.11.74", 9100) == {
        "address": "172.16.11.74",
        "port": 9100,
        "listen": "172.16.11.74:9100",
    }
    with pytest.raises(AnsibleFilterError, match=r"^director_metrics_address 0.0.0.0 would listen on every address"):
        FILTERS["listen_address"]("0.0.0.0", 9100, "director_metrics_address", "director_metrics_port")
    with pytest.raises(AnsibleFilterError, match=r"^asterisk_metrics_port must be between 1 and 65535"):
        FILTERS["listen_address"]("::1", 70000, "asterisk_metrics_address", "asterisk_metrics_port")


def test_director_settings_filter():
    settings = FILTERS["director_settings"]
    # director2 has lvs_director_priority 200: it is the master.
    assert settings(["director1", "director2"], "director2", HOSTVARS) == {
        "state": "MASTER",
        "priority": 200,
        "address": "172.16.11.75",
        "peers": ["172.16.11.74"],
    }
    assert settings(["director1", "director2"], "director1", HOSTVARS)["state"] == "BACKUP"
    with pytest.raises(AnsibleFilterError, match=r"'rs1' is not in the directors group"):
        settings(["director1", "director2"], "rs1", HOSTVARS)


ENGINE_HOSTVARS = {
    "director1": {"lvs_address": "172.16.11.74", "ansible_host": "director1.example"},
    "director2": {"ansible_host": "172.16.11.75"},
    "rs1": {"lvs_address": "172.16.11.76", "ansible_host": "sipvs-rs1"},
    "rs2": {"ansible_host": "172.16.11.77"},
}
ENGINE_CLUSTER = {
    "sync_daemon": {"enabled": True},
    "timeouts": {"udp": 30},
    "virtual_services": [
        {
            "name": "web01",
            "vip": "172.16.11.210",
            "port": 80,
            "check": {"type": "http"},
            "real_servers": [{"host": "rs1"}, {"host": "rs2"}],
        },
        {
            "name": "sip",
            "vip": "172.16.11.211",
            "fwmark": 3,
            "ports": [{"protocol": "udp", "port": 5060}],
            "check": {"type": "sip"},
            "real_servers": [{"host": "rs1", "weight": 2}],
        },
    ],
}


def engine_model(cluster=None):
    return model(ENGINE_CLUSTER if cluster is None else cluster, ENGINE_HOSTVARS, "director_cluster")


def cluster():
    return copy.deepcopy(ENGINE_CLUSTER)


def test_keepalived_config_errors_become_filter_errors_naming_the_setting():
    me = FILTERS["director_settings"](["director1", "director2"], "director1", ENGINE_HOSTVARS)
    config = FILTERS["keepalived_config"](engine_model(), me, {"router_id": "director1"})
    assert config["global_defs"][0] == ["router_id", "director1"]
    with pytest.raises(AnsibleFilterError, match=r"^director_router_id must match"):
        FILTERS["keepalived_config"](engine_model(), me, {"router_id": "a b"})


def test_piranha_config_resolves_addresses_and_priorities_from_hostvars():
    cfg = FILTERS["piranha_config"](engine_model(), ENGINE_HOSTVARS, ["director1", "director2"])
    assert (cfg["globals"]["primary"], cfg["globals"]["backup"]) == ("172.16.11.74", "172.16.11.75")
    assert [s["address"] for s in cfg["virtuals"][0]["servers"]] == ["172.16.11.76", "172.16.11.77"]
    hostvars = copy.deepcopy(ENGINE_HOSTVARS)
    hostvars["director2"]["lvs_director_priority"] = 200
    cfg = FILTERS["piranha_config"](engine_model(), hostvars, ["director1", "director2"], {"piranha_reentry": 30})
    assert (cfg["globals"]["primary"], cfg["globals"]["backup"]) == ("172.16.11.75", "172.16.11.74")
    assert cfg["virtuals"][1]["options"]["reentry"] == 30


@pytest.mark.parametrize(
    "edit, args, message",
    [
        (
            lambda c: c["virtual_services"][1].update(one_packet=True),
            (),
            r"^director_cluster\.virtual_services\[1\]\.one_packet: lvs\.cf has no one-packet scheduling",
        ),
        (
            lambda c: c["virtual_services"][0].update(vip="not-an-ip"),
            (),
            r"^director_cluster\.virtual_services\[0\]\.vip must be an IP address",
        ),
        (lambda c: None, ({"piranha_keepalive": 0},), r"^director_piranha_keepalive must be between 1 and"),
    ],
)
def test_piranha_config_errors_become_filter_errors_naming_the_variable(edit, args, message):
    bad = cluster()
    edit(bad)
    settings = args[0] if args else None
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["piranha_config"](
            engine_model(bad), ENGINE_HOSTVARS, ["director1", "director2"], settings, "director_cluster"
        )


def test_static_services_resolve_addresses_from_hostvars():
    services = FILTERS["static_services"](engine_model())
    assert services[0]["real_servers"] == [
        {"address": "172.16.11.76", "forwarding": "route", "weight": 1, "port": 80},
        {"address": "172.16.11.77", "forwarding": "route", "weight": 1, "port": 80},
    ]
    assert services[1]["real_servers"] == [{"address": "172.16.11.76", "forwarding": "route", "weight": 2}]


def test_static_settings():
    settings = FILTERS["static_settings"](engine_model())
    both = {"state": "present", "interface": "eth0", "syncid": 0}
    assert settings == {"timeouts": {"udp": 30}, "sync_master": both, "sync_backup": both}
    short = cluster()
    short["sync_daemon"]["maxlen"] = 64
    assert FILTERS["static_settings"](engine_model(short))["sync_backup"] == dict(both, maxlen=64)
