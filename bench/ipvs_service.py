"""Control-plane speed of sipvs.lvs.ipvs_service at 1,000 services, against
what a user would otherwise write in Ansible.

In a lab director VM (real kernel IPVS; needs `make lab-up`), inside a
network namespace of its own so nothing else in the VM is touched, side by
side in each round:

1. raw: `ipvsadm -C` then `ipvsadm -R` of the 1,000 services x 3 real
   servers (4,000 rules, the same text the module sends), timed in the VM
   with no Ansible: the kernel's and ipvsadm's own cost;
2. peer apply: `ansible.builtin.command` running `ipvsadm -R` with those
   rules on stdin, into an empty table;
3. apply: the module creates the same table from empty;
4. rerun: the module again with the same services (must report no change);
5. peer read: `ansible.builtin.command` running `ipvsadm -Sn` (what an
   unchanged re-run of the peer costs at least: it has to read the table).

"Module time" is measured in the VM around the module's Python process
(interpreter start, AnsiballZ unpacking, module run), by the interpreter
wrapper Ansible runs it with, the same way for the module and its peers; it
excludes ssh and the controller. The controller's wall time of each
ansible-playbook run is recorded too. Writes bench/results/ipvs_service.json.
"""

import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / ".venv" / "collections")]

from ansible_collections.sipvs.lvs.plugins.module_utils import _ipvs  # noqa: E402

from lab import config, hosts, network  # noqa: E402

HOST = "director1"
NETNS = "ipvsbench"
PYTHON = "/usr/local/sbin/python3-ipvsbench"
TIMES = "/run/ipvsbench.times"
RULES = "/run/ipvsbench.rules"
SERVICES = 1000
RS = ["172.16.11.76", "172.16.11.77", "172.16.11.78"]
ROUNDS = 2
MODULE_ROUNDS = 2
RESULT = REPO / "bench" / "results" / "ipvs_service.json"

SETUP = rf"""
set -e
export DEBIAN_FRONTEND=noninteractive
for try in $(seq 60); do  # another apt run in the VM may hold the lock
  command -v ipvsadm >/dev/null && break
  {{ apt-get update -q && apt-get install -y -q ipvsadm; }} >/dev/null 2>&1 || sleep 5
done
ip netns del {NETNS} 2>/dev/null || true
ip netns add {NETNS}
# Without lo up the kernel calls every real server "not unicast".
ip netns exec {NETNS} ip link set lo up
cat > {PYTHON} <<'EOF'
#!/bin/sh
start=$(date +%s%N)
ip netns exec {NETNS} /usr/bin/python3 "$@"
rc=$?
echo $(( $(date +%s%N) - start )) >> {TIMES}
exit $rc
EOF
chmod 755 {PYTHON}
"""


def remote(script, input=None):
    result = hosts.run(HOST, ["sh", "-c", script], input=input, timeout=1200)
    if result.returncode != 0:
        raise SystemExit("%s: %s: %s" % (HOST, script.strip()[:200], result.stderr.strip()))
    return result.stdout


def desired_services():
    return [
        {
            "protocol": "tcp",
            "address": "10.10.%d.%d" % (i // 250, i % 250 + 1),
            "port": 80,
            "scheduler": "wlc",
            "real_servers": [{"address": a} for a in RS],
        }
        for i in range(SERVICES)
    ]


def run_task(task):
    """One ansible-playbook run of one task on HOST through the timing interpreter; returns (the
    task's result, controller seconds, seconds of its Python process in the VM)."""
    remote(": > %s" % TIMES)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    env.update(config.PODMAN_ENV)
    play = {"hosts": HOST, "gather_facts": False, "vars": {"ansible_python_interpreter": PYTHON}, "tasks": [task]}
    with tempfile.TemporaryDirectory() as tmp:
        playbook = pathlib.Path(tmp) / "bench.yml"
        playbook.write_text(json.dumps([play]))
        inventory = str(REPO / "inventories" / "lab")
        argv = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", inventory, str(playbook)]
        started = time.monotonic()
        run = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, timeout=1800, check=False)
        wall = time.monotonic() - started
    if run.returncode != 0:
        raise SystemExit("ansible-playbook failed: %s %s" % (run.stdout[-3000:], run.stderr[-2000:]))
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"][HOST]
    module_ns = [int(line) for line in remote("cat %s" % TIMES).split()]
    if len(module_ns) != 1:
        raise SystemExit("expected one module run, the wrapper saw %d" % len(module_ns))
    return result, wall, module_ns[0] / 1e9


def timed(name, task, check):
    """run_task, its result checked by check(result), its times printed and returned."""
    result, wall, module = run_task(task)
    assert check(result), (name, {key: result.get(key) for key in ("changed", "rc", "msg")})
    print("%s: module %.2f s, ansible-playbook %.1f s" % (name, module, wall), flush=True)
    return {"module_s": module, "ansible_playbook_s": wall}


