"""Fixtures for the tests that run the real ansible-playbook and ansible of the project venv.

They run on the controller only. ``example_inventory`` copies inventories/example with every host's
ansible_host on a closed port of 127.0.0.1 (its model address moves to lvs_address), so a check that let a
wrong inventory through would touch nothing, and no traffic leaves the machine.
"""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV_BIN = pathlib.Path(sys.executable).parent


def ansible_env():
    """The environment of every ansible command here: the project's ansible.cfg, no colours."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    return env


class ExampleInventory:
    """A copy of inventories/example in ``path``: ``cluster`` is its lvs_cluster, ``addresses`` the model
    address (ansible_host in the example) of every host."""

    def __init__(self, path, cluster, addresses):
        self.path = path
        self.cluster = cluster
        self.addresses = addresses


@pytest.fixture
def example_inventory(tmp_path):
    """``make(edit=None)``: copy inventories/example, apply ``edit(lvs_cluster)``, return an ExampleInventory."""

    def make(edit=None):
        target = tmp_path / "inventory"
        shutil.copytree(ROOT / "inventories" / "example", target)
        hosts = yaml.safe_load((target / "hosts.yml").read_text())
        addresses = {}
        for group in hosts["all"]["children"].values():
            for name, host_vars in group["hosts"].items():
                if host_vars:
                    addresses[name] = host_vars["ansible_host"]
                    # Keep the model's addresses, but connect nowhere: port 9 on loopback is closed.
                    group["hosts"][name] = dict(
                        host_vars, lvs_address=host_vars["ansible_host"], ansible_host="127.0.0.1"
                    )
        hosts["all"]["vars"].update(ansible_port=9, ansible_connection="ansible.builtin.ssh", ansible_timeout=2)
        (target / "hosts.yml").write_text(yaml.safe_dump(hosts))
        cluster_file = target / "group_vars" / "all" / "cluster.yml"
        data = yaml.safe_load(cluster_file.read_text())
        if edit:
            edit(data["lvs_cluster"])
        cluster_file.write_text(yaml.safe_dump(data))
        return ExampleInventory(target, data["lvs_cluster"], addresses)

    return make


@pytest.fixture
def ansible_playbook():
    """``run(inventory, playbook, *args)`` -> (rc, stdout + stderr) of the venv's ansible-playbook, run in the
    checkout; ``playbook`` is relative to it or absolute."""

    def run(inventory, playbook, *args):
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), *args, str(ROOT / playbook)]
        result = subprocess.run(
            argv, check=False, capture_output=True, text=True, env=ansible_env(), cwd=str(ROOT), timeout=300
        )
        return result.returncode, result.stdout + result.stderr

    return run
