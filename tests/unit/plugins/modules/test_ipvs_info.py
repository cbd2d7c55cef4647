"""sipvs.lvs.ipvs_info driven through main() against recorded ipvsadm calls
(tests/unit/fixtures/ipvs/*.json, captured from the lab's director VM)."""

from ansible_collections.sipvs.lvs.plugins.module_utils import _ipvs
from ansible_collections.sipvs.lvs.plugins.modules import ipvs_info
from ansible_collections.sipvs.lvs.tests.unit.plugins.modules._helpers import fail_before_any_call, load, replay

READS = [
    ["-Sn"],
    ["-Ln", "--thresholds"],
    ["-Ln", "--stats", "--exact"],
    ["-Ln", "--rate", "--exact"],
    ["-L", "--timeout"],
    ["-L", "--daemon"],
]


def test_empty_table():
    result, failed, seen = replay(ipvs_info.main, "info_empty")
    assert not failed
    assert seen == READS
    assert result["changed"] is False
    assert result["services"] == []
    assert result["version"] == {"version": "1.2.1", "table_size": 4096}
    assert result["timeouts"] == {"tcp": 900, "tcpfin": 120, "udp": 300}
    assert result["sync_daemons"] == {"master": None, "backup": None}
    assert "connections" not in result
    assert result["commands"] == [["ipvsadm", *argv] for argv in READS]


def test_table_with_traffic_counters_and_connections():
    result, failed, seen = replay(ipvs_info.main, "info_traffic")
    assert not failed
    assert seen == [*READS, ["-Lcn", "--persistent-conn"]]
    services = {_ipvs.service_name(s): s for s in result["services"]}
    assert list(services) == [
        "fwmark 7 ipv6",
        "tcp 172.16.11.210:80",
        "tcp 172.16.11.213:8080",
        "tcp 172.16.11.214:0",
        "udp 172.16.11.211:5060",
        "sctp 172.16.11.212:9000",
        "tcp [2001:db8::210]:443",
    ]
    http = services["tcp 172.16.11.210:80"]
    assert http["stats"] == {"connections": 1, "packets_in": 1, "packets_out": 1, "bytes_in": 60, "bytes_out": 40}
    assert http["real_servers"][2]["address"] == "172.16.11.78"
    assert http["real_servers"][2]["stats"]["connections"] == 1
    assert http["real_servers"][2]["forwarding"] == "masq"
    assert set(http["rate"]) == set(_ipvs.RATE_COLUMNS)
    udp = services["udp 172.16.11.211:5060"]
    assert udp["persistent"] == 60
    assert udp["one_packet"] is True
    assert udp["real_servers"][0]["inactive_connections"] == 1
    assert udp["real_servers"][0]["active_connections"] == 0
    nat = services["tcp 172.16.11.213:8080"]["real_servers"][0]
    assert (nat["upper_threshold"], nat["lower_threshold"]) == (100, 20)
    assert services["tcp 172.16.11.214:0"]["real_servers"] == []
    assert result["sync_daemons"]["master"] == {
        "interface": "ens2",
        "syncid": 10,
        "maxlen": 1472,
        "group": "224.0.0.81",
        "port": 8848,
        "ttl": 1,
    }
    assert result["connections"][0]["virtual"] == "172.16.11.211:5060"


def test_check_mode_is_the_same_read():
    result, failed, seen = replay(ipvs_info.main, "info_empty", check_mode=True)
    assert not failed
    assert seen == READS
    assert result["changed"] is False


def test_without_stats_and_rate():
    args = {"stats": False, "rate": False}
    scenario = {"args": args, "check_mode": False, "calls": []}
    recorded = load("info_empty")["calls"]
    scenario["calls"] = [c for c in recorded if c["argv"] not in (READS[2], READS[3])]
    result, failed, seen = replay(ipvs_info.main, scenario)
    assert not failed
    assert result["timeouts"]["tcp"] == 900
    assert seen == [READS[0], READS[1], READS[4], READS[5]]


def test_no_ipvs_in_kernel():
    result, failed, _seen = replay(ipvs_info.main, "noipvs_info")
    assert failed
    assert "the kernel has no IPVS" in result["msg"]
    assert result["commands"] == [["ipvsadm", "-Sn"]]


def test_ipvsadm_missing():
    result = fail_before_any_call(ipvs_info.main, {}, bin_path=None)
    assert result["msg"] == _ipvs.NOT_INSTALLED
