"""What the IPVS module tests share: replaying the recorded ipvsadm calls
(tests/unit/fixtures/ipvs/ipvs_calls.py) and the checks every IPVS module
gets the same way (check mode, no change, failing before any call)."""

import pathlib
import sys

import pytest

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "ipvs"
sys.path.insert(0, str(FIXTURES))

from capture import check_twins  # noqa: E402
from ipvs_calls import IPVSADM, check_twin, load, replay, run_main, writes  # noqa: E402

__all__ = [
    "assert_check_twin_predicts",
    "assert_unchanged",
    "check_twin_params",
    "fail_before_any_call",
    "load",
    "replay",
]


def check_twin_params(module):
    """pytest params (real scenario, its check-mode twin) for the scenarios of `module` that have a twin."""
    return [
        pytest.param(real, twin, id=real)
        for real, twin in sorted(check_twins().items())
        if load(real)["module"] == module
    ]


def twin_scenario(real, twin):
    """The twin as the lab recorded it, which must be what check_twin derives from the real run; else derived."""
    derived = check_twin(load(real), twin)
    if not (FIXTURES / ("%s.json" % twin)).exists():
        return derived
    recorded = load(twin)
    for key in ("module", "args", "setup", "check_mode", "calls"):
        assert recorded[key] == derived[key], key
    return recorded


def assert_check_twin_predicts(main, real, twin, reads):
    """The twin only reads (`reads`), and returns what the real run returned: changed, commands, diff, state."""
    checked, failed, seen = replay(main, twin_scenario(real, twin), diff=True)
    assert not failed
    assert [argv for argv in seen if writes(argv)] == []
    assert seen == reads
    result, failed, seen = replay(main, real, diff=True)
    assert not failed
    assert result["changed"] is True
    assert checked == result


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
