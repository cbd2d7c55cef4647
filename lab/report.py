"""The `make lab` report: a table on the terminal, lab/out/report.json and
lab/out/report.png (calls per real server, call rate, response time and failed
calls over time, a sample a second, failovers marked)."""

import json
import pathlib


def table(data):
    calls = data["calls"]
    lines = [
        "",
        "== sipvs.lvs lab report",
        "%-28s %s" % ("load (sipp)", " ".join(data["sipp_argv"])),
        "%-28s %d" % ("calls attempted", calls["attempted"]),
        "%-28s %d" % ("calls succeeded", calls["succeeded"]),
        "%-28s %d" % ("calls failed", calls["failed"]),
        "%-28s %.1f s" % ("load duration", calls["seconds"]),
        "calls per real server:",
    ]
    for name, count in sorted(data["calls_per_real_server"].items()):
        lines.append("  %-26s %s" % (name, "unreachable" if count is None else count))
    deviation = data.get("balance_deviation_percent")
    lines.append("%-28s %s" % ("largest deviation from equal", "n/a" if deviation is None else "%.1f %%" % deviation))
    lines.append("%-28s %s" % ("active director", data["active_director"] or "none"))
    for event in data.get("events", []):
        lines.append("%-28s t=%.1fs %s -> %s" % ("failover", event["t"], event["from"], event["to"]))
    lines.append("ipvsadm -L -n on %s:" % (data["active_director"] or "-"))
    lines.extend("  " + line for line in data["ipvsadm"].splitlines())
    return "\n".join(lines)


def _series(samples, key):
    return [sample.get(key) if sample.get(key) is not None else float("nan") for sample in samples]


def plot(data, path):
    """Four panels over the load's seconds, a sample a second: calls per real server (Asterisk's
    count), the rate SIPp placed calls at, its INVITE response time, and failed calls; every event
    (a failover) a dotted line across all four."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(4, 1, figsize=(9, 10), sharex=True, height_ratios=(3, 1.4, 1.4, 1.4))
    samples = data["samples"]
    times = [sample["t"] for sample in samples]
    calls_axis, rate_axis, response_axis, failed_axis = axes
    for name in sorted(data["calls_per_real_server"]):
        values = [sample["per_real_server"].get(name) for sample in samples]
        calls_axis.plot(times, [v if v is not None else float("nan") for v in values], marker=".", label=name)
    calls_axis.set_ylabel("calls processed\n(Asterisk, cumulative)")
    calls_axis.legend(loc="upper left")
    rate_axis.plot(times, _series(samples, "call_rate"), color="tab:purple")
    rate_axis.set_ylabel("calls placed / s")
    # A second in which SIPp placed no call has no response time (SIPp writes 0 for it).
    responses = [
        r if sample.get("call_rate") else float("nan") for r, sample in zip(_series(samples, "response_ms"), samples)
    ]
    response_axis.plot(times, responses, color="tab:brown", marker=".")
    response_axis.set_ylabel("INVITE response\ntime (ms)")
    failed_axis.plot(times, _series(samples, "failed"), color="red")
    failed_axis.set_ylabel("failed calls\n(SIPp, cumulative)")
    failed_axis.set_xlabel("seconds since the load started")
    for axis in axes:
        axis.grid(True, alpha=0.3)
        for event in data.get("events", []):
            axis.axvline(event["t"], color="black", linestyle=":")
    for event in data.get("events", []):
        calls_axis.annotate(
            "%s %s→%s" % (event["event"], event["from"], event["to"]),
            (event["t"], calls_axis.get_ylim()[1] * 0.95),
            rotation=90,
            va="top",
            fontsize=8,
        )
    calls = data["calls"]
    calls_axis.set_title(
        "The load through the SIP VIP (%d attempted, %d succeeded, %d failed)"
        % (calls["attempted"], calls["succeeded"], calls["failed"]),
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(str(path), dpi=100)
    pyplot.close(figure)


def write(data, out_dir):
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    plot(data, out_dir / "report.png")
