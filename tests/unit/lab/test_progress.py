"""make lab's converge progress (lab/proof.py Progress): ansible-playbook's output, as it comes,
becomes one line per play, one per task as it starts and one when it ends, with its hosts by result."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))

from lab import proof
from lab.shell import LabError

# Recorded from ansible-playbook -i inventories/lab site.yml (default callback, no colour), shortened.
OUTPUT = """\
PLAY [Directors] ***************************************************************

TASK [Gathering Facts] *********************************************************
ok: [director2]
ok: [director1]

TASK [sipvs.lvs.director : Install the director packages] **********************
changed: [director1]
ok: [director2]

RUNNING HANDLER [sipvs.lvs.director : Reload keepalived] ***********************
changed: [director1]

PLAY [Real servers] ************************************************************

TASK [sipvs.lvs.realserver : Check the variables] ******************************
skipping: [rs1]
fatal: [rs2]: FAILED! => {"msg": "no"}

PLAY RECAP *********************************************************************
director1                  : ok=3    changed=2    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
"""


def test_plays_tasks_and_hosts_by_result():
    said = []
    progress = proof.Progress(said.append)
    for second, line in enumerate(OUTPUT.splitlines()):
        progress.line(line, float(second))
    assert said == [
        "  [   0 s] play Directors",
        "  [   2 s]   Gathering Facts",
        "  [   6 s]     ok director2, director1 (4 s)",
        "  [   6 s]   sipvs.lvs.director : Install the director packages",
        "  [  10 s]     changed director1; ok director2 (4 s)",
        "  [  10 s]   sipvs.lvs.director : Reload keepalived",
        "  [  13 s]     changed director1 (3 s)",
        "  [  13 s] play Real servers",
        "  [  15 s]   sipvs.lvs.realserver : Check the variables",
        "  [  19 s]     skipping rs1; failed rs2 (4 s)",
    ]


def test_the_streamed_run_returns_the_whole_output_and_the_exit_code():
    said = []
    argv = ["sh", "-c", "printf 'PLAY [p] ***\\nTASK [t] ***\\nok: [h]\\nPLAY RECAP ***\\n'; exit 3"]
    returncode, output = proof._site_with_progress(
        argv, {"PATH": "/usr/bin:/bin"}, 60, proof.time.monotonic(), proof.Progress(said.append)
    )
    assert returncode == 3
    assert output.splitlines() == ["PLAY [p] ***", "TASK [t] ***", "ok: [h]", "PLAY RECAP ***"]
    assert [line.split("] ", 1)[1] for line in said] == ["play p", "  t", "    ok h (0 s)"]


def test_a_run_past_its_time_is_stopped():
    argv = ["sh", "-c", "echo 'PLAY [p] ***'; exec sleep 30"]
    started = proof.time.monotonic()
    with pytest.raises(LabError, match="did not finish within 1 s"):
        proof._site_with_progress(argv, {"PATH": "/usr/bin:/bin"}, 1, started, proof.Progress(lambda _line: None))
    assert proof.time.monotonic() - started < 10


def test_each_task_that_ends_is_timed_and_the_profile_adds_them_up_by_role_and_by_name():
    progress = proof.Progress(lambda _line: None)
    for second, line in enumerate(OUTPUT.splitlines()):
        progress.line(line, float(second))
    assert progress.tasks == [
        {"task": "Gathering Facts", "seconds": 4.0},
        {"task": "sipvs.lvs.director : Install the director packages", "seconds": 4.0},
        {"task": "sipvs.lvs.director : Reload keepalived", "seconds": 3.0},
        {"task": "sipvs.lvs.realserver : Check the variables", "seconds": 4.0},
    ]
    twice = [*progress.tasks, {"task": "Gathering Facts", "seconds": 1.5}, {"task": "Check a : b", "seconds": 1.0}]
    assert proof.converge_profile(twice, top=2) == {
        "per_role_s": {"sipvs.lvs.director": 7.0, "(playbook)": 6.5, "sipvs.lvs.realserver": 4.0},
        "top_tasks": [
            {"task": "Gathering Facts", "seconds": 5.5},
            {"task": "sipvs.lvs.director : Install the director packages", "seconds": 4.0},
        ],
    }
