"""Tests of the sipvs.lvs.lvs_cf module: main() driven with patch_module_args on files in tmp_path."""

import builtins
import copy
import os
import pathlib
import random
import signal
import socket
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


# --------------------------------------------------------------------------- what the file may be (issue 16)


@pytest.fixture
def no_write(monkeypatch):
    """A refused file must never be replaced: any atomic_move or backup_local fails the test."""
    writes = []

    def forbidden(self, *args, **kwargs):
        writes.append(args)
        raise OSError("the test forbids writing: %r" % (args,))

    monkeypatch.setattr(basic.AnsibleModule, "atomic_move", forbidden)
    monkeypatch.setattr(basic.AnsibleModule, "backup_local", forbidden)
    yield writes
    assert writes == []


@pytest.fixture
def opened(monkeypatch):
    """The paths opened (os.open, open) while the test runs: a refused file must not be among them."""
    paths = []
    real_os_open, real_open = os.open, builtins.open

    def os_open(path, *args, **kwargs):
        paths.append(os.fspath(path))
        return real_os_open(path, *args, **kwargs)

    def py_open(file, *args, **kwargs):
        if not isinstance(file, int):
            paths.append(os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", py_open)
    return paths


@pytest.fixture
def deadline():
    """A module that blocks (a FIFO opened for reading) fails the test after 10 s instead of hanging it."""

    def expired(signum, frame):
        raise TimeoutError("the module blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def special_file(tmp_path):
    """Make ``tmp_path/lvs.cf`` a ``kind`` of file, and remove it afterwards (pytest keeps tmp_path)."""
    path = tmp_path / "lvs.cf"
    yield lambda kind: make_special(path, kind)
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    elif os.path.lexists(path):
        path.unlink()


def make_special(path, kind):
    """Devices need CAP_MKNOD; without it /dev/null (behind a link) stands in, and a block device is skipped."""
    if kind == "directory":
        path.mkdir()
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()  # the socket file stays
    else:
        device = {
            "character device": (stat.S_IFCHR, os.makedev(1, 3)),
            "block device": (stat.S_IFBLK, os.makedev(7, 0)),
        }
        mode, number = device[kind]
        try:
            os.mknod(path, mode | 0o600, number)
        except PermissionError:
            if kind == "block device":
                pytest.skip("mknod needs CAP_MKNOD")
            path.symlink_to("/dev/null")
    return path


SPECIAL_FILES = ["directory", "FIFO", "socket", "character device", "block device"]
EDITS = [{"state": "read"}, {"globals": {"keepalive": 3}}, {"virtual": "web01", "state": "absent"}, {"config": {}}]


@pytest.mark.parametrize("args", EDITS, ids=["read", "globals", "absent", "config"])
@pytest.mark.parametrize("kind", SPECIAL_FILES)
def test_special_files_are_refused_without_being_opened(run, special_file, kind, args, no_write, opened, deadline):
    path = special_file(kind)
    real = os.path.realpath(path)
    file_type = stat.S_IFMT(os.lstat(real).st_mode)
    opened.clear()
    for check in (True, False):
        result = run(dict(args, path=str(path)), check=check)
        assert result["failed"] is True
        assert result["msg"].startswith("cannot read %s" % path)
        assert result["msg"].endswith(": it is a %s, not a regular file" % kind)
        assert (result["key"], result["path"]) == ("path", str(path))
    assert real not in opened
    assert stat.S_IFMT(os.lstat(real).st_mode) == file_type


def test_a_symlink_to_a_fifo_is_refused_naming_both(run, tmp_path, no_write, opened, deadline):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "lvs.cf"
    link.symlink_to(fifo)
    result = run({"path": str(link), "state": "read"})
    assert result["msg"] == "cannot read %s (%s): it is a FIFO, not a regular file" % (link, fifo)
    assert str(fifo) not in opened
    fifo.unlink()


def test_a_symlink_loop_is_refused(run, tmp_path, no_write):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = run({"path": str(tmp_path / "a"), "globals": {"keepalive": 3}})
    assert result["failed"] is True
    assert "it is a symbolic link, not a regular file" in result["msg"]


@pytest.mark.parametrize("path", ["", "lvs\x00.cf"])
def test_path_must_be_a_file_name(run, path, no_write):
    result = run({"path": path, "globals": {"keepalive": 3}})
    assert result["failed"] is True
    assert result["msg"].startswith("path must be a file name")
    assert result["key"] == "path"


def sparse(tmp_path, size):
    path = tmp_path / "lvs.cf"
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def test_a_file_over_16_mib_is_refused_before_it_is_read(run, tmp_path, no_write, opened):
    path = sparse(tmp_path, lvs_cf.MAX_FILE_SIZE + 1)
    opened.clear()
    result = run({"path": str(path), "globals": {"keepalive": 3}})
    message = "cannot read %s: it is 16777217 bytes, over the 16777216 bytes (16 MiB) this module reads" % path
    assert (result["msg"], result["key"]) == (message, "path")
    assert str(path) not in opened


def lstat_for(monkeypatch, path, change):
    """Make os.lstat() of ``path`` return ``change(real result)``: a file changed between lstat() and open()."""
    real_lstat = os.lstat

    def fake(name, *args, **kwargs):
        info = real_lstat(name, *args, **kwargs)
        return change(info) if os.fspath(name) == str(path) else info

    monkeypatch.setattr(os, "lstat", fake)


def test_a_file_that_grows_past_the_cap_while_read_is_refused(run, tmp_path, monkeypatch, no_write):
    path = sparse(tmp_path, lvs_cf.MAX_FILE_SIZE + 1)
    lstat_for(monkeypatch, path, lambda info: os.stat_result((*info[:6], 100, *info[7:10])))
    result = run({"path": str(path), "state": "read"})
    assert result["msg"] == "cannot read %s: it grew over 16777216 bytes while being read" % path


def test_a_file_swapped_between_lstat_and_open_is_refused(run, tmp_path, monkeypatch, no_write):
    path = put(tmp_path, "tutorial_first.cf")
    other = os.lstat(tmp_path / "module-tmp")
    lstat_for(monkeypatch, path, lambda info: os.stat_result((stat.S_IFREG | 0o644, *other[1:3], *info[3:10])))
    result = run({"path": str(path), "state": "read"})
    assert result["msg"] == "cannot read %s: it was replaced while being opened" % path


def test_the_temporary_file_is_fsynced_then_moved_from_the_same_directory(run, tmp_path, monkeypatch):
    path = put(tmp_path, "tutorial_web_only.cf")
    events = []
    real_fsync, real_move = os.fsync, basic.AnsibleModule.atomic_move

    def fsync(fd):
        events.append(("fsync", os.fstat(fd).st_ino))
        real_fsync(fd)

    def move(self, src, dest, *args, **kwargs):
        events.append(("move", os.path.dirname(src), os.path.basename(src).startswith(".lvs.cf."), dest))
        return real_move(self, src, dest, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(basic.AnsibleModule, "atomic_move", move)
    assert run(sip_args(path))["changed"] is True
    assert events == [("fsync", path.stat().st_ino), ("move", str(tmp_path), True, str(path))]
    assert sorted(os.listdir(tmp_path)) == ["lvs.cf", "module-tmp"]
    assert path.read_text() == expected_with_sip()


@pytest.mark.parametrize("fails", ["fsync", "atomic_move"])
def test_a_failed_write_leaves_the_file_and_no_temporary_file(run, tmp_path, monkeypatch, fails):
    path = put(tmp_path, "tutorial_web_only.cf")
    before = snapshot(path)

    def broken(*args, **kwargs):
        raise OSError(5, "Input/output error")

    if fails == "fsync":
        monkeypatch.setattr(os, "fsync", broken)
    else:
        monkeypatch.setattr(basic.AnsibleModule, "atomic_move", broken)
    result = run(sip_args(path))
    assert_failed_untouched(result, path, before, str(path), "Input/output error")
    assert sorted(os.listdir(tmp_path)) == ["lvs.cf", "module-tmp"]


def read_then(monkeypatch, action):
    """Run ``action`` right after the module has read the file: something changes between read and write."""
    real_read = lvs_cf.read_file

    def read(module, path, real):
        text = real_read(module, path, real)
        action()
        return text

    monkeypatch.setattr(lvs_cf, "read_file", read)


def test_a_symlink_swapped_after_the_read_cannot_redirect_the_write(run, tmp_path, monkeypatch):
    target = put(tmp_path, "tutorial_web_only.cf")
    other = tmp_path / "other.cf"
    other.write_text("# not lvs.cf\n")
    link = tmp_path / "link.cf"
    link.symlink_to(target)

    def swap():
        link.unlink()
        link.symlink_to(other)

    read_then(monkeypatch, swap)
    assert run(dict(sip_args(link), mode="0600"))["changed"] is True
    assert target.read_text() == expected_with_sip()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert other.read_text() == "# not lvs.cf\n"
    assert os.readlink(link) == str(other)


def test_a_file_replaced_by_a_fifo_after_the_read_is_not_overwritten(run, tmp_path, monkeypatch, opened, deadline):
    path = put(tmp_path, "tutorial_web_only.cf")

    def to_fifo():
        path.unlink()
        os.mkfifo(path)
        opened.clear()

    read_then(monkeypatch, to_fifo)
    result = run(sip_args(path))
    assert result["msg"] == "cannot write %s: it is a FIFO, not a regular file" % path
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert str(path) not in opened
    assert sorted(os.listdir(tmp_path)) == ["lvs.cf", "module-tmp"]
    path.unlink()


def test_through_a_symlink_the_backup_and_attributes_go_to_the_file(run, tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "lvs.cf"
    target.write_text(fixture_text("tutorial_web_only.cf"))
    target.chmod(0o644)
    link = tmp_path / "link.cf"
    link.symlink_to(target)
    result = run(dict(sip_args(link), backup=True, mode="0640"))
    assert pathlib.Path(result["backup_file"]).parent == target.parent
    assert link.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert run(dict(sip_args(link), mode="0640"))["changed"] is False


def test_serial_no_at_its_maximum_wraps_to_1(run, tmp_path):
    text = fixture_text("tutorial_web_only.cf").replace("serial_no = 70", "serial_no = 2147483647", 1)
    path = put(tmp_path, None, text)
    result = run(sip_args(path))
    assert (result["changed"], result["serial_no"]) == (True, 1)
    assert path.read_text() == expected_with_sip().replace("serial_no = 71", "serial_no = 1", 1)
    assert run({"path": str(path), "state": "read"})["serial_no"] == 1


FIRST = fixture_text("tutorial_first.cf")


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [
        ("\ufeff" + FIRST, 1, None, "the file starts with a UTF-8 byte order mark, which Piranha does not skip"),
        (FIRST.replace("\n", "\r"), 1, None, "carriage return not followed by a line feed"),
        (FIRST.replace("deadtime = 18", "deadtime = " + "1" * 5000), 9, "deadtime", "at most 20 digits, got 5000"),
        (FIRST.replace("172.16.11.210 eth0:1", "fe80::1 eth0:1"), 16, "address", "IPv4: Piranha has no IPv6"),
        (FIRST.replace("172.16.11.76", "172.16.11.210", 1), 28, "address", "is the virtual's own address"),
        (FIRST.replace("172.16.11.77", "172.16.11.76", 1), 34, "address", "port 80 is taken by server server-01"),
        (FIRST.replace("debug_level = NONE", "debug_level = NO\x00NE"), 11, "debug_level", "printable characters"),
        (FIRST.replace("debug_level = NONE", "debug_level = " + "N" * 5000), 11, "debug_level", "at most 4096"),
        (FIRST.replace("     port = 80\n", "     port = 80/tcp\n", 1), 17, "port", "port number (1-65535) or"),
    ],
)
def test_files_piranha_cannot_load_fail_short_naming_file_and_line(run, tmp_path, text, line, key, fragment):
    path = put(tmp_path, None, text)
    before = snapshot(path)
    result = run({"path": str(path), "globals": {"keepalive": 3}})
    assert_failed_untouched(result, path, before, "%s:%d: " % (path, line), fragment)
    assert (result["line"], result["key"]) == (line, key)
    assert len(result["msg"]) < 200


@pytest.mark.parametrize(
    ("servers", "fragment"),
    [
        ([{"name": "a", "address": "::1"}], "IPv4: Piranha has no IPv6"),
        ([{"name": "a", "address": "172.16.11.211"}], "is the virtual's own address"),
        ([{"name": "a", "address": "10.0.0.1"}, {"name": "b", "address": "10.0.0.1"}], "is taken by server a"),
        ([{"name": "a\x00b", "address": "10.0.0.1"}], "server name must be one word of printable characters"),
    ],
)
def test_servers_piranha_cannot_load_fail_naming_the_option(run, tmp_path, servers, fragment):
    path = put(tmp_path, "tutorial_first.cf")
    before = snapshot(path)
    result = run({"path": str(path), "virtual": "sipserver", "servers": servers})
    assert_failed_untouched(result, path, before, fragment)
    assert result["key"] in ("address", "name")


@pytest.mark.parametrize("seed", range(6))
def test_random_bytes_fail_naming_file_and_line(run, tmp_path, seed):
    rnd = random.Random(seed)
    path = tmp_path / "lvs.cf"
    path.write_bytes(bytes(rnd.getrandbits(8) for dummy in range(200 * (seed + 1))))
    before = snapshot(path)
    result = run({"path": str(path), "globals": {"keepalive": 3}})
    assert_failed_untouched(result, path, before, "%s:" % path)
    assert result["line"] is not None
