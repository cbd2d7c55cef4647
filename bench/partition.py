"""A VRRP partition under load, on the lab (issue 16).

The backup director stops hearing the primary's adverts (incoming IP protocol
112 dropped) for 200 new calls of a 10 calls/s SIPp load of 2 s calls: both
directors hold the VIPs (a split brain) until the rule is removed. Counts the
failed calls during the split and after the heal (by the time SIPp aborted
them), the sync daemons each director ran in the split, and the time until
one holder remains. Goal: 0 failed calls. Writes bench/results/partition.json.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from lab import proof


def main():
    proof.ensure_converged()
    proof.flush_client_neighbours()
    data = {"name": "partition", "goal_failed_calls": 0, **proof.vrrp_partition()}
    proof.write_result("partition", data)
    print(
        "VRRP partition of %.0f s under load: %d of %d calls failed (%d in the split, %d after the heal);"
        " one holder %.1f s after the heal"
        % (
            data["split_s"],
            data["result"]["failed"],
            data["result"]["created"],
            data["failed_during_split"],
            data["failed_after_heal"],
            data["one_holder_after_heal_s"],
        )
    )


if __name__ == "__main__":
    main()
