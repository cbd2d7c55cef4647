"""The module through the real CLI: `ansible localhost -m sipvs.lvs.lvs_cf` from the project venv,
against files in tmp_path (the "done when" list of the lvs_cf issue)."""

import copy
import json
import os
import pathlib
import subprocess

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils import _lvs_cf

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "lvs_cf"
ANSIBLE = REPO / ".venv" / "bin" / "ansible"


def fixture_text(name):
    return (FIXTURES / name).read_bytes().decode("utf-8")


def ansible(args, *flags):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    proc = subprocess.run(
        [str(ANSIBLE), "localhost", "-m", "sipvs.lvs.lvs_cf", "-a", json.dumps(args), *flags],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def web_only(tmp_path):
    path = tmp_path / "lvs.cf"
    path.write_text(fixture_text("tutorial_web_only.cf"))
    return path


def sip_args(path):
    sip = copy.deepcopy(_lvs_cf.to_config(_lvs_cf.parse(fixture_text("tutorial_first.cf")))["virtuals"][1])
    return {"path": str(path), "virtual": "sipserver", "options": sip["options"], "servers": sip["servers"]}


def test_adds_sipserver_then_reports_no_change(web_only):
    rc, out = ansible(sip_args(web_only))
    assert rc == 0, out
    assert "localhost | CHANGED" in out
    assert web_only.read_text() == fixture_text("tutorial_first.cf").replace("serial_no = 70", "serial_no = 71", 1)
    rc, out = ansible(sip_args(web_only))
    assert rc == 0, out
    assert "localhost | SUCCESS" in out
    assert "changed: false" in out


def test_check_diff_shows_the_change_and_leaves_the_file(web_only):
    before = web_only.read_bytes()
    rc, out = ansible(sip_args(web_only), "--check", "--diff")
    assert rc == 0, out
    assert "--- before: %s" % web_only in out
    assert "+++ after: %s" % web_only in out
    assert "-serial_no = 70" in out
    assert "+serial_no = 71" in out
    assert "+virtual sipserver {" in out
    assert '+     send_program = "/usr/local/bin/test-sip-server.sh %h"' in out
    assert "localhost | CHANGED" in out
    assert web_only.read_bytes() == before


def test_syntax_error_fails_naming_the_line_and_leaves_the_file(tmp_path):
    path = tmp_path / "lvs.cf"
    text = fixture_text("tutorial_web_only.cf").replace("     scheduler = wlc\n", "     scheduler wlc\n", 1)
    path.write_text(text)
    line = text.splitlines().index("     scheduler wlc") + 1
    rc, out = ansible(sip_args(path))
    assert rc != 0
    assert "localhost | FAILED" in out
    assert "%s:%d: expected 'scheduler = value'" % (path, line) in out
    assert path.read_text() == text


def test_comments_and_tabs_survive_an_unrelated_edit(tmp_path):
    path = tmp_path / "lvs.cf"
    text = fixture_text("handwritten.cf")
    path.write_text(text)
    rc, out = ansible({"path": str(path), "globals": {"deadtime": 20}})
    assert rc == 0, out
    assert "localhost | CHANGED" in out
    expected = text.replace("serial_no =  12", "serial_no =  13").replace("deadtime = 12", "deadtime = 20")
    assert path.read_text() == expected
    assert "\t# web2 is in maintenance\n" in expected
    assert "primary\t=\t10.0.0.1\t# the main box\n" in expected
