"""IPVS connection sync latency on the lab: how long a new connection is
unknown to the backup director, i.e. lost if the active one dies then.

Bursts of SIP OPTIONS through the SIP VIP, each from a new socket (a new IPVS
connection: 10 at 20 per second, then quiet), while a passive sniffer on the
lab bridge times each request and the sync message that carries its
connection (one clock). Measured with the inventory's sync daemon (lab:
maxlen 64, one connection per message) and with the kernel's own message
length (MTU-sized, a partly filled message held up to 2-3 s).
Writes bench/results/sync_latency.json.
"""

import json
import pathlib
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import yaml
from failover import CLUSTER_VARS, converge_with

from lab import config, proof

SNIFFER = pathlib.Path(proof.SCENARIOS) / "sync_sniffer.py"
BURSTS, PER_BURST, QUIET = 3, 10, 5.0


def measure():
    seconds = BURSTS * (PER_BURST * 0.05 + QUIET) + 8
    sniffer = subprocess.Popen(
        config.enter_netns(
            config.LAB_NS, ["/usr/bin/python3", str(SNIFFER), config.BRIDGE, proof.SIP_VIP, str(seconds)]
        ),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)
        for _burst in range(BURSTS):
            proof.sip_options(count=PER_BURST, interval=0.05, timeout=1.0, deadline=30)
            time.sleep(QUIET)
        out, _err = sniffer.communicate(timeout=seconds + 30)
    finally:
        if sniffer.poll() is None:
            sniffer.kill()
            sniffer.wait(timeout=30)
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    requests = {(e["client"], e["cport"]): e["t"] for e in events if e["kind"] == "request"}
    synced = {}
    for event in events:
        if event["kind"] == "sync":
            for client, cport in event["conns"]:
                synced.setdefault((client, cport), event["t"])
    mine = [key for key in requests if key[0] == proof.CLIENT_IP]
    delays = sorted(round(synced[key] - requests[key], 3) for key in mine if key in synced)
    return {
        "connections": len(mine),
        "synced": len(delays),
        "never_synced": len(mine) - len(delays),
        "sync_messages": sum(1 for e in events if e["kind"] == "sync"),
        "delay_s": {
            "median": statistics.median(delays) if delays else None,
            "max": max(delays) if delays else None,
            "all": delays,
        },
    }


def main():
    proof.ensure_converged()
    sync = yaml.safe_load(CLUSTER_VARS.read_text())["lvs_cluster"]["sync_daemon"]
    try:
        converge_with(None)
        ours = measure()
        converge_with({"sync_daemon": {"maxlen": None}})
        kernel = measure()
    finally:
        converge_with(None)
    data = {
        "name": "sync_latency",
        "ours": dict(ours, sync_daemon=sync),
        "kernel_maxlen": dict(kernel, sync_daemon=dict(sync, maxlen=None)),
        "lab_accel": proof.vms.accel_in_use(proof.config.HOSTS_BY_NAME["director1"]),
    }
    proof.write_result("sync_latency", data)
    print(
        "sync latency: inventory maxlen %s: median %s s, max %s s; kernel maxlen: median %s s, max %s s"
        % (
            sync.get("maxlen"),
            ours["delay_s"]["median"],
            ours["delay_s"]["max"],
            kernel["delay_s"]["median"],
            kernel["delay_s"]["max"],
        )
    )


if __name__ == "__main__":
    main()
