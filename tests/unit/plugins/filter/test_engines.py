"""The engine filters: hostvars resolution, priorities from hostvars, error translation."""

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.filter.engines import FilterModule

FILTERS = FilterModule().filters()

HOSTVARS = {
    "director1": {"lvs_address": "172.16.11.74", "ansible_host": "director1.example"},
    "director2": {"ansible_host": "172.16.11.75"},
    "rs1": {"lvs_address": "172.16.11.76", "ansible_host": "sipvs-rs1"},
    "rs2": {"ansible_host": "172.16.11.77"},
}

CLUSTER = {
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


def cluster():
    return copy.deepcopy(CLUSTER)


def test_filters_are_registered():
    assert sorted(FILTERS) == ["piranha_config", "static_services", "static_settings"]


def test_piranha_config_resolves_addresses_and_priorities_from_hostvars():
    cfg = FILTERS["piranha_config"](cluster(), HOSTVARS, ["director1", "director2"])
    assert (cfg["globals"]["primary"], cfg["globals"]["backup"]) == ("172.16.11.74", "172.16.11.75")
    assert [s["address"] for s in cfg["virtuals"][0]["servers"]] == ["172.16.11.76", "172.16.11.77"]
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars["director2"]["lvs_director_priority"] = 200
    cfg = FILTERS["piranha_config"](cluster(), hostvars, ["director1", "director2"], {"piranha_reentry": 30})
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
        FILTERS["piranha_config"](bad, HOSTVARS, ["director1", "director2"], settings, "director_cluster")


def test_static_services_resolve_addresses_from_hostvars():
    services = FILTERS["static_services"](cluster(), HOSTVARS)
    assert services[0]["real_servers"] == [
        {"address": "172.16.11.76", "forwarding": "route", "weight": 1, "port": 80},
        {"address": "172.16.11.77", "forwarding": "route", "weight": 1, "port": 80},
    ]
    assert services[1]["real_servers"] == [{"address": "172.16.11.76", "forwarding": "route", "weight": 2}]


def test_static_services_errors_name_the_variable():
    bad = cluster()
    bad["virtual_services"][0]["real_servers"].append({"host": "rs7"})
    with pytest.raises(AnsibleFilterError, match=r"real_servers\[2\]\.host 'rs7' is not a host in the inventory"):
        FILTERS["static_services"](bad, HOSTVARS, "director_cluster")


def test_static_settings():
    settings = FILTERS["static_settings"](cluster(), "BACKUP")
    assert settings == {
        "timeouts": {"udp": 30},
        "sync_master": {"state": "absent"},
        "sync_backup": {"state": "present", "interface": "eth0", "syncid": 0},
    }
    with pytest.raises(AnsibleFilterError, match="state must be MASTER or BACKUP"):
        FILTERS["static_settings"](cluster(), "FAULT")
    short = cluster()
    short["sync_daemon"]["maxlen"] = 64
    assert FILTERS["static_settings"](short, "MASTER")["sync_master"] == {
        "state": "present",
        "interface": "eth0",
        "syncid": 0,
        "maxlen": 64,
    }
    bad = cluster()
    bad["timeouts"]["udp"] = -1
    with pytest.raises(AnsibleFilterError, match=r"^director_cluster\.timeouts\.udp must be between 0 and"):
        FILTERS["static_settings"](bad, "MASTER", "director_cluster")
