"""Tests of the piranha and static engines (plugins/module_utils/_engines.py): the example inventory's
model as lvs.cf (golden file, the tutorial's semantics, round trip through the lvs.cf parser), as the
services of ipvs_service, and every way lvs.cf cannot say what the model asks for."""

import copy
import pathlib

import pytest
import yaml
from ansible_collections.sipvs.lvs.plugins.module_utils import _ipvs
from ansible_collections.sipvs.lvs.plugins.module_utils import _lvs_cf as lvs_cf
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import normalize_cluster
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import (
    PIRANHA_SETTINGS,
    piranha_config,
    static_services,
    static_settings,
    sync_daemon_starts,
    sync_daemons,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError

ROOT = pathlib.Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "lvs_cf"
EXAMPLE = ROOT / "inventories" / "example"
DIRECTORS = ["director1", "director2"]
# The tutorial's pulse timing (its lvs.cf: keepalive 6, deadtime 18), given explicitly.
TUTORIAL_TIMING = {"piranha_keepalive": 6, "piranha_deadtime": 18}


def example_addresses():
    """Inventory hostname -> ansible_host of inventories/example/hosts.yml."""
    hosts = yaml.safe_load((EXAMPLE / "hosts.yml").read_text())
    addresses = {}
    for group in hosts["all"]["children"].values():
        for name, host_vars in (group.get("hosts") or {}).items():
            if host_vars and "ansible_host" in host_vars:
                addresses[name] = host_vars["ansible_host"]
    return addresses


ADDRESSES = example_addresses()


def example_cluster():
    """inventories/example's lvs_cluster, with VRRP version 2.

    Intentional: the example inventory asks for VRRPv3 (the keepalived engine's
    default there), which Piranha cannot run; a Piranha site sets version 2.
    Everything else is the inventory as it is.
    """
    cluster = yaml.safe_load((EXAMPLE / "group_vars" / "all" / "cluster.yml").read_text())["lvs_cluster"]
    cluster["vrrp"]["version"] = 2
    return cluster


def model(cluster=None):
    return normalize_cluster(example_cluster() if cluster is None else cluster, ADDRESSES.get)


def config(cluster=None, settings=None, directors=None, priorities=None):
    return piranha_config(
        model(cluster),
        DIRECTORS if directors is None else directors,
        ADDRESSES.get,
        priorities,
        TUTORIAL_TIMING if settings is None else settings,
        "director_cluster",
    )


def render(cfg):
    """What sipvs.lvs.lvs_cf writes for ``config`` into a new file."""
    return lvs_cf.plan("", "lvs.cf", config=cfg).text


def fixture(name):
    return (FIXTURES / name).read_text()


def edited(edit):
    cluster = example_cluster()
    edit(cluster)
    return cluster


def web(cluster):
    return cluster["virtual_services"][0]


def sip(cluster):
    return cluster["virtual_services"][1]


# --------------------------------------------------------------------------- the example inventory


def test_example_inventory_renders_the_golden_lvs_cf():
    assert render(config()) == fixture("example_piranha.golden")


# How our lvs.cf differs from the tutorial's (its second listing, the SIPp test, tutorial_sipp.cf), and why.
# Every other global and virtual key, and every server's keys, are the same.
TUTORIAL_DIFFERENCES = {
    # The module counts its own changes from 1; the tutorial's GUI had saved 76 times.
    ("globals", "serial_no"): (76, 1),
    # The GUI copies lvs.cf with rsh/ssh only for its file sync (sync = 1, unset in the tutorial too);
    # Ansible writes the file on both directors, so there is nothing to copy.
    ("globals", "rsh_command"): ("ssh", None),
    # UDP entries outlive the silence inside a 20 s call: the tutorial's 10 s failed 266 of its 400 calls (481).
    ("globals", "udp_timeout"): (10, 60),
    # The VIP's netmask is stated (/32, as the keepalived engine puts it up) instead of left to ifconfig.
    ("web01", "vip_nmask"): (None, "255.255.255.255"),
    ("sipserver", "vip_nmask"): (None, "255.255.255.255"),
    # The model asks for status 200 (expect_status), not any reply starting "HTTP".
    ("web01", "expect"): ("HTTP", "^HTTP/1\\.[01] (200) "),
    ("web01", "use_regex"): (0, 1),
    # The real SIP check (OPTIONS, a SIP/2.0 status line) instead of the tutorial's nmap script,
    # which never fails a server (DESIGN.md).
    ("sipserver", "send_program"): (
        "/usr/local/bin/test-sip-server.sh %h",
        "/usr/local/bin/sipvs-sip-check --nanny --quiet --transport udp --port 5060 --timeout 2 %h",
    ),
    # nanny's timeout (interval and check timeout in one) from the model's check: interval 2 s, timeout 3 s
    # (web) and a 2 s program plus 1 s margin (SIP) -> 3, where the tutorial checked every 6 s.
    ("web01", "timeout"): (6, 3),
    ("sipserver", "timeout"): (6, 3),
}


def test_example_inventory_means_what_the_tutorial_lvs_cf_means():
    ours = lvs_cf.to_config(lvs_cf.parse(render(config())))
    theirs = lvs_cf.to_config(lvs_cf.parse(fixture("tutorial_sipp.cf")))
    found = {}
    for key in set(ours["globals"]) | set(theirs["globals"]):
        pair = (theirs["globals"].get(key), ours["globals"].get(key))
        if pair[0] != pair[1]:
            found[("globals", key)] = pair
    assert [v["name"] for v in ours["virtuals"]] == [v["name"] for v in theirs["virtuals"]]
    for mine, tutorial in zip(ours["virtuals"], theirs["virtuals"]):
        for key in set(mine["options"]) | set(tutorial["options"]):
            pair = (tutorial["options"].get(key), mine["options"].get(key))
            if pair[0] != pair[1]:
                found[(mine["name"], key)] = pair
        # Server names are labels (ours: the inventory hostnames); what they say is the same.
        strip = [{k: v for k, v in server.items() if k != "name"} for server in mine["servers"]]
        assert strip == [{k: v for k, v in server.items() if k != "name"} for server in tutorial["servers"]]
    assert found == TUTORIAL_DIFFERENCES


def test_golden_file_round_trips_through_the_parser():
    text = fixture("example_piranha.golden")
    doc = lvs_cf.parse(text, "lvs.cf")
    lvs_cf.validate(doc)
    assert lvs_cf.render(doc) == text
    # The same config again changes nothing, and the file read back is that config.
    again = lvs_cf.plan(text, "lvs.cf", config=config())
    assert again.changed is False
    assert again.text == text
    read = lvs_cf.to_config(doc)
    read["globals"].pop("serial_no")
    assert read["globals"] == config()["globals"]
    assert read["virtuals"] == config()["virtuals"]


def test_a_model_change_bumps_serial_no_and_touches_only_its_line():
    text = fixture("example_piranha.golden")
    changed = edited(lambda c: web(c)["real_servers"][1].update(weight=3))
    result = lvs_cf.plan(text, "lvs.cf", config=config(changed))
    assert result.changed is True
    assert result.serial_no == 2
    before, after = text.splitlines(), result.text.splitlines()
    assert [(a, b) for a, b in zip(before, after) if a != b] == [
        ("serial_no = 1", "serial_no = 2"),
        ("         weight = 1", "         weight = 3"),
    ]


def test_both_directors_get_the_same_file():
    # The file names the primary and the backup: it does not depend on the director it is written to.
    assert config()["globals"]["primary"] == "172.16.11.74"
    assert config()["globals"]["backup"] == "172.16.11.75"
    assert config()["globals"]["backup_active"] == 1


# --------------------------------------------------------------------------- globals


def test_heartbeat_is_derived_from_the_vrrp_advert_interval():
    cluster = edited(lambda c: c["vrrp"].update(advert_int=2))
    cfg = config(cluster, settings={})
    assert (cfg["globals"]["keepalive"], cfg["globals"]["deadtime"]) == (2, 6)
    assert cfg["globals"]["heartbeat"] == 1
    assert cfg["globals"]["heartbeat_port"] == PIRANHA_SETTINGS["piranha_heartbeat_port"]


def test_settings_left_out_or_none_take_their_defaults():
    every_none = dict.fromkeys(PIRANHA_SETTINGS)
    assert config(settings=every_none) == config(settings={})
    cfg = config(settings=every_none)
    assert cfg["globals"]["heartbeat_port"] == 539
    assert {v["options"]["reentry"] for v in cfg["virtuals"]} == {15}
    assert cfg["virtuals"][1]["options"]["send_program"].startswith("/usr/local/bin/sipvs-sip-check ")


def test_explicit_settings_win():
    cfg = config(settings={"piranha_keepalive": 3, "piranha_heartbeat_port": 1539, "piranha_reentry": 60})
    assert (cfg["globals"]["keepalive"], cfg["globals"]["deadtime"]) == (3, 9)
    assert cfg["globals"]["heartbeat_port"] == 1539
    assert {v["options"]["reentry"] for v in cfg["virtuals"]} == {60}


def test_the_director_with_the_highest_priority_is_the_primary():
    cfg = config(priorities={"director2": 200})
    assert (cfg["globals"]["primary"], cfg["globals"]["backup"]) == ("172.16.11.75", "172.16.11.74")


def test_a_single_director_has_no_backup():
    cfg = config(directors=["director1"])
    assert cfg["globals"]["primary"] == "172.16.11.74"
    assert cfg["globals"]["backup_active"] == 0
    assert "backup" not in cfg["globals"]
    assert "backup" not in render(cfg).replace("backup_active", "")


def test_sync_daemon_off_and_kernel_timeouts():
    def edit(cluster):
        cluster["sync_daemon"] = {"enabled": False}
        cluster["timeouts"] = {"tcp": 900, "udp": 0}

    cfg = config(edited(edit))
    assert cfg["globals"]["syncdaemon"] == 0
    assert not {"syncd_iface", "syncd_id", "tcpfin_timeout", "udp_timeout"} & set(cfg["globals"])
    assert cfg["globals"]["tcp_timeout"] == 900


def test_sync_message_length_is_refused():
    with pytest.raises(LvsError, match=r"director_cluster\.sync_daemon\.maxlen: lvs.cf has no sync message length"):
        config(edited(lambda c: c["sync_daemon"].update(maxlen=64)))


def test_sync_daemon_interface_and_id():
    cfg = config(edited(lambda c: c["sync_daemon"].update(interface="eth1", id=7)))
    assert (cfg["globals"]["syncd_iface"], cfg["globals"]["syncd_id"]) == ("eth1", 7)


# --------------------------------------------------------------------------- virtuals


def test_vips_share_an_alias_per_address_on_the_vrrp_interface():
    def edit(cluster):
        cluster["vrrp"]["interface"] = "bond0"
        extra = copy.deepcopy(web(cluster))
        extra.update(name="web443", port=443)
        extra["check"] = {"type": "tcp", "port": 443}
        cluster["virtual_services"].append(extra)

    addresses = [v["options"]["address"] for v in config(edited(edit))["virtuals"]]
    assert addresses == ["172.16.11.210 bond0:1", "172.16.11.211 bond0:2", "172.16.11.210 bond0:1"]


def test_tcp_check_is_a_plain_connect():
    def edit(cluster):
        web(cluster).update(port=8080, check={"type": "tcp", "interval": 5, "timeout": 2})

    options = config(edited(edit))["virtuals"][0]["options"]
    assert not {"send", "expect", "send_program"} & set(options)
    assert (options["port"], options["protocol"], options["timeout"], options["use_regex"]) == (8080, "tcp", 5, 0)


def test_http_check_with_several_status_codes_and_a_path():
    def edit(cluster):
        web(cluster)["check"].update(path="/health", expect_status=[200, 204])

    options = config(edited(edit))["virtuals"][0]["options"]
    assert options["send"] == "GET /health HTTP/1.0\r\n\r\n"
    assert options["expect"] == "^HTTP/1\\.[01] (200|204) "
    # Written escaped (\\. in the file), read back as the regular expression.
    assert 'expect = "^HTTP/1\\\\.[01] (200|204) "' in render(config(edited(edit)))


def test_http_check_of_a_fwmark_service_names_its_port():
    def edit(cluster):
        sip(cluster)["check"] = {"type": "http", "port": 8088}

    options = config(edited(edit))["virtuals"][1]["options"]
    assert (options["fwmark"], options["port"], options["protocol"]) == (3, 8088, "tcp")


@pytest.mark.parametrize(
    "check, program, timeout",
    [
        (
            {"type": "sip", "port": 5060, "timeout": 2, "interval": 2},
            "/usr/local/bin/sipvs-sip-check --nanny --quiet --transport udp --port 5060 --timeout 2 %h",
            3,
        ),
        (
            {"type": "sip", "port": 5061, "transport": "tcp", "timeout": 0.5, "interval": 10, "codes": [200, 401]},
            "/usr/local/bin/sipvs-sip-check --nanny --quiet --transport tcp --port 5061 --timeout 0.5"
            " --codes 200,401 %h",
            10,
        ),
        (
            {"type": "sip", "port": 5060, "timeout": 4.5, "interval": 1},
            "/usr/local/bin/sipvs-sip-check --nanny --quiet --transport udp --port 5060 --timeout 4.5 %h",
            6,
        ),
    ],
)
def test_sip_check_runs_the_check_program_in_nanny_mode(check, program, timeout):
    options = config(edited(lambda c: sip(c).update(check=check)))["virtuals"][1]["options"]
    assert options["send_program"] == program
    assert (options["expect"], options["use_regex"], options["timeout"]) == ("OK", 0, timeout)
    assert options["protocol"] == check.get("transport", "udp")
    assert "send" not in options


def test_sip_check_program_path_comes_from_the_settings():
    settings = dict(TUTORIAL_TIMING, sip_check_path="/opt/sipvs/bin/check")
    options = config(settings=settings)["virtuals"][1]["options"]
    assert options["send_program"].startswith("/opt/sipvs/bin/check --nanny ")


def test_sip_check_of_a_udp_port_service():
    def edit(cluster):
        cluster["virtual_services"][1] = {
            "name": "sip5060",
            "vip": "172.16.11.211",
            "protocol": "udp",
            "port": 5060,
            "check": {"type": "sip", "transport": "tcp"},
            "real_servers": [{"host": "rs1"}, {"host": "rs2", "weight": 0}],
        }

    virtual = config(edited(edit))["virtuals"][1]
    assert (virtual["options"]["port"], virtual["options"]["protocol"]) == (5060, "udp")
    assert "--transport tcp --port 5060 " in virtual["options"]["send_program"]
    assert virtual["servers"] == [
        {"name": "rs1", "address": "172.16.11.76", "active": 1, "port": 5060, "weight": 1},
        {"name": "rs2", "address": "172.16.11.77", "active": 1, "port": 5060, "weight": 0},
    ]


def test_persistence_netmask_and_sorry_server():
    def edit(cluster):
        sip(cluster).update(persistent=400, persistence_granularity=24, sorry_server={"address": "172.16.11.99"})
        web(cluster).update(vip_netmask="255.255.255.0")

    cfg = config(edited(edit))
    options = cfg["virtuals"][1]["options"]
    assert (options["persistent"], options["pmask"], options["sorry_server"]) == (400, "255.255.255.0", "172.16.11.99")
    assert cfg["virtuals"][0]["options"]["vip_nmask"] == "255.255.255.0"
    assert "persistent" not in cfg["virtuals"][0]["options"]
    render(cfg)  # lvs_cf accepts it


def test_every_scheduler_piranha_knows_is_written():
    for scheduler in lvs_cf.VIRTUAL_KEYS["scheduler"][1]:
        cfg = config(edited(lambda c, s=scheduler: web(c).update(scheduler=s)))
        assert cfg["virtuals"][0]["options"]["scheduler"] == scheduler


# --------------------------------------------------------------------------- what lvs.cf cannot say


def _set(path, value):
    def edit(cluster):
        node = cluster
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _sip_persistence_engine(cluster):
    # IPVS's SIP engine parses UDP only: the model refuses it on a service with TCP ports.
    sip(cluster)["ports"] = [p for p in sip(cluster)["ports"] if p["protocol"] == "udp"]
    sip(cluster).update(persistent=60, persistence_granularity="0.0.0.0", persistence_engine="sip")


def _ipv6(cluster):
    web(cluster).update(vip="2001:db8::10")
    web(cluster)["real_servers"] = [{"address": "2001:db8::76"}]


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            _set(["vrrp", "version"], 3),
            "director_cluster.vrrp.version: is 3; Piranha's pulse heartbeat is not VRRP",
        ),
        (
            lambda c: c["vrrp"].update(version=3, advert_int=0.5),
            "director_cluster.vrrp.version: is 3",
        ),
        (
            _sip_persistence_engine,
            "director_cluster.virtual_services[1].persistence_engine: lvs.cf has no persistence engine",
        ),
        (
            lambda c: sip(c).update(one_packet=True),
            "director_cluster.virtual_services[1].one_packet: lvs.cf has no one-packet scheduling",
        ),
        (lambda c: web(c).update(quorum=2), "director_cluster.virtual_services[0].quorum: lvs.cf has no quorum"),
        (
            lambda c: web(c).update(scheduler="sh", scheduler_flags=["port"]),
            "director_cluster.virtual_services[0].scheduler_flags: lvs.cf has no scheduler flags",
        ),
        (
            lambda c: web(c).update(scheduler="sed"),
            "director_cluster.virtual_services[0].scheduler: lvs.cf accepts only rr, wrr, lc, wlc, lblc, lblcr, dh,"
            " sh, got 'sed'",
        ),
        (
            lambda c: web(c).update(protocol="sctp", check={"type": "sip"}),
            "director_cluster.virtual_services[0].protocol: lvs.cf knows only tcp and udp services, got 'sctp'",
        ),
        (_ipv6, "director_cluster.virtual_services[0].vip: 2001:db8::10 is IPv6"),
        (
            lambda c: sip(c).update(persistence_granularity=24),
            "director_cluster.virtual_services[1].persistence_granularity: lvs.cf's pmask needs persistent > 0",
        ),
        (
            lambda c: web(c).update(check={"type": "none"}),
            "director_cluster.virtual_services[0].check.type: nanny always checks the real servers",
        ),
        (
            lambda c: web(c).pop("check"),
            "director_cluster.virtual_services[0].check.type: nanny always checks the real servers",
        ),
        (
            lambda c: web(c)["check"].update(port=8080),
            "director_cluster.virtual_services[0].check.port: nanny checks the port it balances (80), not 8080",
        ),
        (
            lambda c: web(c).update(protocol="udp", port=53, check={"type": "http", "port": 53}),
            "director_cluster.virtual_services[0].check.type: nanny's http check of a UDP service would go over UDP",
        ),
        (
            lambda c: web(c).update(check={"type": "tcp"}),
            "director_cluster.virtual_services[0].check.type: nanny sends an HTTP GET to port 80",
        ),
    ],
)
def test_what_lvs_cf_cannot_express_fails_naming_the_variable(edit, message):
    with pytest.raises(LvsError) as error:
        config(edited(edit))
    assert message in str(error.value)
    assert "(director_engine piranha)" in str(error.value)
    assert error.value.key == message.split(":")[0]


