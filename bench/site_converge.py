"""site.yml on the lab: first converge on a fresh lab, the idempotent re-run,
and --check on the converged lab (changed counts per host, seconds per role and
the ten slowest tasks of each run). The lab is taken
down and brought up again first, so that the first converge starts from the
bare images; a lab this script brought up is taken down again at the end.
Writes bench/results/site_converge.json.
"""

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from lab import lifecycle, network, proof


def run(*extra):
    tasks = []
    rc, recap, seconds, output = proof.site(*extra, log=proof.OUT / "bench-site-converge.log", tasks=tasks)
    if rc != 0:
        raise SystemExit("site.yml %s failed (exit %d): %s" % (" ".join(extra), rc, output[-2000:]))
    return {
        "seconds": seconds,
        "changed": {host: counts["changed"] for host, counts in sorted(recap.items())},
        **proof.converge_profile(tasks),
    }


def main():
    was_up = network.netns_exists(proof.config.LAB_NS)
    lifecycle.down(say=lambda _line: None)
    started = time.monotonic()
    lifecycle.up(say=lambda _line: None)
    lab_up = round(time.monotonic() - started, 1)
    first = run()
    second = run()
    check = run("--check")
    data = {
        "name": "site_converge",
        "lab_up_s": lab_up,
        "first_converge": first,
        "idempotent_rerun": second,
        "check_mode_on_converged": check,
        "idempotent": all(v == 0 for v in second["changed"].values()),
        "check_mode_changes_nothing": all(v == 0 for v in check["changed"].values()),
        "lab_accel": proof.vms.accel_in_use(proof.config.HOSTS_BY_NAME["director1"]),
    }
    proof.write_result("site_converge", data)
    if not was_up:
        lifecycle.down(say=lambda _line: None)
    print(
        "site.yml: first converge %.0f s, idempotent re-run %.0f s (changed %s), --check %.0f s (changed %s)"
        % (first["seconds"], second["seconds"], second["changed"], check["seconds"], check["changed"])
    )


if __name__ == "__main__":
    main()
