"""apt-cacher-ng as the lab's package proxy: fetches only from Debian's mirror.

Bound to the host end of the proxy veth, run in the foreground with its own
config directory, and managed by PID (there is no systemd on the host).
"""

import socket
import subprocess
import time

from lab import config, procs
from lab.mirrors import host_mirrors, without_scheme
from lab.shell import LabError

CONF_DIR = config.RUN_DIR / "apt-cacher-ng"
PID_FILE = config.RUN_DIR / "apt-cacher-ng.pid"
LOG = config.RUN_DIR / "apt-cacher-ng.out"


def remaps(mirrors):
    """apt-cacher-ng's Remap lines: the lab's hosts ask for the host's own mirrors (lab/mirrors.py)."""
    lines = [
        "Remap-debrep: file:deb_mirror*.gz /debian %s ; %s/" % (without_scheme(mirrors["debian"]), mirrors["debian"])
    ]
    if mirrors["security"]:
        security = mirrors["security"]
        lines.append("Remap-secdeb: /debian-security %s ; %s/" % (without_scheme(security), security))
    return lines


def acng_conf():
    return "\n".join(
        [
            "CacheDir: %s" % config.APT_CACHE_DIR,
            "LogDir: %s" % (CONF_DIR / "log"),
            "SupportDir: /usr/lib/apt-cacher-ng",
            "BindAddress: %s" % config.PROXY_IP,
            "Port: %d" % config.PROXY_PORT,
            "ForeGround: 1",
            # Only the remapped repositories are served; any other host is refused.
            "ForceManaged: 1",
            *remaps(host_mirrors()),
            "ExThreshold: 4",
            "",
        ]
    )


def answers(timeout=0.5):
    try:
        with socket.create_connection((config.PROXY_IP, config.PROXY_PORT), timeout=timeout):
            return True
    except OSError:
        return False


def start():
    if procs.running(PID_FILE, "apt-cacher-ng"):
        return
    (CONF_DIR / "log").mkdir(parents=True, exist_ok=True)
    config.APT_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    (CONF_DIR / "acng.conf").write_text(acng_conf())
    with open(LOG, "w") as log:
        process = subprocess.Popen(
            ["apt-cacher-ng", "-c", str(CONF_DIR)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    PID_FILE.write_text("%d\n" % process.pid)
    deadline = time.monotonic() + 15
    while not answers():
        if process.poll() is not None or time.monotonic() > deadline:
            raise LabError("apt-cacher-ng did not start, see %s" % LOG)
        time.sleep(0.2)


def stop():
    procs.stop(PID_FILE, "apt-cacher-ng")


def pid():
    found = procs.read_pid(PID_FILE)
    return found if found and procs.alive(found, "apt-cacher-ng") else None