def test_more_than_two_directors_fail():
    with pytest.raises(LvsError, match=r"Piranha's pulse has one primary and one backup, not 3 directors") as error:
        config(directors=["director1", "director2", "rs1"])
    assert error.value.key == "director_group"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"piranha_keepalive": 0}, "director_piranha_keepalive must be between 1 and"),
        ({"piranha_keepalive": "often"}, "director_piranha_keepalive must be an integer"),
        ({"piranha_deadtime": 0}, "director_piranha_deadtime must be between 1 and"),
        ({"piranha_keepalive": 6, "piranha_deadtime": 6}, "director_piranha_deadtime (6 s) must be longer than"),
        ({"piranha_deadtime": 1}, "director_piranha_deadtime (1 s) must be longer than the keepalive interval (1 s)"),
        ({"piranha_heartbeat_port": 0}, "director_piranha_heartbeat_port must be between 1 and 65535"),
        ({"piranha_reentry": -1}, "director_piranha_reentry must be between 0 and"),
        ({"sip_check_path": "sipvs-sip-check"}, "director_sip_check_path must be an absolute path"),
        ({"sip_check_path": "/usr/local/bin/sip check"}, "director_sip_check_path must be an absolute path"),
        ({"sip_check_path": ""}, "director_sip_check_path must be an absolute path"),
        ({"sip_check_path": 7}, "director_sip_check_path must be an absolute path"),
        ({"piranha_gui": True}, "unknown piranha setting(s) piranha_gui"),
    ],
)
def test_bad_settings_fail_naming_the_role_variable(settings, message):
    with pytest.raises(LvsError) as error:
        config(settings=settings)
    assert message in str(error.value)


