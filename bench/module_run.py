"""What an Ansible module run costs on the lab's TCG directors, with and without
the director image's payload cache (lab/guest/sipvs_lab_payload_cache.py), side
by side in one run: the same playbook (10 stat, 2 copy, 1 file on both
directors) alternately with the cache's .pth file moved aside and in place,
after one warm-up; and fact gathering, the full set against the minimal one
the director play asks for. The lab is brought up if it is not (and taken
down again at the end). Writes bench/results/module_run.json.
"""

import json
import pathlib
import re
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from lab import lifecycle, network, proof

ROUNDS = 2
PTH = "/usr/lib/python3/dist-packages/sipvs_lab_payload_cache.pth"
PROBE = "/tmp/sipvs-bench-module-run"
PLAYBOOK = [
    {
        "hosts": "directors",
        "gather_facts": False,
        "tasks": [
            {"name": "stat", "ansible.builtin.stat": {"path": "/etc/hostname"}, "loop": list(range(10))},
            {"name": "copy", "ansible.builtin.copy": {"content": "x\n", "dest": PROBE, "mode": "0600"}},
            {"name": "copy again", "ansible.builtin.copy": {"content": "x\n", "dest": PROBE, "mode": "0600"}},
            {"name": "remove", "ansible.builtin.file": {"path": PROBE, "state": "absent"}},
            {"name": "facts all", "ansible.builtin.setup": {}},
            {"name": "facts min", "ansible.builtin.setup": {"gather_subset": ["min"]}},
        ],
    }
]
MODULE_RUNS = 13  # before the two fact-gathering tasks
TASK_TIME = re.compile(r"^(stat|copy|copy again|remove|facts all|facts min) -+ ([0-9.]+)s$", re.MULTILINE)


def run_playbook(path):
    """(seconds of the 13 module runs, seconds of each setup) from profile_tasks' summary."""
    argv = [str(proof.VENV_BIN / "ansible-playbook"), "-i", str(proof.INVENTORY), str(path)]
    env = dict(proof.ansible_env(), ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", ANSIBLE_NOCOLOR="1")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900, env=env, cwd=proof.REPO, check=False)
    if result.returncode != 0:
        raise SystemExit("bench module_run: the playbook failed:\n" + result.stdout[-2000:] + result.stderr[-1000:])
    tasks = {name: float(seconds) for name, seconds in TASK_TIME.findall(result.stdout)}
    modules = round(sum(tasks[name] for name in ("stat", "copy", "copy again", "remove")), 1)
    return modules, tasks["facts all"], tasks["facts min"]


def payload_cache(on):
    for director in proof.DIRECTORS:
        source, target = (PTH + ".off", PTH) if on else (PTH, PTH + ".off")
        moved = proof.run_on(director, ["sh", "-c", 'test ! -e "$1" || mv "$1" "$2"', "sh", source, target])
        if moved.returncode != 0:
            raise SystemExit("bench module_run: cannot switch the payload cache on %s: %s" % (director, moved.stderr))


def main():
    was_up = network.netns_exists(proof.config.LAB_NS)
    lifecycle.up(say=lambda _line: None)
    path = proof.OUT / "bench-module-run.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(PLAYBOOK, indent=1) + "\n")
    seconds = {"zip": [], "payload_cache": []}
    facts = {"all": [], "min": []}
    started = time.monotonic()
    try:
        payload_cache(on=True)
        run_playbook(path)  # warm-up: the controller's module cache, the director's payload cache
        for _round in range(ROUNDS):
            for variant in ("zip", "payload_cache"):
                payload_cache(on=variant == "payload_cache")
                modules, facts_all, facts_min = run_playbook(path)
                seconds[variant].append(modules)
                facts["all"].append(facts_all)
                facts["min"].append(facts_min)
    finally:
        payload_cache(on=True)
    data = {
        "name": "module_run",
        "module_runs_per_director": MODULE_RUNS,
        "module_runs_s": seconds,
        "per_module_run_s": {
            variant: round(sum(values) / len(values) / MODULE_RUNS, 2) for variant, values in seconds.items()
        },
        "setup_s": facts,
        "bench_s": round(time.monotonic() - started, 1),
        "lab_accel": proof.vms.accel_in_use(proof.config.HOSTS_BY_NAME["director1"]),
    }
    proof.write_result("module_run", data)
    if not was_up:
        lifecycle.down(say=lambda _line: None)
    print(
        "module runs on both directors: zip %s s, payload cache %s s; setup all %s s, min %s s"
        % (seconds["zip"], seconds["payload_cache"], facts["all"], facts["min"])
    )


if __name__ == "__main__":
    main()
