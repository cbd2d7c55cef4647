"""The keepalived engine (module_utils/_engines.keepalived_config) and its printer
(roles/director/templates/keepalived.conf.j2): golden keepalived.conf files for the
example and lab inventories (both directors) and for a cluster that uses every branch
(tests/unit/fixtures/keepalived/rich.yml). The director Molecule scenario checks the same
files with `keepalived -t`.

Set SIPVS_UPDATE_GOLDEN=1 to write the golden files anew (then review the diff)."""

import copy
import os
import pathlib

import jinja2
import pytest
import yaml
from ansible_collections.sipvs.lvs.plugins.module_utils import _sip
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import (
    director_settings,
    hold_leaving,
    leaving_real_servers,
    normalize_cluster,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import keepalived_config, static_services
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError

ROOT = pathlib.Path(__file__).resolve().parents[4]
GOLDEN = ROOT / "tests" / "unit" / "fixtures" / "keepalived"
TEMPLATE = ROOT / "roles" / "director" / "templates" / "keepalived.conf.j2"
# The template action's Jinja settings (ansible.builtin.template: trim_blocks on).
ENV = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def inventory_case(name):
    """Hosts (address of each), directors and lvs_cluster of inventories/NAME."""
    inventory = ROOT / "inventories" / name
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    addresses, directors = {}, []
    for group, data in hosts["all"]["children"].items():
        for host, host_vars in (data.get("hosts") or {}).items():
            host_vars = host_vars or {}
            address = host_vars.get("lab_address", host_vars.get("ansible_host"))
            if address is not None:
                addresses[host] = address
            if group == "directors":
                directors.append(host)
    cluster = yaml.safe_load((inventory / "group_vars" / "all" / "cluster.yml").read_text())["lvs_cluster"]
    return {"hosts": addresses, "directors": directors, "settings": {}, "cluster": cluster}


def fixture_case(name):
    return yaml.safe_load((GOLDEN / ("%s.yml" % name)).read_text())


def without_sync(case):
    case = copy.deepcopy(case)
    case["cluster"]["sync_daemon"]["enabled"] = False
    return case


CASES = {
    "example": inventory_case("example"),
    "lab": inventory_case("lab"),
    "rich": fixture_case("rich"),
    "example-nosync": without_sync(inventory_case("example")),
}


def engine(case, director):
    model = normalize_cluster(case["cluster"], case["hosts"].get)
    me = director_settings(case["directors"], director, case["hosts"].get)
    settings = dict({"router_id": director}, **case["settings"])
    return keepalived_config(model, me, settings)


def render(config):
    template = ENV.from_string(TEMPLATE.read_text())
    return template.render(__director_keepalived_render=config, ansible_managed="Ansible managed")


GOLDEN_FILES = [(case, director) for case in CASES for director in CASES[case]["directors"]]
GOLDEN_FILES = [(c, d) for c, d in GOLDEN_FILES if not (c == "example-nosync" and d != "director1")]


@pytest.mark.parametrize(("case", "director"), GOLDEN_FILES)
def test_keepalived_conf_is_the_golden_file(case, director):
    text = render(engine(CASES[case], director))
    golden = GOLDEN / ("%s-%s.conf" % (case, director))
    if os.environ.get("SIPVS_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_the_template_only_prints():
    text = TEMPLATE.read_text()
    for logic in ("selectattr", "namespace", "zip", "map(", " + ", " - ", " * ", "|int", "| int", "round"):
        assert logic not in text


def test_the_directors_differ_only_in_their_vrrp_place():
    first, second = (engine(CASES["lab"], d) for d in ("director1", "director2"))
    assert first["virtual_servers"] != second["virtual_servers"]  # each checks from its own address
    assert dict(first["vrrp_instance"], lines=[]) == dict(second["vrrp_instance"], lines=[])
    assert [line[0] for line in first["vrrp_instance"]["lines"]] == [
        "state",
        "interface",
        "virtual_router_id",
        "priority",
        "advert_int",
        "version",
    ]


DROPIN = ROOT / "roles" / "director" / "templates" / "keepalived-restart.conf.j2"


def dropin_starts(config):
    text = ENV.from_string(DROPIN.read_text()).render(
        __director_keepalived_config=config, __director_ipvsadm="/usr/sbin/ipvsadm", ansible_managed="x"
    )
    return [line for line in text.splitlines() if line.startswith("ExecStartPre=")]


def test_both_directors_run_both_sync_daemons_started_before_keepalived_not_by_it():
    # In a VRRP split brain both directors are masters: with keepalived's lvs_sync_daemon
    # neither listened for the other's connections (bench/partition.py).
    configs = [engine(CASES["lab"], director) for director in CASES["lab"]["directors"]]
    for config in configs:
        assert not [line for line in config["global_defs"] if line[0] == "lvs_sync_daemon"]
        daemon = {"state": "present", "interface": "ens2", "syncid": 0, "maxlen": 64}
        assert config["sync_daemons"] == {"sync_master": daemon, "sync_backup": daemon}
        assert dropin_starts(config) == [
            "ExecStartPre=-/usr/sbin/ipvsadm --start-daemon %s --mcast-interface ens2 --syncid 0 --sync-maxlen 64" % d
            for d in ("master", "backup")
        ]


def test_without_the_sync_daemon_both_are_stopped_and_none_starts():
    config = engine(CASES["example-nosync"], "director1")
    assert config["sync_daemons"] == {"sync_master": {"state": "absent"}, "sync_backup": {"state": "absent"}}
    assert dropin_starts(config) == []


def checkers(config, service):
    server = next(s for s in config["virtual_servers"] if s["comment"].startswith(service + ":"))
    return [rs["sections"] for rs in server["sections"]]


def test_native_sip_checks_count_source_ports_up_across_services_and_send_the_builders_request():
    config = engine(CASES["rich"], "d1")
    udp = [c[0] for c in checkers(config, "sipudp")]
    assert [c["keyword"] for c in udp] == ["UDP_CHECK", "UDP_CHECK"]
    lines = [dict((line[0], line[1:]) for line in c["lines"]) for c in udp]
    assert [line["bind_port"] for line in lines] == [["5070"], ["5071"]]
    assert lines[0]["payload"] == [_sip.options_payload("10.0.0.11", 5060, "10.0.0.1", 5070)]
    assert lines[0]["require_reply"] == [b"SIP/2.0 ".hex()]


def test_program_sip_checks_run_the_check_program_unquoted_words_inside_one_quoted_path():
    config = engine(CASES["rich"], "d1")
    (misc,) = checkers(config, "siptcp")[0]
    assert misc["keyword"] == "MISC_CHECK"
    assert misc["lines"][0] == [
        "misc_path",
        '"/usr/local/bin/sipvs-sip-check --quiet --transport tcp --port 5060 --timeout 1.5 10.0.0.11"',
    ]
    assert misc["lines"][1] == ["misc_timeout", "3"]


def test_no_check_means_no_checker():
    assert checkers(engine(CASES["rich"], "d1"), "nocheck") == [[]]


def test_too_few_source_ports_for_the_native_sip_checks():
    case = dict(CASES["rich"], settings={"sip_check_source_port": 65535})
    with pytest.raises(LvsError, match="director_sip_check_source_port 65535 leaves too few source ports"):
        engine(case, "d1")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"router_id": "a b"}, "director_router_id must match"),
        ({"router_id": "x}\nvrrp_script y {"}, "director_router_id must match"),
        # A final newline is no part of a word either ($ alone would let it through).
        ({"router_id": "lvs1\n"}, "director_router_id must match"),
        ({"vrrp_instance": "VI_1\n"}, "director_vrrp_instance must match"),
        ({"check_user": "ka\n"}, "director_check_user must match"),
        ({"vrrp_auth_pass": "secret\n"}, "director_vrrp_auth_pass must match"),
        ({"sip_check_path": "/usr/bin/check\n"}, "director_sip_check_path must match"),
        ({"vrrp_instance": "VI 1"}, "director_vrrp_instance must match"),
        ({"check_user": "Root;"}, "director_check_user must match"),
        ({"check_user": "root"}, "director_check_user must not be root"),
        ({"vrrp_auth_pass": "longer than 8"}, "director_vrrp_auth_pass must match"),
        ({"vrrp_auth_pass": "a#b"}, "director_vrrp_auth_pass must match"),
        ({"sip_check_path": "relative/check"}, "director_sip_check_path must match"),
        ({"sip_check_path": '/bin/x" --evil'}, "director_sip_check_path must match"),
        ({"sip_check_source_port": 0}, "director_sip_check_source_port must be between 1 and 65535"),
        ({"colour": "red"}, "unknown keepalived setting"),
    ],
)
def test_settings_that_could_break_the_file_are_refused(settings, message):
    with pytest.raises(LvsError, match=message):
        engine(dict(CASES["rich"], settings=settings), "d1")


