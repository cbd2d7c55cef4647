"""The asterisk role states each rule once: tasks/validate.yml is one assert over sipvs.lvs.asterisk_problems
(module_utils/_asterisk.py), vars/main.yml hands that rule every variable it reads, and the argument spec
documents every default of defaults/main.yml with the same value. Pure Python: it reads the role's YAML."""

import pathlib

import yaml
from ansible_collections.sipvs.lvs.plugins.module_utils import _asterisk

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "asterisk"


def load(path):
    return yaml.safe_load((ROLE / path).read_text())


def test_validate_is_one_assert_over_the_collection_s_rule():
    tasks = load("tasks/validate.yml")
    assert len(tasks) == 1
    (task,) = tasks
    assert task["ansible.builtin.assert"]["that"] == ["__asterisk_problems | length == 0"]
    assert "loop" not in task
    assert task["vars"]["__asterisk_problems"] == "{{ __asterisk_settings | sipvs.lvs.asterisk_problems }}"


def test_the_rule_gets_every_variable_it_reads_as_it_is():
    settings = load("vars/main.yml")["__asterisk_settings"]
    assert tuple(settings) == _asterisk.VARIABLES
    assert all(value == "{{ %s }}" % name for name, value in settings.items())


def test_every_default_is_in_the_argument_spec_with_the_same_value():
    defaults = load("defaults/main.yml")
    specs = load("meta/argument_specs.yml")["argument_specs"]
    options = specs["main"]["options"]
    assert set(options) == set(defaults)
    assert {name: spec.get("default") for name, spec in options.items()} == defaults
    assert specs["validate"]["options"] == options


def test_the_peer_network_opt_in_is_off_by_default():
    assert load("defaults/main.yml")[_asterisk.PEER_NETWORKS_OPT_IN] is False
    spec = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"][_asterisk.PEER_NETWORKS_OPT_IN]
    assert spec["type"] == "bool"
    assert spec["default"] is False
