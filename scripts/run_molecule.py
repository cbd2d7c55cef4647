"""Run every Molecule scenario of every role, and the collection-level ones in molecule/ except `cluster`
(that one needs the lab: `make test-lab`), side by side (make molecule).

Each scenario has its own containers (their names differ) and takes the collection from the project venv,
not from a copy Molecule would install in ~/.ansible, so they can run at the same time. Each writes its
whole output to build/molecule/<role>-<scenario>.log; this prints, every PROGRESS_S seconds, the step each
one is in, and at the end each one's result and time. A failed scenario's log ends the output (its last
FAILED_TAIL lines). Exit status 1 if any failed.

    python scripts/run_molecule.py
"""

import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOGS = ROOT / "build" / "molecule"
MOLECULE = pathlib.Path(sys.executable).parent / "molecule"  # the project venv's
PROGRESS_S = 30
FAILED_TAIL = 200
STEP_RE = re.compile(r"➜ \x1b\[\d+m(\w+)")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def scenarios():
    """(name, project directory, scenario) of every scenario make molecule runs."""
    found = []
    for path in sorted(ROOT.glob("roles/*/molecule/*/molecule.yml")) + sorted(ROOT.glob("molecule/*/molecule.yml")):
        scenario_dir = path.parent
        project = scenario_dir.parent.parent
        if project == ROOT and scenario_dir.name == "cluster":
            continue
        name = "%s-%s" % (project.name if project != ROOT else "collection", scenario_dir.name)
        found.append((name, project, scenario_dir.name))
    return found


def current_step(log):
    """The last Molecule step a log names (destroy, create, converge, ...), or 'starting'."""
    steps = STEP_RE.findall(log.read_text(errors="replace")) if log.exists() else []
    return steps[-1] if steps else "starting"


def main():
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it comes, through a pipe too
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    running = {}
    for name, project, scenario in scenarios():
        log = LOGS / ("%s.log" % name)
        with log.open("w") as out:
            command = [str(MOLECULE), "test", "-s", scenario]
            proc = subprocess.Popen(command, cwd=project, stdout=out, stderr=subprocess.STDOUT)
        running[name] = (proc, log)
        print("== molecule test -s %s (%s): log %s" % (scenario, project.relative_to(ROOT), log.relative_to(ROOT)))
    ended = {}
    next_report = started + PROGRESS_S
    while running:
        time.sleep(1)
        for name, (proc, log) in list(running.items()):
            if proc.poll() is not None:
                ended[name] = (proc.returncode, time.monotonic() - started, log)
                del running[name]
                print("== %s: %s after %d s" % (name, "passed" if proc.returncode == 0 else "FAILED", ended[name][1]))
        if running and time.monotonic() >= next_report:
            next_report += PROGRESS_S
            steps = ", ".join("%s %s" % (name, current_step(entry[1])) for name, entry in sorted(running.items()))
            print("   %d s: %s" % (time.monotonic() - started, steps))
    failed = [name for name, entry in sorted(ended.items()) if entry[0] != 0]
    for name in failed:
        lines = ANSI_RE.sub("", ended[name][2].read_text(errors="replace")).splitlines()
        print("== %s failed: the last %d lines of %s" % (name, FAILED_TAIL, ended[name][2].relative_to(ROOT)))
        print("\n".join(lines[-FAILED_TAIL:]))
    print("molecule: %d scenario(s), %d failed, %d s" % (len(ended), len(failed), time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