def test_vrrp_authentication_needs_version_2():
    case = copy.deepcopy(CASES["rich"])
    case["cluster"]["vrrp"].update(version=3)
    with pytest.raises(LvsError, match="director_vrrp_auth_pass works only with VRRP version 2"):
        engine(case, "d1")


def test_a_native_sip_check_of_an_ipv6_real_server_from_an_ipv4_director_is_refused():
    case = copy.deepcopy(CASES["rich"])
    service = case["cluster"]["virtual_services"][5]
    service.update(ports=[{"protocol": "udp", "port": 5060}], check={"type": "sip"})
    with pytest.raises(LvsError, match=r"virtual_services\[5\].check: .*fd00::11.* from the director's 10.0.0.1"):
        engine(case, "d1")


def test_scheduler_flags_follow_their_scheduler_in_each_engine():
    model = normalize_cluster(CASES["rich"]["cluster"], CASES["rich"]["hosts"].get)
    me = director_settings(CASES["rich"]["directors"], "d1", CASES["rich"]["hosts"].get)
    server = keepalived_config(model, me, {"router_id": "d1"})["virtual_servers"][-1]
    assert server["lines"][1:4] == [["lvs_sched", "mh"], ["mh-fallback"], ["mh-port"]]
    assert static_services(model)[-1]["scheduler_flags"] == ["mh-fallback", "mh-port"]
    assert "scheduler_flags" not in static_services(model)[0]


