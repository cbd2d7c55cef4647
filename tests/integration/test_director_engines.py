"""The director role's own checks for the piranha and static engines (its validate entry point: the argument
spec, then tasks/validate.yml), run by the real ansible-playbook on a copy of inventories/example: the role
variables reach the engine filters as the engine code takes them, and a model Piranha cannot run stops the role
before any task touches a host. Only controller-side tasks run (set_fact, assert, and a copy to the test's
directory on localhost); the hosts' ansible_host points at a closed port on 127.0.0.1."""

import json

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import normalize_cluster
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import (
    piranha_config,
    static_services,
    static_settings,
)

PLAY = """
- name: The director role's checks, and what they worked out
  hosts: directors
  gather_facts: false
  tasks:
    - name: Run the role's checks
      ansible.builtin.include_role:
        name: sipvs.lvs.director
        tasks_from: validate
    - name: Save what the engine will use
      ansible.builtin.copy:
        content: "{{ {'piranha': __director_piranha_config | default(none),
                      'services': __director_static_services | default(none),
                      'settings': __director_static_settings | default(none)} | to_json }}"
        dest: "{{ sipvs_out }}/{{ inventory_hostname }}.json"
        mode: "0644"
      delegate_to: localhost
      vars:
        ansible_connection: local
"""


def setup(tmp_path, example_inventory, version=2):
    def set_version(cluster):
        cluster["vrrp"]["version"] = version

    inventory = example_inventory(set_version)
    (tmp_path / "play.yml").write_text(PLAY)
    model = normalize_cluster(inventory.cluster, inventory.addresses.get)
    return inventory.path, model, inventory.addresses


def saved(tmp_path, host):
    return json.loads((tmp_path / ("%s.json" % host)).read_text())


def run(ansible_playbook, tmp_path, inventory, *extra):
    return ansible_playbook(inventory, tmp_path / "play.yml", "-e", "sipvs_out=%s" % tmp_path, *extra)


def test_piranha_settings_reach_the_engine(tmp_path, example_inventory, ansible_playbook):
    inventory, model, addresses = setup(tmp_path, example_inventory)
    extra = ["-e", "director_engine=piranha", "-e", "director_piranha_keepalive=6", "-e", "director_piranha_reentry=30"]
    rc, output = run(ansible_playbook, tmp_path, inventory, *extra)
    assert rc == 0, output
    settings = {"piranha_keepalive": 6, "piranha_reentry": 30}
    expected = piranha_config(model, ["director1", "director2"], addresses.get, None, settings, "director_cluster")
    assert expected["globals"]["deadtime"] == 18
    for host in ("director1", "director2"):
        assert saved(tmp_path, host)["piranha"] == expected


def test_static_table_and_settings_per_director(tmp_path, example_inventory, ansible_playbook):
    inventory, model = setup(tmp_path, example_inventory, version=3)[:2]
    rc, output = run(ansible_playbook, tmp_path, inventory, "-e", "director_engine=static")
    assert rc == 0, output
    assert saved(tmp_path, "director1")["services"] == static_services(model)
    assert saved(tmp_path, "director1")["settings"] == static_settings(model)
    assert saved(tmp_path, "director2")["settings"] == static_settings(model)
    assert saved(tmp_path, "director2")["piranha"] is None


@pytest.mark.parametrize(
    "version, extra, message",
    [
        (3, [], "director_cluster.vrrp.version: is 3; Piranha's pulse heartbeat is not VRRP"),
        (2, ["-e", "director_piranha_gui=true"], "director_piranha_gui_password is not set"),
        (2, ["-e", "director_piranha_heartbeat_port=0"], "director_piranha_heartbeat_port must be between 1 and 65535"),
    ],
)
def test_piranha_role_checks_fail_naming_the_variable(
    tmp_path, example_inventory, ansible_playbook, version, extra, message
):
    inventory = setup(tmp_path, example_inventory, version)[0]
    rc, output = run(ansible_playbook, tmp_path, inventory, "-e", "director_engine=piranha", *extra)
    assert rc != 0
    assert message in " ".join(output.split())
    assert not list(tmp_path.glob("director*.json"))
    assert "UNREACHABLE" not in output
