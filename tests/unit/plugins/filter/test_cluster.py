"""The cluster filters: hostvars resolution and error translation."""

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
    assert sorted(FILTERS) == ["cluster_model", "director_settings", "fwmark_rules", "vips_served_by"]


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
    assert vips(CLUSTER, "rs1", "172.16.11.76") == ["172.16.11.210", "172.16.11.211"]
    assert vips(CLUSTER, "rs2") == ["172.16.11.210"]
    assert vips(CLUSTER, "rs1", port=5060, protocol="udp") == ["172.16.11.211"]
    assert vips(CLUSTER, "director1") == []
    with pytest.raises(AnsibleFilterError, match=r"lvs_cluster\.virtual_services\[1\]\.fwmark"):
        broken = copy.deepcopy(CLUSTER)
        broken["virtual_services"][1]["fwmark"] = -1
        vips(broken, "rs1")


def test_fwmark_rules_filter():
    rules = FILTERS["fwmark_rules"](CLUSTER, HOSTVARS)
    assert rules == [
        {"service": "sip", "family": "inet", "vip": "172.16.11.211", "protocol": "udp", "port": 5060, "mark": 3}
    ]


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
