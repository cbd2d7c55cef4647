"""Unit tests of plugins/module_utils/_ipvs.py.

All ipvsadm output comes from the recordings in tests/unit/fixtures/ipvs/
(captured from the lab's director VM by capture.py); malformed input is
made by damaging a recorded line.
"""

import json
import pathlib
import sys

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils import _ipvs
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError
from hypothesis import given, settings
from hypothesis import strategies as st

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "ipvs"
sys.path.insert(0, str(FIXTURES))

from capture import check_twins  # noqa: E402
from ipvs_calls import calls_output, load  # noqa: E402

SCENARIOS = sorted(p.stem for p in FIXTURES.glob("*.json"))
SERVICE_SCENARIOS = [s for s in SCENARIOS if load(s)["module"] == "ipvs_service" and not s.startswith("noipvs")]
CHANGING = [s for s in SERVICE_SCENARIOS if len(load(s)["calls"]) == 5 and s != "service_race"]


# The services of capture.py's MIXED table (every feature the parser reads),
# which services_purge starts from, sorted by name.
MIXED_NAMES = [
    "fwmark 3",
    "fwmark 7 ipv6",
    "sctp 172.16.11.212:9000",
    "tcp 172.16.11.210:80",
    "tcp 172.16.11.213:8080",
    "tcp 172.16.11.214:0",
    "tcp [2001:db8::210]:443",
]


def recorded(scenario, argv, nth=0):
    outputs = [c["stdout"] for c in load(scenario)["calls"] if c["argv"] == argv]
    return outputs[nth]


def table(scenario, nth=0):
    """The kernel table the module read (nth=0: before, 1: after the batch)."""
    services = _ipvs.parse_save(recorded(scenario, ["-Sn"], nth))
    _ipvs.merge_thresholds(services, recorded(scenario, ["-Ln", "--thresholds"], nth))
    return services


def desired(scenario):
    args = load(scenario)["args"]
    if "services" in args:
        return _ipvs.normalise_services(args["services"]), args.get("purge", False)
    return [_ipvs.normalise_service(args)], False


def all_saves():
    for scenario in SCENARIOS:
        for call in load(scenario)["calls"]:
            if call["argv"] == ["-Sn"] and call["rc"] == 0 and call["stdout"]:
                yield pytest.param(call["stdout"], id="%s-%d" % (scenario, len(call["stdout"])))


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("text", list(all_saves()))
def test_parse_save_round_trip(text):
    assert _ipvs.render_save(_ipvs.parse_save(text)) == text


def test_parse_save_every_feature():
    services = {_ipvs.service_name(s): s for s in table("services_purge")}
    assert sorted(services) == MIXED_NAMES
    assert services["fwmark 7 ipv6"] == {
        "protocol": None,
        "address": None,
        "port": None,
        "fwmark": 7,
        "family": "ipv6",
        "scheduler": "lc",
        "scheduler_flags": [],
        "persistent": 120,
        "persistence_netmask": "64",
        "persistence_engine": None,
        "one_packet": False,
        "real_servers": [
            {
                "address": "2001:db8::77",
                "port": 0,
                "forwarding": "route",
                "weight": 4,
                "upper_threshold": 0,
                "lower_threshold": 0,
            }
        ],
    }
    nat = services["tcp 172.16.11.213:8080"]["real_servers"]
    assert nat[0] == {
        "address": "172.16.11.76",
        "port": 80,
        "forwarding": "masq",
        "weight": 5,
        "upper_threshold": 100,
        "lower_threshold": 20,
    }
    assert nat[1]["forwarding"] == "tunnel"
    assert services["tcp [2001:db8::210]:443"]["scheduler_flags"] == ["sh-fallback", "sh-port"]
    assert services["tcp 172.16.11.214:0"]["persistent"] == 600
    assert services["tcp 172.16.11.214:0"]["persistence_netmask"] == "255.255.255.255"
    assert services["sctp 172.16.11.212:9000"]["real_servers"][0]["weight"] == 2


