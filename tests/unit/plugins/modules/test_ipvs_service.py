"""sipvs.lvs.ipvs_service driven through main() against recorded ipvsadm
calls (tests/unit/fixtures/ipvs/*.json, captured from the lab's director VM:
every argv and stdin must match the recording, in order)."""

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils import _ipvs
from ansible_collections.sipvs.lvs.plugins.modules import ipvs_service
from ansible_collections.sipvs.lvs.tests.unit.plugins.modules._helpers import (
    assert_check_twin_predicts,
    assert_unchanged,
    check_twin_params,
    fail_before_any_call,
    replay,
)

RS = ["172.16.11.76", "172.16.11.77", "172.16.11.78"]
READS = [["-Sn"], ["-Ln", "--thresholds"]]


def rs(address, port, forwarding="route", weight=1, upper=0, lower=0):
    return {
        "address": address,
        "port": port,
        "forwarding": forwarding,
        "weight": weight,
        "upper_threshold": upper,
        "lower_threshold": lower,
    }


TUTORIAL_SIP = {
    "protocol": None,
    "address": None,
    "port": None,
    "fwmark": 3,
    "family": "ipv4",
    "scheduler": "wlc",
    "scheduler_flags": [],
    "persistent": None,
    "persistence_netmask": None,
    "persistence_engine": None,
    "one_packet": False,
    "real_servers": [rs(a, 0) for a in RS],
}
TUTORIAL_COMMANDS = [
    ["ipvsadm", "-A", "-f", "3", "-s", "wlc"],
    ["ipvsadm", "-a", "-f", "3", "-r", "172.16.11.76:0", "-g", "-w", "1"],
    ["ipvsadm", "-a", "-f", "3", "-r", "172.16.11.77:0", "-g", "-w", "1"],
    ["ipvsadm", "-a", "-f", "3", "-r", "172.16.11.78:0", "-g", "-w", "1"],
]


def test_create_tutorial_sip_service():
    result, failed, seen = replay(ipvs_service.main, "service_fwmark_create", diff=True)
    assert not failed
    assert result["changed"] is True
    assert result["commands"] == TUTORIAL_COMMANDS
    assert seen == [*READS, ["-R"], *READS]
    assert result["service"] == TUTORIAL_SIP
    assert result["service_names"] == ["fwmark 3"]
    assert result["diff"] == {"before": {}, "after": {"fwmark 3": TUTORIAL_SIP}}


@pytest.mark.parametrize("real,twin", check_twin_params("ipvs_service"))
def test_check_mode_twin_predicts_the_real_run(real, twin):
    assert_check_twin_predicts(ipvs_service.main, real, twin, READS)


def test_unchanged_tutorial():
    result = assert_unchanged(ipvs_service.main, "service_fwmark_unchanged", READS)
    assert result["service"] == TUTORIAL_SIP
    assert result["diff"] == {"before": {}, "after": {}}


def test_udp_sip_persistence_engine_one_packet():
    result, failed, _seen = replay(ipvs_service.main, "service_udp_sip_create")
    assert not failed
    assert result["commands"][0] == [
        "ipvsadm",
        "-A",
        "-u",
        "172.16.11.211:5060",
        "-s",
        "rr",
        "-p",
        "60",
        "-M",
        "0.0.0.0",
        "--pe",
        "sip",
        "-o",
    ]
    service = result["service"]
    assert (service["persistent"], service["persistence_netmask"], service["persistence_engine"]) == (
        60,
        "0.0.0.0",
        "sip",
    )
    assert service["one_packet"] is True
    assert service["real_servers"] == [rs(a, 5060) for a in RS]


def test_edit_real_servers_and_service():
    result, failed, _seen = replay(ipvs_service.main, "service_tcp_edit", diff=True)
    assert not failed
    assert result["changed"] is True
    assert [c[1] for c in result["commands"]] == ["-E", "-d", "-d", "-e", "-a", "-a"]
    service = result["service"]
    assert service["scheduler"] == "rr"
    assert service["persistent"] == 300
    assert service["persistence_netmask"] == "255.255.255.0"
    assert service["real_servers"] == [
        rs("172.16.11.76", 80, weight=3, upper=100, lower=10),
        rs("172.16.11.77", 8080, "masq"),
        rs("172.16.11.79", 80),
    ]
    before = result["diff"]["before"]["tcp 172.16.11.210:80"]
    assert before["scheduler"] == "wlc"
    assert [r["address"] for r in before["real_servers"]] == RS
    checked, failed, seen = replay(ipvs_service.main, "service_tcp_edit_check", diff=True)
    assert not failed
    assert seen == READS
    assert (checked["commands"], checked["service"], checked["diff"]) == (
        result["commands"],
        result["service"],
        result["diff"],
    )


def test_keep_other_real_servers():
    result, failed, _seen = replay(ipvs_service.main, "service_keep_others")
    assert not failed
    assert result["commands"] == [
        ["ipvsadm", "-e", "-t", "172.16.11.210:80", "-r", "172.16.11.76:80", "-g", "-w", "5"],
        ["ipvsadm", "-a", "-t", "172.16.11.210:80", "-r", "172.16.11.79:80", "-g", "-w", "2"],
    ]
    assert [(r["address"], r["weight"]) for r in result["service"]["real_servers"]] == [
        ("172.16.11.76", 5),
        ("172.16.11.77", 1),
        ("172.16.11.78", 1),
        ("172.16.11.79", 2),
    ]


