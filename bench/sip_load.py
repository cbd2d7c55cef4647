"""The tutorial's SIPp load through the SIP VIP on the lab:
sipp -sn uac -d 20000 -s 200 -l 200 -r 20 -t un -i CLIENT VIP, bounded with
-m 600. Balance: largest deviation of any real server's calls (Asterisk's own
count of calls processed) from an equal share. Targets: <= 5 %, 0 failed calls.
The tutorial saw 69/69/69 connections in ipvsadm. Writes
bench/results/sip_load.json and sip_load.png.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from lab import proof, report

CALLS = 600
TARGET_DEVIATION = 5.0


def main():
    proof.ensure_converged()
    proof.flush_client_neighbours()
    load = dict(proof.TUTORIAL_LOAD, calls=CALLS)
    run = proof.load_test(load)
    deviation = proof.balance_deviation(run["per_real_server"])
    result = run["result"]
    holder = proof.director_holding()
    data = {
        "name": "sip_load",
        "sipp_argv": run["argv"],
        "calls": {
            "attempted": result["created"],
            "succeeded": result["successful"],
            "failed": result["failed"],
            "sipp_exit": result["exit"],
            "seconds": result["seconds"],
        },
        "calls_per_real_server": run["per_real_server"],
        "balance_deviation_percent": deviation,
        "targets": {"balance_deviation_percent": TARGET_DEVIATION, "failed_calls": 0},
        "pass": {
            "balance": deviation is not None and deviation <= TARGET_DEVIATION,
            "no_failed_calls": result["failed"] == 0 and result["successful"] == CALLS,
        },
        "active_director": holder,
        "ipvsadm": proof.ipvsadm_view(holder) if holder else "",
        "samples": run["samples"],
        "events": run["events"],
    }
    path = proof.write_result("sip_load", data)
    report.plot(dict(data, load=load), path.with_suffix(".png"))
    print(
        "SIP load: %d/%d calls succeeded, %d failed; per server %s; largest deviation %s %% (target <= %s %%)"
        % (result["successful"], CALLS, result["failed"], run["per_real_server"], deviation, TARGET_DEVIATION)
    )


if __name__ == "__main__":
    main()