def test_parse_save_sip_persistence():
    (service,) = table("service_udp_sip_create", 1)
    assert service["persistent"] == 60
    assert service["persistence_netmask"] == "0.0.0.0"
    assert service["persistence_engine"] == "sip"
    assert service["one_packet"] is True
    assert [rs["port"] for rs in service["real_servers"]] == [5060, 5060, 5060]


def test_parse_save_empty():
    assert _ipvs.parse_save(recorded("info_empty", ["-Sn"])) == []


def _damaged(old, new):
    text = recorded("services_purge", ["-Sn"])
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("-A -t 172.16.11.210:80 -s wlc", "-A -t 172.16.11.210:80 -s wlc --bogus", "unexpected '--bogus'"),
        ("-A -t 172.16.11.210:80", "-X -t 172.16.11.210:80", "expected -A or -a"),
        ("-A -t 172.16.11.210:80 -s wlc", "-A -s wlc", "no service"),
        ("-A -t 172.16.11.210:80 -s wlc", "-A -t 172.16.11.210 -s wlc", "expected ADDRESS:PORT"),
        ("-A -t 172.16.11.210:80 -s wlc", "-A -t 172.16.11.999:80 -s wlc", "must be an IP address"),
        ("-A -f 3 -s wlc", "-A -f 0 -s wlc", "fwmark must be between 1"),
        ("-A -f 3 -s wlc", "-A -f 4 -s wlc", "real server for unknown fwmark 3"),
        ("-A -f 3 -s wlc", "-A -f 3 -s wlc -p", "-p needs a value"),
        ("-a -f 3 -r 172.16.11.76:0 -g -w 1", "-a -f 3 -g -w 1", "no real server"),
        ("-a -f 3 -r 172.16.11.76:0 -g -w 1", "-a -f 3 -r 172.16.11.76:0 -g -w 70000", "weight must be between"),
    ],
)
def test_parse_save_errors(old, new, message):
    with pytest.raises(LvsError, match="ipvsadm -Sn line [0-9]+: .*" + message.replace("(", r"\(")):
        _ipvs.parse_save(_damaged(old, new))


def test_parse_save_duplicate_service():
    text = recorded("services_purge", ["-Sn"])
    first = text.splitlines()[0] + "\n"
    with pytest.raises(LvsError, match="listed twice"):
        _ipvs.parse_save(text + first)


def test_thresholds_and_counts():
    counts = _ipvs.parse_list(
        recorded("info_traffic", ["-Ln", "--thresholds"]), _ipvs.THRESHOLD_COLUMNS, "ipvsadm -Ln --thresholds"
    )
    udp = counts[("udp", "172.16.11.211", 5060)]
    assert udp["counters"] is None
    assert udp["real_servers"][("172.16.11.76", 5060)] == {
        "upper_threshold": 0,
        "lower_threshold": 0,
        "active_connections": 0,
        "inactive_connections": 1,
    }
    assert ("fwmark", "ipv6", 7) in counts
    assert counts[("tcp", "2001:db8::210", 443)]["real_servers"][("2001:db8::76", 443)]["active_connections"] == 0


def test_stats_and_rate():
    stats = _ipvs.parse_list(recorded("info_traffic", ["-Ln", "--stats", "--exact"]), _ipvs.STATS_COLUMNS)
    assert stats[("tcp", "172.16.11.210", 80)]["counters"] == {
        "connections": 1,
        "packets_in": 1,
        "packets_out": 1,
        "bytes_in": 60,
        "bytes_out": 40,
    }
    assert stats[("udp", "172.16.11.211", 5060)]["real_servers"][("172.16.11.78", 5060)]["bytes_in"] == 93
    assert stats[("fwmark", "ipv6", 7)]["counters"]["connections"] == 0
    rate = _ipvs.parse_list(recorded("info_traffic", ["-Ln", "--rate", "--exact"]), _ipvs.RATE_COLUMNS)
    assert set(rate[("tcp", "172.16.11.210", 80)]["counters"]) == set(_ipvs.RATE_COLUMNS)
    assert len(rate) == 7


