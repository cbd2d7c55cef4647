"""Every value the roles template into a shell script is shell-quoted. In roles/*/templates/*.sh.j2 each
``{{ ... }}`` outside a comment line ends in ``| quote`` (Ansible's quote filter: shlex.quote) and stands on its
own, not inside '...' or "..." (where the quotes it adds would be part of the value). A comment line prints no
value but ``{{ ansible_managed }}``: a value with a line break would end the comment, quoted or not. The scripts
still render as before for the roles' values, and a hostile value stays one word of the script."""

import pathlib
import re
import shlex
import subprocess

import jinja2
import pytest
from ansible.plugins.filter.core import quote

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCRIPTS = sorted(ROOT.glob("roles/*/templates/*.sh.j2"))
EXPRESSION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
ENDS_IN_QUOTE = re.compile(r"\|\s*quote$")
# The one value a comment line may print.
COMMENT_VALUE = "ansible_managed"


def inside_quotes(line):
    """Whether the end of ``line`` (shell text, values already quoted) is inside '...' or "..."."""
    state, escaped = None, False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\" and state != "'":
            escaped = True
        elif state is None and char in "'\"":
            state = char
        elif char == state:
            state = None
    return state is not None


def unquoted_values(text):
    """(line number, expression) of every value ``text`` (a shell script template) prints unquoted."""
    found = []
    for match in EXPRESSION.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        line = text[start : match.start()]
        expression = match.group(1).strip()
        if line.lstrip().startswith("#"):
            ok = expression == COMMENT_VALUE
        else:
            ok = bool(ENDS_IN_QUOTE.search(expression)) and not inside_quotes(EXPRESSION.sub("", line))
        if not ok:
            found.append((text.count("\n", 0, match.start()) + 1, match.group(0)))
    return found


def test_the_roles_have_shell_script_templates():
    names = {path.relative_to(ROOT).as_posix() for path in SCRIPTS}
    assert {
        "roles/director/templates/sipvs-fwmark.sh.j2",
        "roles/director/templates/sipvs-keepalived-test.sh.j2",
        "roles/realserver/templates/sipvs-vips.sh.j2",
    } <= names


@pytest.mark.parametrize("path", SCRIPTS, ids=[path.relative_to(ROOT).as_posix() for path in SCRIPTS])
def test_shell_templates_quote_every_value(path):
    assert unquoted_values(path.read_text()) == [], "values a shell script template prints unquoted"


@pytest.mark.parametrize(
    "text",
    [
        "CHAIN={{ chain }}\n",
        "CHAIN={{ chain | upper }}\n",
        "CHAIN={{ chain | quote | upper }}\n",
        'CHAIN="{{ chain | quote }}"\n',
        "label '{{ label | quote }}*'\n",
        'echo "the chain: $x {{ chain | quote }}"\n',
        "echo 'it''s' \"a\\\"{{ chain | quote }}\"\n",
        "# chain {{ chain | quote }}\n",
        "#!/bin/sh\n  # {{ chain }}\n",
        "x=1\n{{-\n chain\n-}}\n",
    ],
)
def test_the_check_finds_an_unquoted_value(text):
    assert len(unquoted_values(text)) == 1, text


@pytest.mark.parametrize(
    "text",
    [
        "#!/bin/sh\n# {{ ansible_managed }}\n",
        "CHAIN={{ chain | quote }}\n",
        "want={{ vips | join(' ') | quote }}\n",
        'ip addr add "$addr" dev lo label {{ label | quote }}"$n"\n',
        "echo 'a\\' \"b\\\"\" \\' {{ chain | quote }}\n",
        'x={{ a | quote }}"$y"{{ b | quote }}\n',
        "x={{- chain|quote -}}\n",
        "{% for x in xs %}\nrun {{ x | quote }}\n{% endfor %}\n",
    ],
)
def test_the_check_passes_quoted_values(text):
    assert unquoted_values(text) == [], text


def render(name, **values):
    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["quote"] = quote
    path = next(path for path in SCRIPTS if path.name == name)
    return env.from_string(path.read_text()).render(ansible_managed="Ansible managed", **values)


def assigned(script, name):
    """The value of the script's one top-level ``name=...`` line, as sh reads it (it must be one word)."""
    lines = [line for line in script.splitlines() if line.startswith(name + "=")]
    assert len(lines) == 1, (name, lines)
    words = shlex.split(lines[0][len(name) + 1 :])
    assert len(words) == 1, lines[0]
    return words[0]


HOSTILE = "x'\"; reboot; $(reboot) `reboot` #"
CASES = {
    "fwmark": (
        "sipvs-fwmark.sh.j2",
        {"__director_fwmark_chain": "SIPVS-FWMARK", "__director_fwmark_dir": "/etc/sipvs"},
        {"CHAIN": "SIPVS-FWMARK", "DIR": "/etc/sipvs"},
        ["CHAIN=SIPVS-FWMARK", "DIR=/etc/sipvs"],
    ),
    "fwmark-hostile": (
        "sipvs-fwmark.sh.j2",
        {"__director_fwmark_chain": HOSTILE, "__director_fwmark_dir": HOSTILE},
        {"CHAIN": HOSTILE, "DIR": HOSTILE},
        [],
    ),
    "vips": (
        "sipvs-vips.sh.j2",
        {"realserver_vips": ["172.16.11.210", "172.16.11.211"], "__realserver_vip_label": "lo:sipvs"},
        {"want": "172.16.11.210 172.16.11.211", "label": "lo:sipvs"},
        ["label=lo:sipvs"],
    ),
    "vips-none": (
        "sipvs-vips.sh.j2",
        {"realserver_vips": [], "__realserver_vip_label": "lo:sipvs"},
        {"want": "", "label": "lo:sipvs"},
        ["want=''"],
    ),
    "vips-hostile": (
        "sipvs-vips.sh.j2",
        {"realserver_vips": [HOSTILE, "10.0.0.1"], "__realserver_vip_label": HOSTILE},
        {"want": HOSTILE + " 10.0.0.1", "label": HOSTILE},
        [],
    ),
    "keepalived-test": ("sipvs-keepalived-test.sh.j2", {}, {}, []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_scripts_are_valid_sh_and_keep_each_value_one_word(case, tmp_path):
    name, values, expected, lines = CASES[case]
    script = render(name, **values)
    assert {key: assigned(script, key) for key in expected} == expected
    for line in lines:
        assert line in script.splitlines()
    path = tmp_path / "script.sh"
    path.write_text(script)
    result = subprocess.run(["sh", "-n", str(path)], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
