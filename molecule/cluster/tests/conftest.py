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


@pytest.fixture(scope="session")
def converged():
    """The converged lab, settled: one director holds the VIPs with every real server in its pool."""
    if not lifecycle.is_running():
        pytest.fail("the lab is not running: run `molecule converge -s cluster` (or make test-lab) first")
    proof.flush_client_neighbours()
    proof.wait_until(proof.cluster_healthy, SETTLE, 1, "a VIP holder with every real server in its pool")