def test_a_director_without_an_address_fails():
    with pytest.raises(LvsError, match="director 'nowhere' has no address"):
        piranha_config(model(), ["director1", "nowhere"], ADDRESSES.get)


# --------------------------------------------------------------------------- static


def test_static_services_of_the_example_inventory():
    services = static_services(model())
    route = [
        {"address": a, "forwarding": "route", "weight": 1} for a in ("172.16.11.76", "172.16.11.77", "172.16.11.78")
    ]
    assert services == [
        {
            "protocol": "tcp",
            "address": "172.16.11.210",
            "port": 80,
            "scheduler": "wlc",
            "persistent": 0,
            "one_packet": False,
            "real_servers": [dict(rs, port=80) for rs in route],
        },
        {
            "fwmark": 3,
            "family": "ipv4",
            "scheduler": "wlc",
            "persistent": 0,
            "one_packet": False,
            "real_servers": route,
        },
    ]
    # ipvs_service's own normaliser takes them as they are.
    desired = _ipvs.normalise_services(services)
    assert [d.state for d in desired] == ["present", "present"]


def test_static_services_with_sip_persistence_and_one_packet():
    def edit(cluster):
        _sip_persistence_engine(cluster)
        sip(cluster).update(one_packet=True)
        sip(cluster)["real_servers"][2]["weight"] = 5

    (service,) = [s for s in static_services(model(edited(edit))) if "fwmark" in s]
    assert service["persistent"] == 60
    assert service["persistence_netmask"] == "0.0.0.0"
    assert service["persistence_engine"] == "sip"
    assert service["one_packet"] is True
    assert [rs["weight"] for rs in service["real_servers"]] == [1, 1, 5]
    (desired,) = _ipvs.normalise_services([service])
    assert (desired.service["persistence_engine"], desired.service["one_packet"]) == ("sip", True)
    assert desired.service["persistence_netmask"] == "0.0.0.0"


