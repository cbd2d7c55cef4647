"""What the lab could leave behind on the host, as comparable data.

`python -m lab snapshot` prints it; tests compare one taken before lab-up with
one taken after lab-down.
"""

import pathlib
import re

from lab import config
from lab.shell import podman, run

WATCHED_SYSCTLS = [
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.forwarding",
    "net.ipv4.conf.all.arp_ignore",
    "net.ipv4.conf.all.arp_announce",
    "net.ipv4.conf.default.arp_ignore",
    "net.ipv4.conf.default.arp_announce",
    "net.bridge.bridge-nf-call-iptables",
]
# Processes the lab starts, or podman starts for it (conmon names the container).
WATCHED_PROCESSES = ("qemu-system", "apt-cacher-ng", "conmon --api-version 1 -c")


def lines(argv):
    result = run(argv, check=False)
    return sorted(line.rstrip() for line in result.stdout.splitlines() if line.strip())


def iptables(save_command):
    """Rules without counters and comments, so two snapshots of the same rules compare equal."""
    kept = []
    for line in lines([save_command]):
        if line.startswith("#"):
            continue
        kept.append(re.sub(r"\[\d+:\d+\]", "", line))
    return kept


def is_lab_process(cmdline):
    """Our own test run is not a leftover; a conmon counts only for a lab container."""
    if "pytest" in cmdline or "python -m lab" in cmdline:
        return False
    return "conmon" not in cmdline or "sipvs-rs" in cmdline


def processes():
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if any(word in cmdline for word in WATCHED_PROCESSES) and is_lab_process(cmdline):
            found.append("%s %s" % (entry.name, cmdline))
    return sorted(found)


def sysctls():
    values = {}
    for key in WATCHED_SYSCTLS:
        path = pathlib.Path("/proc/sys", key.replace(".", "/"))
        values[key] = path.read_text().strip() if path.exists() else None
    return values


# Podman's own bridge networks (Molecule runs on this machine use them, the lab never
# does): their namespaces, veths, bridge and netavark or CNI rules come and go with other work.
PODMAN_NETWORK_WORDS = ("netns-", "veth", "podman", "NETAVARK", "CNI-", "10.88.")


def not_podman_network(items):
    return [item for item in items if not any(word in item for word in PODMAN_NETWORK_WORDS)]


def take():
    lab_containers = {config.container_name(host) for host in config.CONTAINERS}
    all_containers = podman("ps", "--all", "--format", "{{.Names}}", check=False).stdout.split()
    links = [re.sub(r"^\d+: ", "", line).split(" state ")[0] for line in lines(["ip", "-o", "link", "show"])]
    return {
        "namespaces": not_podman_network(lines(["ip", "netns", "list"])),
        "links": not_podman_network(links),
        "addresses": not_podman_network(lines(["ip", "-o", "addr", "show"])),
        "routes": not_podman_network(lines(["ip", "route", "show", "table", "all"])),
        "containers": sorted(name for name in all_containers if name in lab_containers),
        "podman_networks": podman("network", "ls", "--format", "{{.Name}}", check=False).stdout.split(),
        "processes": processes(),
        "iptables": not_podman_network(iptables("iptables-save")),
        "iptables_legacy": not_podman_network(iptables("iptables-legacy-save")),
        "sysctls": sysctls(),
        "run_dir": config.RUN_DIR.exists(),
    }


def differences(before, after):
    """Human-readable list of what changed between two snapshots."""
    found = []
    for key in before:
        if before[key] == after.get(key):
            continue
        if isinstance(before[key], list):
            added = sorted(set(after.get(key, [])) - set(before[key]))
            removed = sorted(set(before[key]) - set(after.get(key, [])))
            found.append("%s: added %s, removed %s" % (key, added, removed))
        else:
            found.append("%s: %r -> %r" % (key, before[key], after.get(key)))
    return found