def test_a_leaving_real_server_is_held_at_weight_0_with_its_check():
    """keepalived.conf while rs3 leaves the SIP service: rs3 at weight 0, checked like the others
    (the model without it, hold_leaving with what the director's table still has)."""
    case = copy.deepcopy(CASES["lab"])
    sip = next(s for s in case["cluster"]["virtual_services"] if s["name"] == "sipserver")
    sip["real_servers"] = [rs for rs in sip["real_servers"] if rs["host"] != "rs3"]
    model = normalize_cluster(case["cluster"], case["hosts"].get)
    table = [{"family": "ipv4", "fwmark": 3, "real_servers": [{"address": case["hosts"]["rs3"], "port": 0}]}]
    held = hold_leaving(model, leaving_real_servers(model, table))
    me = director_settings(case["directors"], "director1", case["hosts"].get)
    full = render(engine(CASES["lab"], "director1"))
    text = render(keepalived_config(held, me, {"router_id": "director1"}))
    rs3 = "real_server %s {" % case["hosts"]["rs3"]
    assert rs3 in text and "real_server %s {\n        weight 0\n" % case["hosts"]["rs3"] in text
    # The rest is the full configuration: only rs3's weight and comment differ.
    changed = [line for line in text.splitlines() if line not in full.splitlines()]
    assert [line.strip() for line in changed] == ["# 172.16.11.78", "weight 0"], changed