def test_static_services_ipv6_fwmark_with_a_prefix():
    def edit(cluster):
        sip(cluster).update(vip="2001:db8::11", persistent=300, persistence_granularity=64)
        sip(cluster)["real_servers"] = [{"address": "2001:db8::76"}]

    (service,) = [s for s in static_services(model(edited(edit))) if "fwmark" in s]
    assert (service["family"], service["persistence_netmask"]) == ("ipv6", "64")
    (desired,) = _ipvs.normalise_services([service])
    assert desired.service["persistence_netmask"] == "64"


def test_static_services_leave_out_checks_quorum_and_sorry_servers():
    def edit(cluster):
        web(cluster).update(quorum=2, sorry_server={"address": "172.16.11.99"})

    service = static_services(model(edited(edit)))[0]
    assert not {"check", "quorum", "sorry_server"} & set(service)


def test_static_settings_run_both_sync_daemons_on_every_director():
    settings = static_settings(model())
    both = {"state": "present", "interface": "eth0", "syncid": 0}
    assert settings == {"timeouts": {"tcp": 10, "tcpfin": 10, "udp": 60}, "sync_master": both, "sync_backup": both}
    # ipvs_settings' own normalisers accept them unchanged.
    assert _ipvs.normalise_timeouts(settings["timeouts"]) == {"tcp": 10, "tcpfin": 10, "udp": 60}
    assert _ipvs.normalise_daemon(settings["sync_master"], "master") == both
    assert _ipvs.normalise_daemon(settings["sync_backup"], "backup") == both


