"""Tests of the sipvs.lvs.lvs_cf module: main() driven with patch_module_args on files in tmp_path."""

import copy
import os
import pathlib
import stat

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.sipvs.lvs.plugins.module_utils import _lvs_cf
from ansible_collections.sipvs.lvs.plugins.modules import lvs_cf

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "lvs_cf"


class AnsibleExitJson(Exception):
    pass


class AnsibleFailJson(Exception):
    pass


def exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise AnsibleExitJson(kwargs)


def fail_json(self, msg, **kwargs):
    kwargs.update(failed=True, msg=msg)
    raise AnsibleFailJson(kwargs)


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


@pytest.fixture
def run(tmp_path):
    module_tmp = tmp_path / "module-tmp"
    module_tmp.mkdir()

    def run(args, check=False, diff=False):
        args = dict(args, _ansible_check_mode=check, _ansible_diff=diff, _ansible_tmpdir=str(module_tmp))
        with patch_module_args(args), pytest.raises((AnsibleExitJson, AnsibleFailJson)) as info:
            lvs_cf.main()
        return info.value.args[0]

    return run


def fixture_text(name):
    return (FIXTURES / name).read_bytes().decode("utf-8")


def put(tmp_path, name, text=None):
    path = tmp_path / "lvs.cf"
    path.write_bytes((fixture_text(name) if text is None else text).encode("utf-8"))
    return path


def snapshot(path):
    info = path.stat()
    return path.read_bytes(), info.st_mtime_ns, stat.S_IMODE(info.st_mode)


def sip_args(path):
    sip = copy.deepcopy(_lvs_cf.to_config(_lvs_cf.parse(fixture_text("tutorial_first.cf")))["virtuals"][1])
    return {"path": str(path), "virtual": "sipserver", "options": sip["options"], "servers": sip["servers"]}


def expected_with_sip():
    return fixture_text("tutorial_first.cf").replace("serial_no = 70", "serial_no = 71", 1)


# --------------------------------------------------------------------------- change / no change


def test_change_then_no_change(run, tmp_path):
    path = put(tmp_path, "tutorial_web_only.cf")
    result = run(sip_args(path))
    assert result["changed"] is True
    assert result["serial_no"] == 71
    assert "diff" not in result
    assert "backup_file" not in result
    assert path.read_text() == expected_with_sip()
    assert result["config"] == _lvs_cf.to_config(_lvs_cf.parse(expected_with_sip()))

    before = snapshot(path)
    again = run(sip_args(path))
    assert again["changed"] is False
    assert again["serial_no"] == 71
    assert again["config"] == result["config"]
    assert snapshot(path) == before


def test_check_mode_predicts_and_touches_nothing(run, tmp_path):
    path = put(tmp_path, "tutorial_web_only.cf")
    before = snapshot(path)
    predicted = run(sip_args(path), check=True)
    assert snapshot(path) == before
    real = run(sip_args(path))
    assert predicted["changed"] is real["changed"] is True
    assert predicted["config"] == real["config"]
    assert predicted["serial_no"] == real["serial_no"] == 71
    assert run(sip_args(path), check=True)["changed"] is False


def test_diff_shows_the_change_with_the_path_as_header(run, tmp_path):
    path = put(tmp_path, "tutorial_web_only.cf")
    for check in (True, False):
        result = run(sip_args(path), check=check, diff=True)
        assert result["diff"] == {
            "before": fixture_text("tutorial_web_only.cf"),
            "after": expected_with_sip(),
            "before_header": str(path),
            "after_header": str(path),
        }
    assert "diff" not in run(sip_args(path), diff=True)


def test_backup(run, tmp_path):
    path = put(tmp_path, "tutorial_web_only.cf")
    result = run(dict(sip_args(path), backup=True))
    backup = pathlib.Path(result["backup_file"])
    assert backup.read_text() == fixture_text("tutorial_web_only.cf")
    assert backup.parent == tmp_path
    assert "backup_file" not in run(dict(sip_args(path), backup=True))


def test_globals_merge(run, tmp_path):
    path = put(tmp_path, "tutorial_first.cf")
    result = run({"path": str(path), "globals": {"syncdaemon": True, "syncd_iface": "eth0", "monitor_links": None}})
    assert result["changed"] is True
    text = path.read_text()
    assert "syncdaemon = 1\n" in text
    assert "syncd_iface = eth0\n" in text
    assert "monitor_links" not in text
    assert result["config"]["globals"]["primary"] == "172.16.11.74"


def test_absent_removes_the_block(run, tmp_path):
    path = put(tmp_path, "tutorial_first.cf")
    result = run({"path": str(path), "virtual": "sipserver", "state": "absent"})
    assert result["changed"] is True
    assert path.read_text() == fixture_text("tutorial_web_only.cf").replace("serial_no = 70", "serial_no = 71", 1)
    assert [v["name"] for v in result["config"]["virtuals"]] == ["web01"]
    assert run({"path": str(path), "virtual": "sipserver", "state": "absent"})["changed"] is False


