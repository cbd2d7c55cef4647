"""lab up / down / status."""

import json
import os
import pathlib
import shutil
import time

from lab import config, containers, images, network, procs, proxy, snapshot, vms
from lab.shell import LabError

# Host settings podman may change while the lab starts; lab-up puts back what it found.
HOST_SYSCTLS = ["net.ipv4.ip_forward"]
REQUIRED_COMMANDS = [
    "ip",
    "iptables-restore",
    "podman",
    "runc",
    "debootstrap",
    "qemu-system-x86_64",
    "qemu-img",
    "mkfs.ext4",
    "apt-cacher-ng",
    "ssh",
    "ssh-keygen",
]


def sysctl_path(key):
    return "/proc/sys/" + key.replace(".", "/")


def preflight():
    if os.geteuid() != 0:
        raise LabError("the lab needs root (namespaces, taps, podman storage under /var/lib)")
    if not os.path.exists("/dev/net/tun"):
        raise LabError("/dev/net/tun is missing: the director VMs need tap devices")
    missing = [name for name in REQUIRED_COMMANDS if shutil.which(name) is None]
    if missing:
        raise LabError("missing commands: %s (run `make deps`)" % ", ".join(missing))
    # The run directory's parent: lab-up records the host before the run directory exists.
    images.check_disk(config.RUN_DIR.parent, 2)


def read_host_sysctls():
    return {key: pathlib.Path(sysctl_path(key)).read_text().strip() for key in HOST_SYSCTLS}


def put_back_host_sysctls(found):
    """Podman may set the host's ip_forward when it starts containers. The lab needs no
    forwarding on the host, so lab-up puts back what it found at once (whether it
    succeeds or fails): the host is never left changed, and lab-down has nothing to
    restore (while a Molecule run elsewhere may rely on the value podman set for it)."""
    for key, value in found.items():
        path = pathlib.Path(sysctl_path(key))
        if path.read_text().strip() != value:
            path.write_text(value + "\n")


def up(say=print):
    preflight()
    started = time.monotonic()
    images.build_all(say=say)
    host_before = snapshot.take()
    config.RUN_DIR.mkdir(parents=True, exist_ok=True)
    config.HOST_BEFORE_UP.write_text(json.dumps(host_before, indent=1))
    (config.RUN_DIR / "ssh-control").mkdir(mode=0o700, exist_ok=True)
    found_sysctls = read_host_sysctls()
    try:
        network.setup_lab_namespace()
        proxy.start()
        client = config.HOSTS_BY_NAME["client"]
        network.setup_host_namespace(client)
        for host in config.CONTAINERS:
            containers.start(host)
        vms.start_all(say=say)
        containers.wait_all()
        vms.wait_all(int(os.environ.get("SIPVS_LAB_BOOT_TIMEOUT", "300")))
    except (LabError, OSError, KeyboardInterrupt) as error:
        reason = str(error) or "interrupted"
        say("lab-up failed, cleaning up: %s" % reason)
        down(say=lambda _message: None)
        raise LabError("lab-up failed (cleaned up): %s" % reason) from error
    finally:
        put_back_host_sysctls(found_sysctls)
    say("lab up in %.0fs" % (time.monotonic() - started))
    status(say=say)


def host_before_up():
    """The host snapshot this lab's lab-up took before it started anything."""
    try:
        return json.loads(config.HOST_BEFORE_UP.read_text())
    except (OSError, ValueError) as error:
        raise LabError("no host snapshot from lab-up in %s: %s" % (config.HOST_BEFORE_UP, error)) from error


def is_up():
    return network.netns_exists(config.LAB_NS)


def is_running():
    """Every VM and container of the lab runs (not just its namespaces)."""
    return all(vms.is_running(host) for host in config.VMS) and all(
        containers.state(host) == "running" for host in config.CONTAINERS
    )


def ensure_up(say=print):
    """Bring the lab up unless all of it runs; True when this call started it.
    A half-dead lab (namespaces left by an ended session, VMs gone) is taken
    down first rather than used."""
    if is_up():
        if is_running():
            say("lab already up")
            return False
        say("lab half up (namespaces without their hosts): taking it down first")
        down(say=lambda _message: None)
    up(say=say)
    return True


def down(say=print):
    if os.geteuid() != 0:
        raise LabError("the lab needs root to take it down")
    for host in config.VMS:
        vms.stop(host)
    containers.remove_all()
    proxy.stop()
    network.teardown()
    shutil.rmtree(config.RUN_DIR, ignore_errors=True)
    say("lab down")


def host_rss_kib(host):
    if host.kind == "vm":
        pid = procs.read_pid(vms.pid_file(host))
        return procs.rss_kib(pid) if pid and procs.alive(pid, vms.PROCESS_NAME) else 0
    return sum(procs.rss_kib(pid) for pid in procs.pids_in_netns("/run/netns/%s" % host.netns))


def host_state(host):
    if host.kind == "vm":
        return "running (%s)" % vms.accel_in_use(host) if vms.is_running(host) else "stopped"
    if host.kind == "container":
        return containers.state(host) or "absent"
    return "present" if network.netns_exists(host.netns) else "absent"


def memory_report():
    """RSS in KiB per lab host plus the proxy: an upper bound of what the lab uses."""
    report = {host.name: host_rss_kib(host) for host in config.HOSTS}
    proxy_pid = proxy.pid()
    report["apt-cacher-ng"] = procs.rss_kib(proxy_pid) if proxy_pid else 0
    return report


def status(say=print):
    memory = memory_report()
    say("%-10s %-9s %-15s %-16s %8s" % ("host", "kind", "address", "state", "RSS MiB"))
    for host in config.HOSTS:
        say(
            "%-10s %-9s %-15s %-16s %8.0f" % (host.name, host.kind, host.ip, host_state(host), memory[host.name] / 1024)
        )
    proxy_state = "running" if proxy.pid() else "stopped"
    say(
        "%-10s %-9s %-15s %-16s %8.0f"
        % (
            "proxy",
            "process",
            "%s:%d" % (config.PROXY_IP, config.PROXY_PORT),
            proxy_state,
            memory["apt-cacher-ng"] / 1024,
        )
    )
    say(
        "total RSS: %.0f MiB   (namespace %s, inventory inventories/lab)" % (sum(memory.values()) / 1024, config.LAB_NS)
    )