def test_absent():
    result, failed, _seen = replay(ipvs_service.main, "service_absent", diff=True)
    assert not failed
    assert result["changed"] is True
    assert result["commands"] == [["ipvsadm", "-D", "-t", "172.16.11.210:80"]]
    assert result["service"] is None
    assert list(result["diff"]["before"]) == ["tcp 172.16.11.210:80"]
    assert result["diff"]["after"] == {}
    result, failed, seen = replay(ipvs_service.main, "service_absent_missing")
    assert (failed, result["changed"], result["commands"], result["service"]) == (False, False, [], None)
    assert seen == READS


def test_many_services_with_purge():
    result, failed, seen = replay(ipvs_service.main, "services_purge", diff=True)
    assert not failed
    assert result["changed"] is True
    assert seen.count(["-R"]) == 1
    assert len(result["commands"]) == 10
    assert [_ipvs.service_name(s) for s in result["services"]] == [
        "fwmark 3",
        "tcp 172.16.11.210:80",
        "udp 172.16.11.211:5060",
    ]
    assert result["services"][0] == TUTORIAL_SIP
    assert "fwmark 7 ipv6" in result["diff"]["before"]
    assert "fwmark 7 ipv6" not in result["diff"]["after"]
    checked, failed, seen = replay(ipvs_service.main, "services_purge_check", diff=True)
    assert not failed
    assert ["-R"] not in seen
    for key in ("changed", "commands", "services", "service_names", "diff"):
        assert checked[key] == result[key], key
    again, failed, _seen = replay(ipvs_service.main, "services_unchanged", diff=True)
    assert (failed, again["changed"], again["commands"]) == (False, False, [])
    assert again["services"] == result["services"]


def test_batch_failure_reports_applied_and_not_applied():
    result, failed, _seen = replay(ipvs_service.main, "service_race")
    assert failed
    assert result["msg"].startswith("ipvsadm -R applied 1 of 3 planned commands; the table does not match")
    assert "Service already exists" in result["msg"]
    assert result["applied"] == [
        ["ipvsadm", "-a", "-t", "172.16.11.210:80", "-r", "172.16.11.77:80", "-g", "-w", "1"],
    ]
    assert result["not_applied"] == [
        ["ipvsadm", "-A", "-t", "172.16.11.210:80", "-s", "wlc"],
        ["ipvsadm", "-a", "-t", "172.16.11.210:80", "-r", "172.16.11.76:80", "-g", "-w", "2"],
    ]
    assert result["changed"] is True
    assert result["stderr"] == "Service already exists\nDestination already exists\n"


def test_no_ipvs_in_kernel():
    result, failed, _seen = replay(ipvs_service.main, "noipvs_service")
    assert failed
    assert "the kernel has no IPVS" in result["msg"]
    assert "Protocol not available" in result["msg"]
    assert result["rc"] == 2


def test_ipvsadm_missing():
    result = fail_before_any_call(ipvs_service.main, {"fwmark": 3}, bin_path=None)
    assert result["msg"] == _ipvs.NOT_INSTALLED


@pytest.mark.parametrize(
    "args,message",
    [
        ({"fwmark": 0}, "fwmark must be between 1 and 4294967295"),
        ({"address": "172.16.11.300", "port": 80}, "address must be an IP address"),
        ({"address": "172.16.11.210", "port": 65536}, "port must be between 0 and 65535"),
        ({"fwmark": 3, "real_servers": [{"address": "172.16.11.76", "weight": 70000}]}, "weight must be between"),
        ({"fwmark": 3, "scheduler": "fastest"}, "value of scheduler must be one of"),
        ({"fwmark": 3, "real_servers": [{"address": RS[0]}, {"address": RS[0]}]}, "listed twice"),
        ({"services": [{"fwmark": 3}, {"fwmark": 3}]}, "services listed twice: fwmark 3"),
        ({"services": [{"fwmark": 3}], "fwmark": 3}, "mutually exclusive"),
        ({"fwmark": 3, "purge": True}, "purge works only with services"),
        ({"scheduler": "rr"}, "one of the following is required: services, address, fwmark"),
        ({"fwmark": 3, "persistence_engine": "sip"}, "persistence_engine needs persistent"),
        # The elements of services are checked by normalise_services, not by AnsibleModule:
        # each mistake is named by its place in the list.
        ({"services": [{"fwmark": 3, "weight": 2}]}, "services[0]: unknown option(s) weight"),
        ({"services": [{"fwmark": 3}, {"address": RS[0]}]}, "services[1]: port is required with address"),
        ({"services": [{"fwmark": 3, "one_packet": "often"}]}, "services[0] fwmark 3: one_packet must be a boolean"),
        ({"services": [{"fwmark": 3, "purge_real_servers": []}]}, "purge_real_servers must be a boolean"),
        ({"services": [{"fwmark": 3, "state": "gone"}]}, "services[0]: state must be one of present, absent"),
        ({"services": [{"fwmark": 3, "scheduler": "fastest"}]}, "services[0] fwmark 3: scheduler must be one of"),
        (
            {"services": [{"fwmark": 3, "real_servers": [{"address": RS[0], "wieght": 2}]}]},
            "services[0] fwmark 3: real_servers[0]: unknown option(s) wieght",
        ),
        (
            {"services": [{"fwmark": 3, "real_servers": [{"address": RS[0], "weight": "heavy"}]}]},
            "services[0] fwmark 3: real_servers[0]: weight must be an integer",
        ),
        ({"services": [{"fwmark": 3, "real_servers": [{"port": 80}]}]}, "real_servers[0]: address is required"),
        (
            {"services": [{"fwmark": 3, "real_servers": "10.0.0.1"}]},
            "services[0] fwmark 3: real_servers must be a list",
        ),
        ({"services": ["fwmark 3"]}, "Elements value for option 'services' is of type str"),
    ],
)
def test_invalid_input_fails_before_any_call(args, message):
    assert message in fail_before_any_call(ipvs_service.main, args)["msg"]