def test_absent_on_a_missing_file_creates_nothing(run, tmp_path):
    path = tmp_path / "lvs.cf"
    result = run({"path": str(path), "virtual": "web01", "state": "absent"})
    assert result["changed"] is False
    assert not path.exists()


def test_read(run, tmp_path):
    path = put(tmp_path, "handwritten.cf")
    before = snapshot(path)
    result = run({"path": str(path), "state": "read"})
    assert result["changed"] is False
    assert result["serial_no"] == 12
    assert result["config"] == _lvs_cf.to_config(_lvs_cf.parse(fixture_text("handwritten.cf")))
    assert snapshot(path) == before


def test_config_returned_is_accepted_back_without_change(run, tmp_path):
    path = put(tmp_path, "handwritten.cf")
    config = run({"path": str(path), "state": "read"})["config"]
    before = snapshot(path)
    result = run({"path": str(path), "config": config})
    assert result["changed"] is False
    assert snapshot(path) == before


def test_config_creates_a_new_file(run, tmp_path):
    path = tmp_path / "lvs.cf"
    config = _lvs_cf.to_config(_lvs_cf.parse(fixture_text("tutorial_sipp.cf")))
    predicted = run({"path": str(path), "config": config}, check=True)
    assert predicted["changed"] is True
    assert not path.exists()
    result = run({"path": str(path), "config": config})
    assert result["changed"] is True
    assert result["serial_no"] == 1
    assert path.read_text() == fixture_text("tutorial_sipp.cf").replace("serial_no = 76", "serial_no = 1", 1)
    assert run({"path": str(path), "config": config})["changed"] is False


def test_file_attributes(run, tmp_path):
    path = put(tmp_path, "tutorial_first.cf")
    path.chmod(0o644)
    args = {"path": str(path), "globals": {"keepalive": 6}, "mode": "0600"}
    before = snapshot(path)
    assert run(args, check=True)["changed"] is True
    assert snapshot(path) == before
    assert run(args)["changed"] is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == before[0]
    assert run(args)["changed"] is False


