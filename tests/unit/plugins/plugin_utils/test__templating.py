"""plugin_utils/_templating.py: what the filters need from the templating engine - the reason of an undefined
value, and a plain copy of a value for the model code."""

import jinja2
import pytest
from ansible_collections.sipvs.lvs.plugins.plugin_utils._templating import plain, undefined_cause


@pytest.mark.parametrize("undefined", [jinja2.Undefined, jinja2.StrictUndefined, jinja2.ChainableUndefined])
def test_an_undefined_value_has_the_engine_s_reason(undefined):
    assert undefined_cause(undefined(name="vault_password")) == "'vault_password' is undefined"


def test_plain_rebuilds_lists_and_mappings_and_keeps_scalars():
    value = {"a": ("x", 1, 2.5, True, None), 7: [{"b": "y"}]}
    copy = plain(value, lambda cause: ("unset", cause))
    assert copy == {"a": ["x", 1, 2.5, True, None], "7": [{"b": "y"}]}
    assert isinstance(copy["a"], list)
    assert copy["a"][3] is True


def test_plain_turns_each_undefined_value_into_what_the_caller_makes_of_its_reason():
    value = {"address": jinja2.StrictUndefined(name="lvs_adress"), "list": [1, jinja2.Undefined(name="x")]}
    assert plain(value, lambda cause: ("unset", cause)) == {
        "address": ("unset", "'lvs_adress' is undefined"),
        "list": [1, ("unset", "'x' is undefined")],
    }


def test_plain_gives_the_text_of_anything_else():
    assert plain(frozenset(), lambda cause: None) == "frozenset()"
