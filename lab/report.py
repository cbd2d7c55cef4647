"""The `make lab` report: a table on the terminal, lab/out/report.json and
lab/out/report.png (calls per real server over time, failovers marked)."""

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


def plot(data, path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axis = pyplot.subplots(figsize=(9, 5))
    samples = data["samples"]
    times = [sample["t"] for sample in samples]
    names = sorted(data["calls_per_real_server"])
    for name in names:
        values = [sample["per_real_server"].get(name) for sample in samples]
        axis.plot(times, [v if v is not None else float("nan") for v in values], marker=".", label=name)
    axis.plot(times, [sample["failed"] for sample in samples], color="red", linestyle="--", label="failed calls (SIPp)")
    for event in data.get("events", []):
        axis.axvline(event["t"], color="black", linestyle=":")
        axis.annotate(
            "failover %s→%s" % (event["from"], event["to"]),
            (event["t"], axis.get_ylim()[1] * 0.95),
            rotation=90,
            va="top",
            fontsize=8,
        )
    calls = data["calls"]
    axis.set_title(
        "Calls per real server through the SIP VIP (%d attempted, %d succeeded, %d failed)"
        % (calls["attempted"], calls["succeeded"], calls["failed"]),
        fontsize=10,
    )
    axis.set_xlabel("seconds since the load started")
    axis.set_ylabel("calls processed (Asterisk, cumulative)")
    axis.grid(True, alpha=0.3)
    axis.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(str(path), dpi=100)
    pyplot.close(figure)


def write(data, out_dir):
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    plot(data, out_dir / "report.png")