def test_written_file_keeps_its_mode(run, tmp_path):
    path = put(tmp_path, "tutorial_web_only.cf")
    path.chmod(0o640)
    run(sip_args(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_symlinked_file_stays_a_symlink(run, tmp_path):
    target = put(tmp_path, "tutorial_web_only.cf")
    link = tmp_path / "link.cf"
    link.symlink_to(target)
    assert run(sip_args(link))["changed"] is True
    assert link.is_symlink()
    assert target.read_text() == expected_with_sip()


def test_comments_and_tabs_survive_an_unrelated_edit(run, tmp_path):
    path = put(tmp_path, "handwritten.cf")
    result = run({"path": str(path), "virtual": "parked", "options": {"active": 1}})
    assert result["changed"] is True
    expected = fixture_text("handwritten.cf").replace("serial_no =  12", "serial_no =  13")
    expected = expected.replace("virtual parked {\n\tactive = 0\n", "virtual parked {\n\tactive = 1\n")
    assert path.read_text() == expected


# --------------------------------------------------------------------------- fail paths


def assert_failed_untouched(result, path, before, *fragments):
    assert result["failed"] is True
    for fragment in fragments:
        assert fragment in result["msg"]
    assert snapshot(path) == before


def test_syntax_error_fails_with_the_line_and_leaves_the_file(run, tmp_path):
    text = fixture_text("tutorial_web_only.cf").replace("     port = 80\n", "     port 80\n", 1)
    path = put(tmp_path, None, text)
    before = snapshot(path)
    result = run(sip_args(path))
    line = text.splitlines().index("     port 80") + 1
    assert_failed_untouched(result, path, before, "%s:%d:" % (path, line), "expected 'port = value'")
    assert (result["line"], result["key"], result["path"]) == (line, "port", str(path))
    assert run({"path": str(path), "state": "read"})["line"] == line


def test_unknown_key_fails(run, tmp_path):
    text = fixture_text("tutorial_first.cf").replace("network = direct", "netwrk = direct")
    path = put(tmp_path, None, text)
    before = snapshot(path)
    result = run({"path": str(path), "globals": {"keepalive": 3}})
    line = text.splitlines().index("netwrk = direct") + 1
    assert_failed_untouched(result, path, before, "%s:%d: unknown global key 'netwrk'" % (path, line))
    assert (result["key"], result["line"]) == ("netwrk", line)


def test_invalid_value_in_the_file_fails(run, tmp_path):
    text = fixture_text("tutorial_first.cf").replace("weight = 1", "weight = 99999", 1)
    path = put(tmp_path, None, text)
    before = snapshot(path)
    result = run({"path": str(path), "globals": {"keepalive": 3}}, diff=True)
    line = text.splitlines().index("         weight = 99999") + 1
    message = "%s:%d: virtual web01, server server-01: weight must be between 0 and 65535" % (path, line)
    assert_failed_untouched(result, path, before, message)
    assert (result["key"], result["line"]) == ("weight", line)


def test_duplicate_fwmark_fails(run, tmp_path):
    path = put(tmp_path, "tutorial_first.cf")
    before = snapshot(path)
    result = run({"path": str(path), "virtual": "web01", "options": {"fwmark": 3}})
    assert_failed_untouched(result, path, before, "fwmark 3 is used by both virtual web01 and virtual sipserver")
    assert result["key"] == "fwmark"


@pytest.mark.parametrize(
    ("args", "key", "fragment"),
    [
        ({"virtual": "sipserver", "options": {"active": 2}}, "active", "active must be 0 or 1"),
        ({"virtual": "sipserver", "options": {"address": "172.16.11.211"}}, "address", "'IP dev:alias'"),
        ({"virtual": "sipserver", "options": {"pmask": "255.255.255.0", "persistent": 0}}, "pmask", "pmask needs"),
        ({"virtual": "sipserver", "options": {"scheduler": "best"}}, "scheduler", "scheduler must be one of"),
        ({"virtual": "sipserver", "options": {"protocol": "icmp"}}, "protocol", "protocol must be one of"),
        ({"virtual": "sipserver", "servers": [{"name": "a", "port": 70000}]}, "port", "between 1 and 65535"),
        ({"virtual": "sipserver", "servers": [{"name": "a", "weight": -1}]}, "weight", "between 0 and 65535"),
        ({"globals": {"network": "bridge"}}, "network", "network must be one of direct, nat, tunnel"),
        ({"globals": {"heartbeat": 3}}, "heartbeat", "heartbeat must be 0 or 1"),
        ({"config": {"virtuals": [{"name": "a"}, {"name": "a"}]}}, "name", "duplicate virtual names: a"),
    ],
)
def test_invalid_arguments_fail_naming_the_key(run, tmp_path, args, key, fragment):
    path = put(tmp_path, "tutorial_first.cf")
    before = snapshot(path)
    result = run(dict(args, path=str(path)))
    assert_failed_untouched(result, path, before, fragment)
    assert result["key"] == key
    assert result["line"] is None


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"config": {}, "globals": {"keepalive": 1}}, "mutually exclusive"),
        ({"config": {}, "virtual": "x"}, "mutually exclusive"),
        ({"globals": {}, "options": {"active": 1}}, "missing parameter(s) required by 'options': virtual"),
        ({"globals": {}, "servers": []}, "missing parameter(s) required by 'servers': virtual"),
        ({"state": "absent"}, "state is absent but all of the following are missing: virtual"),
        ({}, "state is present but any of the following are missing: globals, virtual, config"),
        ({"state": "gone", "virtual": "x"}, "value of state must be one of"),
        ({"state": "read", "globals": {"keepalive": 1}}, "state=read changes nothing"),
    ],
)
def test_argument_spec_failures(run, tmp_path, args, fragment):
    path = put(tmp_path, "tutorial_first.cf")
    before = snapshot(path)
    result = run(dict(args, path=str(path)))
    assert_failed_untouched(result, path, before, fragment)


def test_read_of_a_missing_file_fails(run, tmp_path):
    result = run({"path": str(tmp_path / "nope.cf"), "state": "read"})
    assert result["failed"] is True
    assert "does not exist" in result["msg"]


def test_present_in_a_missing_directory_fails(run, tmp_path):
    result = run({"path": str(tmp_path / "no" / "lvs.cf"), "globals": {"keepalive": 2}})
    assert result["failed"] is True
    assert "its directory does not exist" in result["msg"]


def test_unreadable_path_fails(run, tmp_path):
    result = run({"path": str(tmp_path), "state": "read"})
    assert result["failed"] is True
    assert result["msg"].startswith("cannot read %s:" % tmp_path)


def test_build_module_refuses_unknown_options(run, tmp_path):
    result = run({"path": str(tmp_path / "lvs.cf"), "globals": {}, "bogus": 1})
    assert result["failed"] is True
    assert "bogus" in result["msg"]


def test_non_utf8_bytes_survive(run, tmp_path):
    path = tmp_path / "lvs.cf"
    path.write_bytes(b"# caf\xe9 in latin-1\nserial_no = 1\n")
    run({"path": str(path), "globals": {"keepalive": 2}})
    assert path.read_bytes() == b"# caf\xe9 in latin-1\nserial_no = 2\nkeepalive = 2\n"
    assert os.listdir(tmp_path / "module-tmp") == []
