"""Fixtures for tests against the real lab (make test-lab).

The session fixture `lab` brings the lab up if it is not (and then owns it:
test_zz_teardown takes it down and checks the host is as lab-up found it), or
uses a lab that is already up and leaves it up - unless SIPVS_LAB_TAKE_OVER=1
(make test-lab, after the cluster scenario left its lab up): then it owns that
lab the same way. Tests get `lab.run(host, argv)`,
`lab.inventory` and `lab.ansible(...)`.
"""

import os
import pathlib
import subprocess
import sys
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from lab import config, hosts, lifecycle  # noqa: E402

INVENTORY = REPO / "inventories" / "lab"
VENV_BIN = REPO / ".venv" / "bin"
TAKE_OVER = "SIPVS_LAB_TAKE_OVER"


class Lab:
    """A running lab, as tests see it."""

    inventory = INVENTORY
    hosts = config.HOSTS_BY_NAME

    def __init__(self, owned, before):
        self.owned = owned
        self.before = before

    @staticmethod
    def run(host, argv, timeout=300, input=None):
        """Run argv on a lab host; CompletedProcess with text stdout/stderr, never raises on exit code."""
        return hosts.run(host, argv, timeout=timeout, input=input)

    def apt_install(self, host, *packages, attempts=10):
        """Install packages on a lab host through the lab's package proxy; waits while
        another apt run holds the lock (tests and engineers share the lab)."""
        script = "apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -qy install " + " ".join(packages)
        for _attempt in range(attempts):
            result = self.run(host, ["sh", "-c", script])
            if result.returncode == 0 or "Could not get lock" not in result.stderr:
                return result
            time.sleep(10)
        return result

    @staticmethod
    def ansible(*args, timeout=600):
        """Run the `ansible` CLI against the lab inventory."""
        argv = [str(VENV_BIN / "ansible"), "-i", str(INVENTORY), *args]
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), **config.PODMAN_ENV)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO, check=False)

    @staticmethod
    def ansible_playbook(*args, timeout=1800):
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(INVENTORY), *args]
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), **config.PODMAN_ENV)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO, check=False)


_session = {}


@pytest.fixture(scope="session")
def lab():
    if "lab" not in _session:
        if lifecycle.is_up() and not lifecycle.is_running():
            # Namespaces left by a session whose processes were ended: start from a clean host.
            lifecycle.down(say=lambda _message: None)
        if lifecycle.is_up() and os.environ.get(TAKE_OVER) == "1":
            _session["lab"] = Lab(owned=True, before=lifecycle.host_before_up())
        elif lifecycle.is_up():
            _session["lab"] = Lab(owned=False, before=None)
        else:
            lifecycle.up()
            _session["lab"] = Lab(owned=True, before=lifecycle.host_before_up())
    yield _session["lab"]


def pytest_collection_modifyitems(items):
    """The teardown check runs last, whatever other test files are collected."""
    last = [item for item in items if item.get_closest_marker("lab_teardown")]
    items[:] = [item for item in items if item not in last] + last


def pytest_configure(config):
    config.addinivalue_line("markers", "lab_teardown: takes the lab down; runs after every other lab test")


def pytest_sessionfinish(session, exitstatus):
    """Always take down a lab this session brought up, even after failures or Ctrl-C."""
    owned = _session.get("lab")
    if owned is not None and owned.owned and lifecycle.is_up():
        lifecycle.down()