def test_parse_list_errors():
    text = recorded("info_traffic", ["-Ln", "--stats", "--exact"])
    with pytest.raises(LvsError, match="expected 5 columns"):
        _ipvs.parse_list(text.replace("60       40", "60"), _ipvs.STATS_COLUMNS)
    lines = text.splitlines(True)
    orphan = "".join(lines[:3] + [line for line in lines[3:] if "->" in line])
    with pytest.raises(LvsError, match="real server before any service"):
        _ipvs.parse_list(orphan, _ipvs.STATS_COLUMNS)
    with pytest.raises(LvsError, match="not a service line"):
        _ipvs.parse_list(text.replace("SCTP", "ESP"), _ipvs.STATS_COLUMNS)


def test_version_timeout_daemon():
    assert _ipvs.parse_version(recorded("info_empty", ["-Ln", "--thresholds"])) == {
        "version": "1.2.1",
        "table_size": 4096,
    }
    assert _ipvs.parse_timeout(recorded("info_empty", ["-L", "--timeout"])) == {"tcp": 900, "tcpfin": 120, "udp": 300}
    assert _ipvs.parse_timeout(recorded("settings_set", ["-L", "--timeout"], 1)) == {
        "tcp": 7200,
        "tcpfin": 120,
        "udp": 60,
    }
    assert _ipvs.parse_daemon(recorded("info_empty", ["-L", "--daemon"])) == {"master": None, "backup": None}
    daemons = _ipvs.parse_daemon(recorded("settings_change_daemon", ["-L", "--daemon"], 1))
    assert daemons == {
        "master": {"interface": "ens2", "syncid": 20, "maxlen": 1472, "group": "224.0.0.81", "port": 8848, "ttl": 1},
        "backup": {"interface": "ens2", "syncid": 20, "maxlen": 1472, "group": "224.0.0.81", "port": 8849, "ttl": 1},
    }
    with pytest.raises(LvsError, match="no 'IP Virtual Server version'"):
        _ipvs.parse_version(recorded("info_empty", ["-L", "--timeout"]))
    with pytest.raises(LvsError, match="unexpected output"):
        _ipvs.parse_timeout(recorded("info_empty", ["-Ln", "--thresholds"]))
    text = recorded("settings_set", ["-L", "--daemon"], 1)
    with pytest.raises(LvsError, match="unexpected 'colour=red'"):
        _ipvs.parse_daemon(text.replace("ttl=1", "colour=red"))
    with pytest.raises(LvsError, match="line 1: unexpected"):
        _ipvs.parse_daemon(text.replace("master", "primary"))


def test_connections():
    text = recorded("info_traffic", ["-Lcn", "--persistent-conn"])
    connections = _ipvs.parse_connections(text)
    assert connections == [
        {
            "protocol": "udp",
            "expires": 107,
            "state": "UDP",
            "client": "172.16.11.74:52911",
            "virtual": "172.16.11.211:5060",
            "destination": "172.16.11.76:5060",
            "persistence_engine": None,
            "persistence_data": None,
        }
    ]
    with pytest.raises(LvsError, match="unexpected"):
        _ipvs.parse_connections(text.replace(" 172.16.11.76:5060", ""))


def test_explain_failure():
    (call,) = load("noipvs_service")["calls"]
    message = _ipvs.explain_failure("reading", call["rc"], call["stdout"], call["stderr"])
    assert message == "reading: " + _ipvs.NO_IPVS
    call = load("settings_bad_interface")["calls"][-1]
    assert _ipvs.explain_failure("starting", call["rc"], call["stdout"], call["stderr"]) == (
        "starting failed (rc=255): No such device"
    )


# --------------------------------------------------------------------------- planning


