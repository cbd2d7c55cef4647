"""What the IPVS module tests share: replaying the recorded ipvsadm calls
(tests/unit/fixtures/ipvs/ipvs_calls.py) and the checks every IPVS module
gets the same way (check mode, no change, failing before any call)."""

import pathlib
import sys

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "ipvs"
sys.path.insert(0, str(FIXTURES))

from ipvs_calls import IPVSADM, load, replay, run_main  # noqa: E402

__all__ = ["assert_check_mode_predicts", "assert_unchanged", "fail_before_any_call", "load", "replay"]


def assert_check_mode_predicts(main, check_scenario, real_scenario, reads, keys):
    """Check mode only reads (`reads`) and returns for `keys` what the real run returned."""
    checked, failed, seen = replay(main, check_scenario, diff=True)
    assert not failed
    assert seen == reads
    real, _failed, _seen = replay(main, real_scenario, diff=True)
    for key in keys:
        assert checked[key] == real[key], key


def assert_unchanged(main, scenario, reads):
    """A table that already matches: only `reads`, no commands, and check mode agrees. The result, with diff."""
    result, failed, seen = replay(main, scenario, diff=True)
    assert not failed
    assert (result["changed"], result["commands"]) == (False, [])
    assert seen == reads
    checked, _failed, _seen = replay(main, scenario, check_mode=True)
    assert checked["changed"] is False
    return result


def fail_before_any_call(main, args, bin_path=IPVSADM):
    """main() with args fails without running anything; its result."""

    def no_calls(*args, **kwargs):
        raise AssertionError("nothing may run")

    result, failed = run_main(main, args, no_calls, bin_path=bin_path)
    assert failed
    return result
