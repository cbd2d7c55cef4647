"""Tests of the sipvs.lvs.host_files module: main() on files in tmp_path, owned by the user running the tests."""

import grp
import os
import pwd
import stat

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.sipvs.lvs.plugins.module_utils import _files
from ansible_collections.sipvs.lvs.plugins.modules import host_files

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


class Exited(Exception):
    pass


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise Exited(dict(kwargs, failed=False))

    def fail_json(self, msg, **kwargs):
        raise Exited(dict(kwargs, failed=True, msg=msg))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


def run(directories=(), files=(), check=False):
    def own(entry):
        return dict(dict(owner=OWNER, group=GROUP), **entry)

    args = dict(
        directories=[own(e) for e in directories],
        files=[own(e) for e in files],
        _ansible_check_mode=check,
        _ansible_diff=True,
    )
    with patch_module_args(args), pytest.raises(Exited) as info:
        host_files.main()
    return info.value.args[0]


def tree(root):
    found = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        found[str(path)] = (stat.S_IMODE(st.st_mode), path.read_bytes() if path.is_file() else None)
    return found


def wanted(tmp_path):
    conf = tmp_path / "etc"
    return (
        [dict(path=str(conf))],
        [
            dict(path=str(conf / "a.rules"), content="one\n"),
            dict(path=str(conf / "run.sh"), content="#!/bin/sh\n", mode="0755"),
        ],
    )


def test_check_mode_predicts_the_real_run_and_a_second_run_changes_nothing(tmp_path):
    directories, files = wanted(tmp_path)
    checked = run(directories, files, check=True)
    assert tree(tmp_path) == {}
    real = run(directories, files)
    assert checked == real
    assert real["changed"] is True
    assert real["changed_paths"] == [str(tmp_path / "etc"), str(tmp_path / "etc/a.rules"), str(tmp_path / "etc/run.sh")]
    assert tree(tmp_path) == {
        str(tmp_path / "etc"): (0o755, None),
        str(tmp_path / "etc/a.rules"): (0o644, b"one\n"),
        str(tmp_path / "etc/run.sh"): (0o755, b"#!/bin/sh\n"),
    }
    again = run(directories, files)
    assert (again["changed"], again["changed_paths"], again["diff"]) == (False, [], [])


def test_only_what_differs_changes_and_the_diff_shows_it(tmp_path):
    directories, files = wanted(tmp_path)
    run(directories, files)
    os.chmod(tmp_path / "etc/run.sh", 0o700)
    files[0]["content"] = "two\n"
    result = run(directories, files)
    assert result["changed_paths"] == [str(tmp_path / "etc/a.rules"), str(tmp_path / "etc/run.sh")]
    assert result["diff"][0] == dict(
        before_header=str(tmp_path / "etc/a.rules"),
        after_header=str(tmp_path / "etc/a.rules"),
        before="one\n",
        after="two\n",
    )
    assert "mode 0700" in result["diff"][1]["before"] and "mode 0755" in result["diff"][1]["after"]
    assert tree(tmp_path)[str(tmp_path / "etc/run.sh")] == (0o755, b"#!/bin/sh\n")
    assert sorted(os.listdir(tmp_path / "etc")) == ["a.rules", "run.sh"]  # no temporary file left


def test_a_symlink_is_refused_and_nothing_is_written(tmp_path):
    directories, files = wanted(tmp_path)
    (tmp_path / "etc").mkdir()
    (tmp_path / "elsewhere").write_text("keep\n")
    (tmp_path / "etc/a.rules").symlink_to(tmp_path / "elsewhere")
    result = run(directories, files)
    assert result["failed"] and "is a symlink, not a file" in result["msg"]
    assert (tmp_path / "elsewhere").read_text() == "keep\n"
    assert not (tmp_path / "etc/run.sh").exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (dict(path="relative/x", content=""), "files[0].path must be an absolute path"),
        (dict(path="/tmp/../etc/x", content=""), "files[0].path must be an absolute path"),
        (dict(path="/tmp/x", content="", mode="rw"), "files[0].mode must be an octal string"),
        (dict(path="/tmp/x", content="", mode="17777"), "files[0].mode is out of range"),
    ],
)
def test_bad_entries_are_refused_naming_the_option(entry, message):
    with pytest.raises(_files.FilesError, match=message.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]")):
        _files.normalise_entry(dict(dict(mode="0644", owner="root", group="root"), **entry), "file", 0)