@pytest.mark.parametrize("scenario", SERVICE_SCENARIOS)
def test_plan_is_what_ran(scenario):
    """The plan from the recorded table is the batch the module sent."""
    wanted, purge = desired(scenario)
    commands = _ipvs.plan(table(scenario), wanted, purge)
    batches = [c["stdin"] for c in load(scenario)["calls"] if c["argv"] == ["-R"]]
    if load(scenario)["check_mode"]:
        assert commands
        assert batches == []
        real = scenario.replace("_check", "_create") if "fwmark" in scenario else scenario[: -len("_check")]
        assert commands == _ipvs.plan(table(real), *desired(real))
    else:
        assert batches == ([_ipvs.restore_input(commands)] if commands else [])


@pytest.mark.parametrize("scenario", CHANGING)
def test_kernel_reached_desired(scenario):
    """After the batch the real kernel's table needs no further change, and
    predict() (check mode) foresaw it exactly."""
    wanted, purge = desired(scenario)
    after = table(scenario, 1)
    assert _ipvs.plan(after, wanted, purge) == []
    assert _ipvs.predict(table(scenario), wanted, purge) == _ipvs.sort_services(after)


@pytest.mark.parametrize("scenario", [s for s in SERVICE_SCENARIOS if s.endswith("unchanged") or "missing" in s])
def test_plan_empty_when_current_is_desired(scenario):
    wanted, purge = desired(scenario)
    assert _ipvs.plan(table(scenario), wanted, purge) == []


def test_plan_tcp_edit():
    wanted = desired("service_tcp_edit")[0]
    assert _ipvs.plan(table("service_tcp_edit"), wanted) == [
        ["-E", "-t", "172.16.11.210:80", "-s", "rr", "-p", "300", "-M", "255.255.255.0"],
        ["-d", "-t", "172.16.11.210:80", "-r", "172.16.11.77:80"],
        ["-d", "-t", "172.16.11.210:80", "-r", "172.16.11.78:80"],
        ["-e", "-t", "172.16.11.210:80", "-r", "172.16.11.76:80", "-g", "-w", "3", "-x", "100", "-y", "10"],
        ["-a", "-t", "172.16.11.210:80", "-r", "172.16.11.77:8080", "-m", "-w", "1"],
        ["-a", "-t", "172.16.11.210:80", "-r", "172.16.11.79:80", "-g", "-w", "1"],
    ]


def test_plan_purge_and_absent():
    wanted, purge = desired("services_purge")
    commands = _ipvs.plan(table("services_purge"), wanted, purge)
    assert [c for c in commands if c[0] == "-D"] == [
        ["-D", "-t", "172.16.11.213:8080"],
        ["-D", "-t", "172.16.11.214:0"],
        ["-D", "--sctp-service", "172.16.11.212:9000"],
        ["-D", "-t", "[2001:db8::210]:443"],
        ["-D", "-f", "7", "-6"],
    ]
    assert ["-E", "-t", "172.16.11.210:80", "-s", "lc"] in commands
    # without purge only the absent one goes
    commands = _ipvs.plan(table("services_purge"), wanted, False)
    assert [c for c in commands if c[0] == "-D"] == [["-D", "-f", "7", "-6"]]


def test_plan_keep_other_real_servers():
    wanted = desired("service_keep_others")[0]
    assert _ipvs.plan(table("service_keep_others"), wanted) == [
        ["-e", "-t", "172.16.11.210:80", "-r", "172.16.11.76:80", "-g", "-w", "5"],
        ["-a", "-t", "172.16.11.210:80", "-r", "172.16.11.79:80", "-g", "-w", "2"],
    ]
    after = table("service_keep_others", 1)
    assert [rs["address"] for rs in after[0]["real_servers"]] == [
        "172.16.11.76",
        "172.16.11.77",
        "172.16.11.78",
        "172.16.11.79",
    ]


