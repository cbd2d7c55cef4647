"""Fixtures for the cluster scenario's verifier: Molecule has brought the lab
up (create.yml) and converged site.yml (converge, idempotence); these tests
look at the running cluster from the client namespace."""

import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from lab import lifecycle, proof  # noqa: E402

# Generous bounds for states to settle on TCG directors; the benchmarks (bench/)
# measure how fast it really is.
SETTLE = 120

# Molecule prints the verifier's report before the destroy step's output; the
# failures also go to this file, which `make test-lab` prints last when the
# scenario fails, so the end of a CI log names the failed test and its assertion.
FAILURES = proof.OUT / "cluster-verify-failures.txt"


def pytest_sessionstart(session):
    FAILURES.unlink(missing_ok=True)


def pytest_runtest_logreport(report):
    if not report.failed:
        return
    lines = report.longreprtext.splitlines()
    errors = [line for line in lines if line.startswith("E ")] or lines[-5:]
    FAILURES.parent.mkdir(parents=True, exist_ok=True)
    with FAILURES.open("a", encoding="utf-8") as out:
        out.write("FAILED %s (%s, %.0f s)\n" % (report.nodeid, report.when, report.duration))
        out.write("".join("  %s\n" % line[:300] for line in errors[:12]))


@pytest.fixture(scope="session")
def converged():
    """The converged lab, settled: the preferred director holds the VIPs with every real server in its pool."""
    if not lifecycle.is_running():
        pytest.fail("the lab is not running: run `molecule converge -s cluster` (or make test-lab) first")
    proof.flush_client_neighbours()
    proof.wait_until(proof.cluster_healthy, SETTLE, 1, "the preferred director holding the VIPs with every real server")
