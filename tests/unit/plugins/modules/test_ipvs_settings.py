"""sipvs.lvs.ipvs_settings driven through main() against recorded ipvsadm
calls (tests/unit/fixtures/ipvs/*.json, captured from the lab's director VM)."""

from unittest import mock

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils import _ipvs
from ansible_collections.sipvs.lvs.plugins.modules import ipvs_settings
from ansible_collections.sipvs.lvs.tests.unit.plugins.modules._helpers import (
    assert_check_twin_predicts,
    assert_unchanged,
    check_twin_params,
    fail_before_any_call,
    replay,
)

READS = [["-L", "--timeout"], ["-L", "--daemon"]]
MASTER_10 = {"interface": "ens2", "syncid": 10, "maxlen": 1472, "group": "224.0.0.81", "port": 8848, "ttl": 1}


@pytest.fixture(autouse=True)
def ens2_mtu():
    """The director VM's ens2 has MTU 1500 (check mode predicts maxlen from it)."""
    with mock.patch.object(ipvs_settings, "_mtu", lambda interface: 1500):
        yield


def test_set_timeouts_and_start_master():
    result, failed, seen = replay(ipvs_settings.main, "settings_set", diff=True)
    assert not failed
    assert result["changed"] is True
    assert result["commands"] == [
        ["ipvsadm", "--set", "7200", "0", "60"],
        ["ipvsadm", "--start-daemon", "master", "--mcast-interface", "ens2", "--syncid", "10"],
    ]
    assert seen == [*READS, result["commands"][0][1:], result["commands"][1][1:], *READS]
    assert result["timeouts"] == {"tcp": 7200, "tcpfin": 120, "udp": 60}
    assert result["sync_daemons"] == {"master": MASTER_10, "backup": None}
    assert result["diff"]["before"] == {
        "timeouts": {"tcp": 900, "tcpfin": 120, "udp": 300},
        "sync_daemons": {"master": None, "backup": None},
    }


@pytest.mark.parametrize("real,twin", check_twin_params("ipvs_settings"))
def test_check_mode_twin_predicts_the_real_run(real, twin):
    assert_check_twin_predicts(ipvs_settings.main, real, twin, READS)


def test_unchanged():
    result = assert_unchanged(ipvs_settings.main, "settings_unchanged", READS)
    assert result["diff"]["before"] == result["diff"]["after"]


def test_change_daemon_restarts_it():
    result, failed, _seen = replay(ipvs_settings.main, "settings_change_daemon")
    assert not failed
    assert result["commands"] == [
        ["ipvsadm", "--stop-daemon", "master"],
        ["ipvsadm", "--start-daemon", "master", "--mcast-interface", "ens2", "--syncid", "20"],
        ["ipvsadm", "--start-daemon", "backup", "--mcast-interface", "ens2", "--syncid", "20", "--mcast-port", "8849"],
    ]
    assert result["sync_daemons"]["master"]["syncid"] == 20
    assert result["sync_daemons"]["backup"]["port"] == 8849


def test_stop_daemon():
    result, failed, _seen = replay(ipvs_settings.main, "settings_stop")
    assert not failed
    assert result["commands"] == [["ipvsadm", "--stop-daemon", "master"]]
    assert result["sync_daemons"] == {"master": None, "backup": None}


def test_failure_reports_what_was_applied():
    result, failed, _seen = replay(ipvs_settings.main, "settings_bad_interface")
    assert failed
    assert result["msg"] == (
        "running ipvsadm --start-daemon backup --mcast-interface nosuch0 --syncid 1 failed (rc=255): No such device"
    )
    assert result["applied"] == [["ipvsadm", "--set", "1000", "0", "0"]]
    assert result["not_applied"] == [
        ["ipvsadm", "--start-daemon", "backup", "--mcast-interface", "nosuch0", "--syncid", "1"]
    ]
    assert result["rc"] == 255


def test_no_ipvs_in_kernel():
    result, failed, _seen = replay(ipvs_settings.main, "noipvs_settings")
    assert failed
    assert "the kernel has no IPVS" in result["msg"]


@pytest.mark.parametrize(
    "args,message",
    [
        ({"timeouts": {"tcp": 0}}, "timeouts: tcp must be between 1"),
        ({"sync_master": {"syncid": 3}}, "interface must be a network interface name"),
        ({"sync_backup": {"interface": "ens2", "syncid": 300}}, "syncid must be between 0 and 255"),
        ({"sync_master": {"interface": "ens2", "group": "172.16.11.1"}}, "group must be a multicast address"),
        ({}, "one of the following is required"),
    ],
)
def test_invalid_input_fails_before_any_call(args, message):
    assert message in fail_before_any_call(ipvs_settings.main, args)["msg"]


def test_ipvsadm_missing():
    result = fail_before_any_call(ipvs_settings.main, {"timeouts": {"tcp": 900}}, bin_path=None)
    assert result["msg"] == _ipvs.NOT_INSTALLED