def test_plan_tunnel_matches_what_ipvsadm_prints():
    current = table("services_purge")
    service = next(s for s in current if s["port"] == 8080)
    assert _ipvs.real_server_args(service, service["real_servers"][1]) == [
        "-a",
        "-t",
        "172.16.11.213:8080",
        "-r",
        "172.16.11.77:8080",
        "-i",
        "-w",
        "1",
        "--tun-type",
        "ipip",
    ]


def test_split_applied_after_race():
    """Another actor created the service between read and batch (recorded):
    the kernel refused -A and one -a; the report says which took effect."""
    wanted = desired("service_race")[0]
    commands = _ipvs.plan(table("service_race"), wanted)
    applied, not_applied = _ipvs.split_applied(commands, table("service_race", 1))
    assert applied == [["-a", "-t", "172.16.11.210:80", "-r", "172.16.11.77:80", "-g", "-w", "1"]]
    assert not_applied == [
        ["-A", "-t", "172.16.11.210:80", "-s", "wlc"],
        ["-a", "-t", "172.16.11.210:80", "-r", "172.16.11.76:80", "-g", "-w", "2"],
    ]
    assert "Service already exists" in load("service_race")["calls"][2]["stderr"]


def test_split_applied_deletions():
    wanted, purge = desired("services_purge")
    commands = _ipvs.plan(table("services_purge"), wanted, purge)
    applied, not_applied = _ipvs.split_applied(commands, table("services_purge", 1))
    assert (applied, not_applied) == (commands, [])
    applied, not_applied = _ipvs.split_applied(commands, table("services_purge", 0))
    assert ["-D", "-f", "7", "-6"] in not_applied
    assert ["-a", "-u", "172.16.11.211:5060", "-r", "172.16.11.76:5060", "-g", "-w", "1"] in not_applied


def test_diff_only_changed_services():
    wanted, purge = desired("services_purge")
    before = table("services_purge")
    changes = _ipvs.diff(before, _ipvs.predict(before, wanted, purge))
    # Every service of the table but the tutorial's, which the batch keeps as it is.
    assert sorted(changes["before"]) == [name for name in MIXED_NAMES if name != "fwmark 3"]
    assert sorted(changes["after"]) == ["tcp 172.16.11.210:80", "udp 172.16.11.211:5060"]
    assert changes["after"]["tcp 172.16.11.210:80"]["scheduler"] == "lc"


# --------------------------------------------------------------------------- normalising

GOOD = {"protocol": "tcp", "address": "172.16.11.210", "port": 80, "real_servers": [{"address": "172.16.11.76"}]}


def test_normalise_takes_the_text_an_inventory_gives_for_booleans_and_numbers():
    # The module's services elements reach normalise_service as given (AnsibleModule does not
    # convert them): "yes", "false" and "80" from an inventory or -e mean what they say.
    item = _ipvs.normalise_service(
        {
            "fwmark": "3",
            "one_packet": "yes",
            "purge_real_servers": "false",
            "real_servers": [{"address": "172.16.11.76", "weight": "2"}],
        }
    )
    assert item.service["fwmark"] == 3 and item.service["one_packet"] is True
    assert item.purge_real_servers is False
    assert item.service["real_servers"][0]["weight"] == 2


def test_normalise_defaults():
    item = _ipvs.normalise_service({"address": "172.16.11.210", "port": 80})
    assert item.state == "present"
    assert item.purge_real_servers is True
    assert item.service["protocol"] == "tcp"
    assert item.service["scheduler"] == "wlc"
    fw = _ipvs.normalise_service({"fwmark": 3, "persistent": 400, "real_servers": [{"address": "172.16.11.76"}]})
    assert fw.service["persistence_netmask"] == "255.255.255.255"
    assert fw.service["real_servers"][0] == {
        "address": "172.16.11.76",
        "port": 0,
        "forwarding": "route",
        "weight": 1,
        "upper_threshold": 0,
        "lower_threshold": 0,
    }
    v6 = _ipvs.normalise_service({"fwmark": 3, "family": "ipv6", "persistent": 60})
    assert v6.service["persistence_netmask"] == "128"
    assert _ipvs.normalise_service(dict(GOOD, persistent=60, persistence_netmask="24")).service[
        "persistence_netmask"
    ] == ("255.255.255.0")


