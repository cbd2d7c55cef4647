"""The director engines' settings have one set of defaults: the engine tables in module_utils/_engines.py
(PIRANHA_SETTINGS, KEEPALIVED_SETTINGS), the role's defaults/main.yml and its argument spec agree on every
setting (role variable director_<key>); and the engine-independent director_fwmark_chain's default passes the chain
rule (module_utils/_model.py)."""

import pathlib

import pytest
import yaml
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import KEEPALIVED_SETTINGS, PIRANHA_SETTINGS
from ansible_collections.sipvs.lvs.plugins.module_utils._model import check_iptables_chain

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "director"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
SPEC = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
# Settings whose role default is a template, not a value of the engine: the engine requires it.
TEMPLATED = {"router_id": "{{ inventory_hostname }}"}
ENGINE_DEFAULTS = {**PIRANHA_SETTINGS, **{key: default for key, (default, _pattern) in KEEPALIVED_SETTINGS.items()}}


@pytest.mark.parametrize("key", sorted(ENGINE_DEFAULTS))
def test_engine_role_and_spec_defaults_agree(key):
    variable = "director_" + key
    expected = TEMPLATED.get(key, ENGINE_DEFAULTS[key])
    assert DEFAULTS[variable] == expected, variable
    assert variable in SPEC, variable
    if expected is None or key in TEMPLATED:
        assert "default" not in SPEC[variable] or SPEC[variable]["default"] in (None, expected), variable
    else:
        assert SPEC[variable].get("default") == expected, variable


def test_fwmark_chain_default_passes_the_chain_rule():
    # Engine-independent (every engine installs the firewall-mark loader): checked by check_iptables_chain.
    default = DEFAULTS["director_fwmark_chain"]
    assert SPEC["director_fwmark_chain"]["default"] == default
    assert check_iptables_chain(default, "director_fwmark_chain") == default