def test_static_settings_without_sync_daemon_or_timeouts():
    def edit(cluster):
        cluster["sync_daemon"] = {"enabled": False}
        cluster["timeouts"] = {"tcp": 0, "tcpfin": 30}

    settings = static_settings(model(edited(edit)))
    assert settings == {
        "timeouts": {"tcpfin": 30},
        "sync_master": {"state": "absent"},
        "sync_backup": {"state": "absent"},
    }


def test_sync_daemons_carry_interface_id_and_maxlen_and_start_with_ipvsadm():
    def edit(cluster):
        cluster["sync_daemon"] = {"enabled": True, "interface": "eth1", "id": 7, "maxlen": 64}

    edited_model = model(edited(edit))
    daemon = {"state": "present", "interface": "eth1", "syncid": 7, "maxlen": 64}
    assert sync_daemons(edited_model) == {"sync_master": daemon, "sync_backup": daemon}
    assert sync_daemon_starts(edited_model) == [
        ["--start-daemon", state, "--mcast-interface", "eth1", "--syncid", "7", "--sync-maxlen", "64"]
        for state in ("master", "backup")
    ]


def test_no_sync_daemon_starts_without_the_sync_daemon():
    def edit(cluster):
        cluster["sync_daemon"] = {"enabled": False}

    assert sync_daemon_starts(model(edited(edit))) == []


def test_piranha_and_static_refuse_vrrp_hooks_they_cannot_run():
    cluster = example_cluster()
    cluster["vrrp"]["track_scripts"] = [{"name": "gw", "command": ["/usr/bin/ping", "-c", "1", "10.0.0.254"]}]
    hooked = model(cluster)
    with pytest.raises(LvsError, match=r"lvs_cluster\.vrrp\.track_scripts: pulse runs no VRRP hooks"):
        piranha_config(hooked, DIRECTORS, ADDRESSES.get, settings=TUTORIAL_TIMING)
    with pytest.raises(LvsError, match=r"director_cluster\.vrrp\.track_scripts: the static engine runs no VRRP"):
        static_settings(hooked, "director_cluster")
    notified = example_cluster()
    notified["vrrp"]["notify"] = {"fault": ["/usr/local/bin/page"]}
    with pytest.raises(LvsError, match=r"lvs_cluster\.vrrp\.notify: pulse runs no VRRP hooks"):
        piranha_config(model(notified), DIRECTORS, ADDRESSES.get, settings=TUTORIAL_TIMING)