@pytest.mark.parametrize(
    "change,message",
    [
        ({"address": "172.16.11.300"}, "address must be an IP address"),
        ({"port": 70000}, "port must be between 0 and 65535"),
        ({"port": 0}, "port 0 .all ports. needs persistent"),
        ({"port": None}, "port is required"),
        ({"address": None}, "give either address"),
        ({"protocol": "icmp"}, "protocol must be one of tcp, udp, sctp"),
        ({"scheduler": "fastest"}, "scheduler must be one of"),
        ({"fwmark": 3}, "fwmark and address are mutually exclusive"),
        ({"address": None, "port": None, "protocol": None, "fwmark": 0}, "fwmark must be between 1 and 4294967295"),
        ({"persistent": -1}, "persistent must be between 0"),
        ({"persistence_engine": "sip"}, "persistence_engine needs persistent"),
        ({"persistence_netmask": "255.255.0.0"}, "persistence_netmask needs persistent"),
        ({"persistent": 60, "persistence_netmask": "255.0.255.0"}, "must be an IPv4 netmask"),
        ({"persistent": 60, "persistence_engine": "rtp"}, "persistence_engine must be one of sip"),
        ({"one_packet": True}, "one_packet works only for udp or fwmark"),
        ({"scheduler_flags": ["sh-everything"]}, "scheduler_flags must be one of"),
        ({"family": "ipv6"}, "family ipv6 does not match"),
        ({"state": "gone"}, "state must be one of present, absent"),
        ({"colour": "red"}, "unknown option.s. colour"),
        ({"real_servers": [{"address": "172.16.11.76", "weight": 65536}]}, "weight must be between 0 and 65535"),
        ({"real_servers": [{"address": "172.16.11.76", "weight": -1}]}, "weight must be between 0 and 65535"),
        ({"real_servers": [{"address": "rs1"}]}, "real_servers.0.: address must be an IP address"),
        ({"real_servers": [{"port": 80}]}, "address is required"),
        ({"real_servers": [{"address": "172.16.11.76", "port": 8080}]}, "only forwarding masq can change the port"),
        ({"real_servers": [{"address": "172.16.11.76", "forwarding": "nat"}]}, "forwarding must be one of"),
        ({"real_servers": [{"address": "2001:db8::76"}]}, "mixed families work only with forwarding tunnel"),
        (
            {"real_servers": [{"address": "172.16.11.76", "upper_threshold": 5, "lower_threshold": 9}]},
            "lower_threshold 9 is above upper_threshold 5",
        ),
        ({"real_servers": [{"address": "172.16.11.76"}, {"address": "172.16.11.76"}]}, "listed twice: 172.16.11.76:80"),
        ({"real_servers": ["172.16.11.76"]}, "must be a dict"),
        ({"real_servers": [{"address": "172.16.11.76", "colour": 1}]}, "unknown option.s. colour"),
    ],
)
def test_normalise_errors(change, message):
    with pytest.raises(LvsError, match=message):
        _ipvs.normalise_service(dict(GOOD, **change))


def test_normalise_ipv6_netmask():
    spec = {"fwmark": 7, "family": "ipv6", "persistent": 120, "persistence_netmask": "129"}
    with pytest.raises(LvsError, match="persistence_netmask must be between 1 and 128"):
        _ipvs.normalise_service(spec)


def test_normalise_services_duplicates():
    with pytest.raises(LvsError, match=r"services listed twice: tcp 172\.16\.11\.210:80"):
        _ipvs.normalise_services([GOOD, dict(GOOD, scheduler="rr")])
    with pytest.raises(LvsError, match=r"services\[1\] must be a dict"):
        _ipvs.normalise_services([GOOD, "tcp 1.2.3.4:80"])


