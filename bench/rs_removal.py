"""Real-server failure to removal from the IPVS pool, on the lab.

Asterisk is stopped on one real server at a time (three trials, one per
server); the active director's table (ipvsadm -Sn) is polled every 100 ms
until the server is gone, then Asterisk is started and the time back into the
pool is measured too. Target: removal <= 3 s. The tutorial's own SIP check
(nmap -sU | grep -c open) can never fail a server: there, removal never happens.
Writes bench/results/rs_removal.json and rs_removal.png.
"""

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from lab import proof

TARGET = 3.0


def poll_until(predicate, timeout):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return round(time.monotonic() - started, 2)
        time.sleep(0.1)
    return None


def trial(rs):
    holder = proof.wait_until(proof.director_holding, 60, 0.5, "a director holding the SIP VIP")
    proof.wait_until(lambda: rs in (proof.pool(holder) or []), 60, 0.5, "%s in the pool" % rs)
    stop = proof.run_on(rs, ["systemctl", "stop", "asterisk"])
    if stop.returncode != 0:
        raise SystemExit("could not stop Asterisk on %s: %s" % (rs, stop.stderr))
    removal = poll_until(lambda: rs not in (proof.pool(holder) or [rs]), 30)
    proof.run_on(rs, ["systemctl", "start", "asterisk"])
    back = poll_until(lambda: rs in (proof.pool(holder) or []), 60)
    return {"real_server": rs, "director": holder, "removal_s": removal, "back_in_pool_s": back}


def main():
    proof.ensure_converged()
    trials = [trial(rs) for rs in proof.REALSERVERS]
    removals = [t["removal_s"] for t in trials]
    worst = None if None in removals else max(removals)
    data = {
        "name": "rs_removal",
        "trials": trials,
        "worst_removal_s": worst,
        "target_s": TARGET,
        "pass": worst is not None and worst <= TARGET,
        "tutorial": "never: the seed's nmap UDP probe reports open|filtered and nanny treats its exit as healthy",
    }
    path = proof.write_result("rs_removal", data)

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axis = pyplot.subplots(figsize=(7, 4))
    names = [t["real_server"] for t in trials]
    axis.bar([n + " removal" for n in names], [t["removal_s"] or 0 for t in trials], color="tab:red")
    axis.bar([n + " return" for n in names], [t["back_in_pool_s"] or 0 for t in trials], color="tab:green")
    axis.axhline(TARGET, color="black", linestyle=":", label="target %.0f s" % TARGET)
    axis.set_ylabel("seconds")
    axis.set_title("Asterisk stopped: time until the director's pool changes", fontsize=10)
    axis.legend()
    axis.tick_params(axis="x", labelrotation=30)
    figure.tight_layout()
    figure.savefig(str(path.with_suffix(".png")), dpi=100)
    pyplot.close(figure)
    print("real-server removal: worst %s s over %d trials (target <= %s s)" % (worst, len(trials), TARGET))


if __name__ == "__main__":
    main()
