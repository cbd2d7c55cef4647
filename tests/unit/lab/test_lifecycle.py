"""The host snapshot lab-up leaves for whoever takes the lab down (lab/lifecycle.py)."""

import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))

from lab import config, lifecycle
from lab.shell import LabError


def test_host_before_up_reads_what_lab_up_wrote(tmp_path, monkeypatch):
    record = tmp_path / "host-before-up.json"
    monkeypatch.setattr(config, "HOST_BEFORE_UP", record)
    snapshot = {"namespaces": ["other"], "sysctls": {"net.ipv4.ip_forward": "0"}, "run_dir": False}
    record.write_text(json.dumps(snapshot))
    assert lifecycle.host_before_up() == snapshot


@pytest.mark.parametrize("text", [None, "{not json"], ids=["missing", "unreadable"])
def test_host_before_up_without_a_record_is_a_one_line_error(tmp_path, monkeypatch, text):
    record = tmp_path / "host-before-up.json"
    monkeypatch.setattr(config, "HOST_BEFORE_UP", record)
    if text is not None:
        record.write_text(text)
    with pytest.raises(LabError, match=r"no host snapshot from lab-up in .*host-before-up\.json"):
        lifecycle.host_before_up()