# --------------------------------------------------------------------------- settings


def test_plan_timeouts():
    current = _ipvs.parse_timeout(recorded("settings_set", ["-L", "--timeout"]))
    want = _ipvs.normalise_timeouts({"tcp": 7200, "tcpfin": None, "udp": 60})
    assert _ipvs.plan_timeouts(current, want) == [["--set", "7200", "0", "60"]]
    after = _ipvs.parse_timeout(recorded("settings_set", ["-L", "--timeout"], 1))
    assert _ipvs.plan_timeouts(after, want) == []
    assert _ipvs.plan_timeouts(current, None) == []
    for bad, message in [({"tcp": 0}, "between 1"), ({"tcp": 86400 * 32}, "between 1"), ({"sctp": 5}, "unknown")]:
        with pytest.raises(LvsError, match=message):
            _ipvs.normalise_timeouts(bad)


def test_plan_daemon():
    before = _ipvs.parse_daemon(recorded("settings_change_daemon", ["-L", "--daemon"]))
    after = _ipvs.parse_daemon(recorded("settings_change_daemon", ["-L", "--daemon"], 1))
    master = _ipvs.normalise_daemon({"interface": "ens2", "syncid": 20}, "master")
    backup = _ipvs.normalise_daemon({"interface": "ens2", "syncid": 20, "port": 8849}, "backup")
    assert _ipvs.plan_daemon("master", before["master"], master) == [
        ["--stop-daemon", "master"],
        ["--start-daemon", "master", "--mcast-interface", "ens2", "--syncid", "20"],
    ]
    assert _ipvs.plan_daemon("backup", before["backup"], backup) == [
        ["--start-daemon", "backup", "--mcast-interface", "ens2", "--syncid", "20", "--mcast-port", "8849"],
    ]
    assert _ipvs.plan_daemon("master", after["master"], master) == []
    assert _ipvs.plan_daemon("backup", after["backup"], backup) == []
    # check mode's prediction is what the kernel then showed (MTU 1500 on ens2)
    assert _ipvs.predict_daemon(before["master"], master, 1500) == after["master"]
    assert _ipvs.predict_daemon(before["backup"], backup, 1500) == after["backup"]
    absent = _ipvs.normalise_daemon({"state": "absent"}, "master")
    assert _ipvs.plan_daemon("master", after["master"], absent) == [["--stop-daemon", "master"]]
    assert _ipvs.plan_daemon("master", None, absent) == []
    assert _ipvs.predict_daemon(after["master"], absent) is None
    assert _ipvs.plan_daemon("master", after["master"], None) == []


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"syncid": 1}, "interface must be a network interface name"),
        ({"interface": "eth0; reboot"}, "interface must be a network interface name"),
        ({"interface": "eth0", "syncid": 256}, "syncid must be between 0 and 255"),
        ({"interface": "eth0", "group": "10.0.0.1"}, "group must be a multicast address"),
        ({"interface": "eth0", "port": 0}, "port must be between 1"),
        ({"interface": "eth0", "ttl": 0}, "ttl must be between 1"),
        ({"interface": "eth0", "state": "running"}, "state must be one of"),
        ({"interface": "eth0", "mode": "fast"}, "unknown option"),
    ],
)
def test_normalise_daemon_errors(spec, message):
    with pytest.raises(LvsError, match=message):
        _ipvs.normalise_daemon(spec, "master")


@pytest.mark.parametrize("asked, kept", [(64, 1024), (900, 1024), (1024, 1024), (1500, 1500)])
def test_a_backup_daemons_maxlen_is_what_the_kernel_keeps(asked, kept):
    # Measured on the lab's kernel: a backup started with --sync-maxlen 64 or 900 reads back 1024,
    # so asking for 64 again would restart it on every run.
    spec = {"interface": "ens2", "maxlen": asked}
    assert _ipvs.normalise_daemon(spec, "backup")["maxlen"] == kept
    assert _ipvs.normalise_daemon(spec, "master")["maxlen"] == asked
    running = {"interface": "ens2", "syncid": 0, "maxlen": kept, "group": "224.0.0.81", "port": 8848, "ttl": 1}
    assert _ipvs.plan_daemon("backup", running, _ipvs.normalise_daemon(spec, "backup")) == []


