"""The `make lab` report's numbers: SIPp's statistics rows (recorded from SIPp 3.6 on loopback) read
into calls, call rate and response time, and the report's picture drawn from a sample a second."""

import csv
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))

from lab import proof, report

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "sipp"


def rows():
    with open(FIXTURES / "timeouts.stat.csv", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_sipp_seconds_reads_both_time_formats():
    assert proof.sipp_seconds("00:01:05") == 65.0
    assert proof.sipp_seconds("00:00:00:003000") == 0.003
    assert proof.sipp_seconds("") == 0.0
    assert proof.sipp_seconds("garbage") == 0.0


def test_sipp_numbers_of_a_row_and_of_no_row():
    last = rows()[-1]
    numbers = proof.sipp_numbers(last)
    assert numbers["created"] == int(last["TotalCallCreated"])
    assert numbers["failed"] == int(last["FailedCall(C)"])
    assert numbers["call_rate"] == round(float(last["CallRate(P)"]), 2)
    assert numbers["response_ms"] == round(proof.sipp_seconds(last["ResponseTime1(P)"]) * 1000, 1)
    assert proof.sipp_numbers({}) == {
        "created": 0,
        "current": 0,
        "successful": 0,
        "failed": 0,
        "call_rate": 0.0,
        "response_ms": 0.0,
    }


def test_the_report_draws_every_panel_with_its_events(tmp_path):
    samples = [
        {
            "t": float(t),
            "created": 10 * t,
            "successful": 8 * t,
            "failed": 1 if t > 5 else 0,
            "current": 2,
            "call_rate": 10.0,
            "response_ms": 3.0 + t,
            "per_real_server": {"rs1": 3 * t, "rs2": None if t == 4 else 3 * t, "rs3": 2 * t},
            "client_sends_to": "director1" if t < 5 else "director2",
        }
        for t in range(1, 11)
    ]
    data = {
        "samples": samples,
        "events": [{"t": 5.0, "event": "failover", "from": "director1", "to": "director2"}],
        "calls_per_real_server": {"rs1": 30, "rs2": 30, "rs3": 20},
        "calls": {"attempted": 100, "succeeded": 80, "failed": 1, "sipp_exit": 1, "seconds": 10.0},
    }
    report.plot(data, tmp_path / "report.png")
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
