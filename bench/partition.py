"""A VRRP partition under load, on the lab (issue 16), two ways side by side.

The backup director stops hearing the primary's adverts (incoming IP protocol
112 dropped) for 200 new calls of a 10 calls/s SIPp load of 2 s calls: both
directors hold the VIPs (a split brain) until the rule is removed. Counts the
failed calls during the split and after the heal (by the time SIPp aborted
them), the sync daemons each director ran in the split, and the time until
one holder remains. Goal: 0 failed calls.

- `state_daemons`: what keepalived's `lvs_sync_daemon` did (the collection's
  configuration before issue 16), replayed with ipvsadm: the master daemon on
  the primary, the backup daemon on the backup, and when the backup becomes
  master in the split, its backup daemon stopped and a master daemon started.
- `both_daemons`: the director role's configuration - both daemons on both
  directors, whatever their state.

Writes bench/results/partition.json; the lab is left with both daemons.
"""

import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / ".venv" / "collections")]

from ansible_collections.sipvs.lvs.plugins.module_utils import _ipvs  # noqa: E402

from lab import proof  # noqa: E402


def daemons(director):
    """{"master": settings or None, "backup": ...} as the director runs them now."""
    text = proof.sync_daemons(director)
    if text is None:
        raise proof.LabError("cannot read the sync daemons of %s" % director)
    return _ipvs.parse_daemon(text)


def set_daemon(director, name, desired):
    """Start (desired: the settings of a running daemon) or stop (None) one sync daemon."""
    wanted = {"state": "absent"} if desired is None else dict(desired, state="present")
    for argv in _ipvs.plan_daemon(name, daemons(director)[name], wanted):
        result = proof.run_on(director, ["ipvsadm", *argv], timeout=15)
        if result.returncode != 0:
            raise proof.LabError("ipvsadm %s on %s: %s" % (" ".join(argv), director, result.stderr.strip()))


def state_daemons_case(settings):
    primary = proof.wait_until(proof.director_holding, 120, 0.5, "a director holding the SIP VIP")
    backup = next(name for name in proof.DIRECTORS if name != primary)
    set_daemon(primary, "backup", None)
    set_daemon(backup, "master", None)

    def backup_becomes_master(_primary, backup):
        set_daemon(backup, "backup", None)
        set_daemon(backup, "master", settings)

    try:
        return proof.vrrp_partition(on_split=backup_becomes_master)
    finally:
        for director in proof.DIRECTORS:
            for name in ("master", "backup"):
                set_daemon(director, name, settings)


def main():
    proof.ensure_converged()
    first = daemons(proof.DIRECTORS[0])
    settings = {key: value for key, value in first["master"].items() if value is not None}
    cases = {}
    for name, run in (("state_daemons", lambda: state_daemons_case(settings)), ("both_daemons", proof.vrrp_partition)):
        proof.flush_client_neighbours()
        cases[name] = run()
        data = cases[name]
        print(
            "%s: VRRP partition of %.0f s under load: %d of %d calls failed (%d in the split, %d after the heal);"
            " one holder %.1f s after the heal"
            % (
                name,
                data["split_s"],
                data["result"]["failed"],
                data["result"]["created"],
                data["failed_during_split"],
                data["failed_after_heal"],
                data["one_holder_after_heal_s"],
            )
        )
    proof.write_result("partition", {"name": "partition", "goal_failed_calls": 0, "cases": cases})


if __name__ == "__main__":
    main()