# --------------------------------------------------------------------------- properties

ADDRESSES = ["172.16.11.%d" % n for n in range(76, 82)]
real_server_specs = st.fixed_dictionaries(
    {"address": st.sampled_from(ADDRESSES)},
    optional={
        "weight": st.integers(0, 65535),
        "upper_threshold": st.integers(0, 50),
        "forwarding": st.sampled_from(["route", "tunnel"]),
    },
)
service_specs = st.one_of(
    st.fixed_dictionaries(
        {"address": st.sampled_from(["172.16.11.210", "172.16.11.211"]), "port": st.sampled_from([80, 5060])},
        optional={
            "protocol": st.sampled_from(["tcp", "udp", "sctp"]),
            "scheduler": st.sampled_from(["rr", "wlc", "sh"]),
            "persistent": st.integers(0, 900),
            "real_servers": st.lists(real_server_specs, max_size=4, unique_by=lambda r: r["address"]),
            "purge_real_servers": st.booleans(),
            "state": st.sampled_from(["present", "present", "absent"]),
        },
    ),
    st.fixed_dictionaries(
        {"fwmark": st.sampled_from([3, 7])},
        optional={
            "family": st.sampled_from(["ipv4"]),
            "one_packet": st.booleans(),
            "real_servers": st.lists(real_server_specs, max_size=4, unique_by=lambda r: r["address"]),
            "state": st.sampled_from(["present", "absent"]),
        },
    ),
)


def _key(spec):
    if "fwmark" in spec:
        return ("fw", spec["fwmark"], spec.get("family", "ipv4"))
    return (spec.get("protocol", "tcp"), spec["address"], spec["port"])


@settings(max_examples=300, deadline=None)
@given(
    specs=st.lists(service_specs, max_size=5, unique_by=_key),
    purge=st.booleans(),
    scenario=st.sampled_from(["services_purge", "service_tcp_edit", "info_traffic", "service_fwmark_unchanged"]),
)
def test_plan_then_nothing_left(specs, purge, scenario):
    """From any recorded kernel table, the predicted result of a plan needs
    no further command, and every planned command's effect is in it."""
    current = table(scenario)
    wanted = _ipvs.normalise_services(specs)
    commands = _ipvs.plan(current, wanted, purge)
    after = _ipvs.predict(current, wanted, purge)
    assert _ipvs.plan(after, wanted, purge) == []
    assert _ipvs.split_applied(commands, after) == (commands, [])
    assert (commands == []) == (_ipvs.diff(current, after) == {"before": {}, "after": {}})


def test_fixtures_say_how_they_were_captured():
    for scenario in SCENARIOS:
        captured = load(scenario)["captured"]
        assert captured["by"] == "tests/unit/fixtures/ipvs/capture.py"
        assert captured["on"] in ("director1", "director2", "localhost")
        assert json.dumps(load(scenario)["calls"])
    assert calls_output("info_empty", ["-L", "--timeout"]).startswith("Timeout")


def test_every_changing_scenario_has_a_check_mode_twin():
    """A recorded real run that changed something has a check-mode twin in capture.py, which the module's
    test_check_mode_twin_predicts_the_real_run replays. A run that failed needs none: check mode cannot
    foresee what the kernel refuses (service_race, settings_bad_interface)."""
    results = {s: load(s)["result_at_capture"] for s in SCENARIOS if not load(s)["check_mode"]}
    changing = [s for s, result in results.items() if result.get("changed") and not result.get("failed")]
    assert "service_absent" in changing
    assert [s for s in changing if s not in check_twins()] == []
