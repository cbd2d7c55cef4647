"""check_secret: the collection's one rule for secrets (SIP account passwords, the piranha-gui password).
Every refusal names the variable and never shows the value."""

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError
from ansible_collections.sipvs.lvs.plugins.module_utils._secrets import MIN_LENGTH, check_secret, secret_problems

WHAT = "asterisk_endpoints[0].password"


@pytest.mark.parametrize(
    "value",
    [
        "Zq7-Good.Secret",
        "a" * MIN_LENGTH,
        "with inner blanks ok",
        "ascii!$%&()*+,./:<=>?@[]^_`{|}~-",
        "ünïcödé-sëcret",
    ],
)
def test_safe_secrets_are_returned_unchanged(value):
    assert check_secret(value, WHAT) == value
    assert secret_problems(value, WHAT) == []


@pytest.mark.parametrize(
    "value, words",
    [
        (None, "is not set; it is a secret with no default: supply it from a vault or extra vars"),
        ("", "is not set"),
        ("Short-1", "must be at least 12 characters long"),
        ("a" * (MIN_LENGTH - 1), "must be at least 12 characters long"),
        (123456789012345, "must be a string, got a number"),
        (1.5, "must be a string, got a number"),
        (True, "must be a string, got a boolean"),
        (["Zq7-Good.Secret"], "must be a string, got a list"),
        ({"secret": "Zq7-Good.Secret"}, "must be a string, got a mapping"),
        ("Zq7-Line\nBreak-xx", "must not contain a line break or another control character"),
        ("Zq7-Carriage\rReturn", "must not contain a line break or another control character"),
        ("Zq7-Tab\tinside-xx", "must not contain a line break or another control character"),
        ("Zq7-Nul\x00inside-xx", "must not contain a line break or another control character"),
        ("Zq7-Del\x7finside-xx", "must not contain a line break or another control character"),
        ("Zq7-Single'Quote", "must not contain a quote"),
        ('Zq7-Double"Quote', "must not contain a quote"),
        ("Zq7-Back\\slash-xx", "must not contain a backslash"),
        ("Zq7-Semi;colon-xx", "must not contain a ';'"),
        ("Zq7-Hash#mark-xxx", "must not contain a '#'"),
        (" Zq7-Leading-blank", "must not start or end with a blank"),
        ("Zq7-Trailing-blank ", "must not start or end with a blank"),
        ("\u00a0Zq7-NoBreakSpace", "must not start or end with a blank"),
    ],
)
def test_unsafe_secrets_are_refused_naming_the_variable_not_the_value(value, words):
    with pytest.raises(LvsError) as raised:
        check_secret(value, WHAT)
    message = str(raised.value)
    assert message.startswith(WHAT + " ")
    assert words in message
    assert raised.value.key == WHAT
    if value:
        assert str(value) not in message
        assert repr(value) not in message
    assert secret_problems(value, WHAT) == [message]


def test_a_missing_secret_says_why_when_the_caller_knows():
    message = secret_problems(None, "director_piranha_gui_password", "'vault_gui' is undefined")[0]
    assert message.startswith("director_piranha_gui_password is not set ('vault_gui' is undefined); ")


def test_the_refusals_come_in_a_fixed_order():
    # Short and with a quote: the character is named first, the length only once the characters are fine.
    assert "a quote" in secret_problems("a'b", WHAT)[0]
    assert "blank" in secret_problems(" abc", WHAT)[0]
