"""How lab/proof.py's VRRP partition proof counts failed calls: SIPp's error trace and statistics
file, recorded from SIPp 3.6 on loopback (a peer that never answers: receive timeouts; one that
answers 481: unexpected messages, the SIP lines' CRLF stored as LF), read into call numbers, and
each failed call put in the split or after the heal by when it started, not by when SIPp gave up."""

import csv
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))

from lab import proof

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "sipp"


def fixture(name):
    return (FIXTURES / name).read_text()


def test_sipp_failures_reads_the_call_number_and_time_of_each_unexpected_message():
    assert proof.sipp_failures(fixture("unexpected.errors.log")) == {1: 1796287243.911301, 2: 1796287244.41179}


def test_sipp_failures_reads_receive_timeouts_too():
    assert proof.sipp_failures(fixture("timeouts.errors.log")) == {1: 1796287281.561988, 2: 1796287282.065777}


def test_sipp_failures_of_an_empty_trace_or_one_without_calls_is_empty():
    assert proof.sipp_failures("") == {}
    warning = "2026-12-03\t08:40:31.551758\t1796287231.551758: Maximum number of open sockets (50000) ..."
    assert proof.sipp_failures("The following events occurred:\n" + warning) == {}


def test_sipp_failures_reads_retransmission_timeouts_spelt_call_id():
    event = "2026-12-03\t08:40:36.981418\t100.5: Aborting call on UDP retransmission timeout for Call-ID '9-1@10.0.0.1'"
    assert proof.sipp_failures(event) == {9: 100.5}


def test_a_call_with_two_errors_counts_once_at_its_first():
    first = "2026-12-03\t08:40:36.981418\t100.5: Call-Id: 7-1@10.0.0.1, receive timeout"
    second = "2026-12-03\t08:40:37.981418\t101.5: Aborting call on unexpected message for Call-Id '7-1@10.0.0.1'"
    assert proof.sipp_failures(first + second) == {7: 100.5}


def test_created_by_is_the_count_of_the_first_statistics_row_written_at_or_after_the_time():
    with open(FIXTURES / "timeouts.stat.csv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert proof.created_by(rows, 1796287233.0) == 0
    assert proof.created_by(rows, 1796287234.0) == 1
    assert proof.created_by(rows, 1796287234.478312) == 1
    assert proof.created_by(rows, 1796287234.5) == 2
    # SIPp had ended (its last row is written as it exits): it created every call by then.
    assert proof.created_by(rows, 1796287238.0) == 2


def test_a_call_started_in_the_split_that_fails_after_the_heal_counts_in_the_split():
    # Cut at t=100; 40 calls created by the heal. Call 30 started in the split and its BYE
    # failed at t=150, after the heal; call 41 started after the heal.
    counts = proof.split_failures({5: 90.0, 12: 120.0, 30: 150.0, 41: 151.0}, cut_at=100.0, created_when_healed=40)
    assert counts == {"failed_before_cut": 1, "failed_during_split": 2, "failed_after_heal": 1}


def test_no_failures_count_nowhere():
    assert proof.split_failures({}, cut_at=100.0, created_when_healed=40) == {
        "failed_before_cut": 0,
        "failed_during_split": 0,
        "failed_after_heal": 0,
    }
