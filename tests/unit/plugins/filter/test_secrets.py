"""secret_problems, the filter over module_utils/_secrets.py: the same rule, a list of problems for an assert,
undefined values taken as missing secrets (with the templating engine's own reason)."""

import jinja2
import pytest
from ansible_collections.sipvs.lvs.plugins.filter.secrets import FilterModule
from ansible_collections.sipvs.lvs.plugins.module_utils._secrets import secret_problems as rule

secret_problems = FilterModule().filters()["secret_problems"]


@pytest.mark.parametrize("value", ["Zq7-Good.Secret", "Short", None, 12345678901234, "Zq7-Semi;colon-xx"])
def test_the_filter_gives_the_rule_s_answer(value):
    assert secret_problems(value, "director_piranha_gui_password") == rule(value, "director_piranha_gui_password")


def test_a_safe_secret_has_no_problem():
    assert secret_problems("Zq7-Good.Secret", "asterisk_endpoints[0].password") == []


@pytest.mark.parametrize("undefined", [jinja2.Undefined, jinja2.StrictUndefined])
def test_an_undefined_secret_is_a_missing_one_with_its_reason(undefined):
    value = undefined(name="sipvs_sip_777_password")
    assert secret_problems(value, "asterisk_endpoints[0].password (account 777)") == [
        "asterisk_endpoints[0].password (account 777) is not set ('sipvs_sip_777_password' is undefined);"
        " it is a secret with no default: supply it from a vault or extra vars"
    ]


def test_the_filter_takes_undefined_arguments():
    # ansible-core 2.19 hands a plugin an undefined argument only when the plugin says it takes one.
    template = pytest.importorskip("ansible.template")
    if not hasattr(template, "accept_args_markers"):
        pytest.skip("ansible-core before 2.19 passes Jinja's Undefined to every filter")
    assert getattr(secret_problems, "accept_args_markers", False) is True


def test_the_variable_name_may_be_any_text():
    assert secret_problems("short", 7) == ["7 must be at least 12 characters long"]
