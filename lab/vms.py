"""Director VMs: qemu with their own kernel (real IPVS), a qcow2 overlay each.

qemu runs inside the lab namespace so its tap is found there (entered with
nsenter --net: `ip netns exec` would also give it a private copy of the host's
mounts, pinning the containers' mounts so podman cannot remove them). KVM is used only
when a probe boot on this machine answered ssh within a short bound (the result
is cached per host kernel); otherwise TCG with a small code cache.
"""

import os
import pathlib
import subprocess
import time

from lab import config, hosts, images, network, procs
from lab.shell import LabError, run

KVM_PROBE_SECONDS = 25
PROCESS_NAME = "qemu-system-x86_64"


def pid_file(host):
    return config.RUN_DIR / ("%s.pid" % host.name)


def overlay(host):
    return config.RUN_DIR / ("%s.qcow2" % host.name)


def console_log(host):
    return config.RUN_DIR / ("%s.console" % host.name)


def qemu_argv(host, image, accel):
    accel_option = "kvm" if accel == "kvm" else "tcg,tb-size=%d" % config.TCG_CODE_CACHE_MB
    return [
        PROCESS_NAME,
        "-name",
        "sipvs-%s" % host.name,
        "-nodefaults",
        "-display",
        "none",
        "-accel",
        accel_option,
        "-m",
        str(config.VM_MEMORY_MB),
        "-smp",
        "1",
        "-kernel",
        str(image.kernel),
        "-initrd",
        str(image.initrd),
        "-append",
        "root=/dev/vda rw console=ttyS0 quiet systemd.hostname=%s" % host.name,
        "-drive",
        "file=%s,if=virtio,format=qcow2" % overlay(host),
        "-netdev",
        "tap,id=lab,ifname=%s,script=no,downscript=no" % host.link,
        "-device",
        "virtio-net-pci,netdev=lab,mac=%s,romfile=" % host.mac,
        "-device",
        "virtio-rng-pci",
        "-serial",
        "file:%s" % console_log(host),
        "-pidfile",
        str(pid_file(host)),
        "-daemonize",
    ]


def is_running(host):
    return procs.running(pid_file(host), PROCESS_NAME)


def start(host, accel):
    if is_running(host):
        return False
    image = images.vm_image()
    network.setup_tap(host)
    overlay(host).unlink(missing_ok=True)
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(image.disk), str(overlay(host))])
    run(config.enter_netns(config.LAB_NS, qemu_argv(host, image, accel)))
    return True


def stop(host):
    procs.stop(pid_file(host), PROCESS_NAME)
    overlay(host).unlink(missing_ok=True)


def wait_for_ssh(host, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not is_running(host):
            return False
        if hosts.run(host.name, ["true"], timeout=40, retries=0).returncode == 0:
            return True
        time.sleep(1)
    return False


def kvm_probe_file():
    return config.CACHE_DIR / ("kvm-probe-%s" % os.uname().release)


def choose_accel(say=print):
    """'kvm' if a probe boot answers in time on this machine, else 'tcg'. Cached per host kernel."""
    forced = os.environ.get("SIPVS_LAB_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    probe_file = kvm_probe_file()
    if probe_file.exists():
        return probe_file.read_text().strip()
    host = config.VMS[0]
    say("probing KVM (one boot, at most %ds; the result is cached in %s)" % (KVM_PROBE_SECONDS, probe_file))
    accel = "tcg"
    try:
        start(host, "kvm")
        if wait_for_ssh(host, KVM_PROBE_SECONDS):
            accel = "kvm"
    except LabError:
        pass
    stop(host)
    probe_file.write_text(accel + "\n")
    return accel


def accel_in_use(host):
    pid = procs.read_pid(pid_file(host))
    if pid is None:
        return None
    try:
        cmdline = pathlib.Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
    except OSError:
        return None
    return "kvm" if b"kvm" in cmdline else "tcg"


def start_all(say=print):
    todo = [host for host in config.VMS if not is_running(host)]
    if not todo:
        return
    image = images.vm_image()
    config.KNOWN_HOSTS.write_text(images.known_hosts_line())
    accel = choose_accel(say)
    for host in todo:
        start(host, accel)
    say("started %s (%s, %d MB each)" % (", ".join(h.name for h in todo), accel, config.VM_MEMORY_MB))
    del image


def wait_all(seconds=240):
    for host in config.VMS:
        if not wait_for_ssh(host, seconds):
            tail = subprocess.run(
                ["tail", "-n", "5", str(console_log(host))], capture_output=True, text=True, check=False
            ).stdout
            raise LabError(
                "%s did not answer ssh within %ds (console: %s): %s"
                % (host.name, seconds, console_log(host), tail.strip().replace("\n", " | "))
            )