def table_lines():
    return remote("ip netns exec %s ipvsadm -Sn" % NETNS).splitlines()


def ratio(numerator, denominator):
    return round(numerator / denominator, 2)


def main():
    if not network.netns_exists(config.LAB_NS):
        raise SystemExit("the lab is not up: run `make lab-up` first")
    services = desired_services()
    wanted = _ipvs.normalise_services(services)
    rules = _ipvs.restore_input(_ipvs.plan([], wanted))
    remote(SETUP)
    remote("cat > %s" % RULES, input=rules)
    load_before = remote("cat /proc/loadavg").split()[:3]
    python_start = [
        int(remote("s=$(date +%%s%%N); ip netns exec %s python3 -c pass; echo $(( $(date +%%s%%N) - s ))" % NETNS))
        / 1e9
        for _round in range(ROUNDS)
    ]
    raw = []
    for _round in range(ROUNDS):
        out = remote(
            "ip netns exec %s sh -c 'ipvsadm -C; s=$(date +%%s%%N); ipvsadm -R < %s >&2;"
            " echo $(( $(date +%%s%%N) - s ))'" % (NETNS, RULES)
        )
        raw.append(int(out.split()[-1]) / 1e9)
        print("raw ipvsadm -R: %.3f s" % raw[-1], flush=True)
    assert len(table_lines()) == SERVICES * (1 + len(RS))

    module_task = {"name": "table", "sipvs.lvs.ipvs_service": {"purge": True, "services": services}}
    peer_apply_task = {"name": "ipvsadm -R", "ansible.builtin.command": {"argv": ["ipvsadm", "-R"], "stdin": rules}}
    peer_read_task = {"name": "ipvsadm -Sn", "ansible.builtin.command": {"argv": ["ipvsadm", "-Sn"]}}
    runs = {"peer_apply": [], "module_apply": [], "module_rerun": [], "peer_read": []}
    for _round in range(MODULE_ROUNDS):
        remote("ip netns exec %s ipvsadm -C" % NETNS)
        runs["peer_apply"].append(timed("peer apply", peer_apply_task, lambda r: r.get("rc") == 0))
        assert len(table_lines()) == SERVICES * (1 + len(RS))
        remote("ip netns exec %s ipvsadm -C" % NETNS)
        runs["module_apply"].append(
            timed("apply", module_task, lambda r: r["changed"] is True and len(r["commands"]) == SERVICES * 4)
        )
        unchanged = timed("rerun", module_task, lambda r: r["changed"] is False and r["commands"] == [])
        runs["module_rerun"].append(unchanged)
        runs["peer_read"].append(
            timed("peer read", peer_read_task, lambda r: len(r["stdout_lines"]) == SERVICES * (1 + len(RS)))
        )
    shown = remote("ip netns exec %s ipvsadm -Sn" % NETNS)
    assert shown == _ipvs.render_save(_ipvs.parse_save(shown)) and len(shown.splitlines()) == SERVICES * 4
    load_after = remote("cat /proc/loadavg").split()[:3]
    remote("ip netns del %s; rm -f %s %s %s" % (NETNS, PYTHON, TIMES, RULES))

    best = {name: min(run["module_s"] for run in rounds) for name, rounds in runs.items()}
    best["raw_restore"] = min(raw)
    ratios = {
        "apply_over_peer_apply": ratio(best["module_apply"], best["peer_apply"]),
        "rerun_over_peer_read": ratio(best["module_rerun"], best["peer_read"]),
        "apply_over_raw": ratio(best["module_apply"], best["raw_restore"]),
    }
    report = {
        "benchmark": "ipvs_service",
        "host": HOST,
        "vm_accel": "tcg",
        "services": SERVICES,
        "real_servers_per_service": len(RS),
        "rules": SERVICES * (1 + len(RS)),
        "rounds": {"raw": ROUNDS, "ansible": MODULE_ROUNDS},
        "python_start_s": python_start,
        "raw_ipvsadm_restore_s": raw,
        "runs": runs,
        "best_s": best,
        "median_s": {name: statistics.median(run["module_s"] for run in rounds) for name, rounds in runs.items()},
        "ratios": ratios,
        "targets": {"apply_over_peer_apply_max": 1.1, "rerun_over_peer_read_max": 1.1},
        "met": {
            "apply_over_peer_apply": ratios["apply_over_peer_apply"] <= 1.1,
            "rerun_over_peer_read": ratios["rerun_over_peer_read"] <= 1.1,
        },
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "note": "module_s is measured in the VM around the Python process of the module or of its"
        " ansible.builtin.command peer (start, AnsiballZ, run)",
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(best), json.dumps(ratios), "met", report["met"])


if __name__ == "__main__":
    main()
