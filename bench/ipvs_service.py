"""Control-plane speed of sipvs.lvs.ipvs_service at 1,000 services.

In a lab director VM (real kernel IPVS; needs `make lab-up`), inside a
network namespace of its own so nothing else in the VM is touched:

1. raw: `ipvsadm -C` then `ipvsadm -R` of the 1,000 services x 3 real
   servers (4,000 rules, the same text the module sends), timed in the VM;
2. apply: the module creates the same table from empty;
3. rerun: the module again with the same services (must report no change).

"Module time" is measured in the VM around the module's Python process
(interpreter start, AnsiballZ unpacking, module run), by the interpreter
wrapper Ansible runs it with; it excludes ssh and the controller. The
controller's wall time of each ansible-playbook run is recorded too.
Writes bench/results/ipvs_service.json.
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
MODULE_ROUNDS = 1
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


def run_module(playbook):
    """One ansible-playbook run; returns (result of the module, controller seconds, module seconds)."""
    remote(": > %s" % TIMES)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    env.update(config.PODMAN_ENV)
    argv = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(REPO / "inventories" / "lab"), playbook]
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
    lines = len(remote("ip netns exec %s ipvsadm -Sn" % NETNS).splitlines())
    assert lines == SERVICES * (1 + len(RS)), lines

    with tempfile.TemporaryDirectory() as tmp:
        playbook = pathlib.Path(tmp) / "bench.yml"
        play = {
            "hosts": HOST,
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": PYTHON},
            "tasks": [{"name": "table", "sipvs.lvs.ipvs_service": {"purge": True, "services": services}}],
        }
        playbook.write_text(json.dumps([play]))
        apply, rerun = [], []
        for _round in range(MODULE_ROUNDS):
            remote("ip netns exec %s ipvsadm -C" % NETNS)
            result, wall, module = run_module(str(playbook))
            assert result["changed"] is True and len(result["commands"]) == SERVICES * 4
            apply.append({"module_s": module, "ansible_playbook_s": wall})
            print("apply: module %.2f s, ansible-playbook %.1f s" % (module, wall), flush=True)
            result, wall, module = run_module(str(playbook))
            assert result["changed"] is False and result["commands"] == []
            rerun.append({"module_s": module, "ansible_playbook_s": wall})
            print("rerun: module %.2f s, ansible-playbook %.1f s" % (module, wall), flush=True)
    shown = remote("ip netns exec %s ipvsadm -Sn" % NETNS)
    assert shown == _ipvs.render_save(_ipvs.parse_save(shown)) and len(shown.splitlines()) == SERVICES * 4
    load_after = remote("cat /proc/loadavg").split()[:3]
    remote("ip netns del %s; rm -f %s %s %s" % (NETNS, PYTHON, TIMES, RULES))

    raw_best = min(raw)
    apply_best = min(r["module_s"] for r in apply)
    rerun_best = min(r["module_s"] for r in rerun)
    report = {
        "benchmark": "ipvs_service",
        "host": HOST,
        "vm_accel": "tcg",
        "services": SERVICES,
        "real_servers_per_service": len(RS),
        "rules": SERVICES * (1 + len(RS)),
        "rounds": {"raw": ROUNDS, "module": MODULE_ROUNDS},
        "python_start_s": python_start,
        "raw_ipvsadm_restore_s": raw,
        "module_apply_from_empty": apply,
        "module_rerun_unchanged": rerun,
        "best": {"raw_restore_s": raw_best, "module_apply_s": apply_best, "module_rerun_s": rerun_best},
        "median": {
            "raw_restore_s": statistics.median(raw),
            "module_apply_s": statistics.median(r["module_s"] for r in apply),
            "module_rerun_s": statistics.median(r["module_s"] for r in rerun),
        },
        "apply_over_raw": apply_best / raw_best,
        "targets": {"apply_over_raw_max": 1.5, "rerun_module_s_max": 1.0},
        "met": {"apply_over_raw": apply_best / raw_best <= 1.5, "rerun_under_1s": rerun_best < 1.0},
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "note": "module_s is measured in the VM around the module's python process (start, AnsiballZ, run)",
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["best"]), "apply/raw %.2f" % report["apply_over_raw"], "met", report["met"])


if __name__ == "__main__":
    main()
