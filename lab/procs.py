"""Processes the lab starts, tracked by PID file and never by name."""

import os
import pathlib
import signal
import time


def read_pid(pid_file):
    try:
        return int(pathlib.Path(pid_file).read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid, expected):
    """True when pid runs and its command line contains `expected` (no stale PID reuse)."""
    try:
        cmdline = pathlib.Path("/proc/%d/cmdline" % pid).read_bytes()
    except OSError:
        return False
    return expected.encode() in cmdline


def running(pid_file, expected):
    pid = read_pid(pid_file)
    return pid is not None and alive(pid, expected)


def stop(pid_file, expected, grace=10):
    """Stop the process named in pid_file, SIGKILL after `grace` seconds; remove the file."""
    pid = read_pid(pid_file)
    if pid is not None and alive(pid, expected):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while alive(pid, expected) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid, expected):
            os.kill(pid, signal.SIGKILL)
            while alive(pid, expected):
                time.sleep(0.1)
    pathlib.Path(pid_file).unlink(missing_ok=True)


def rss_kib(pid):
    try:
        for line in pathlib.Path("/proc/%d/status" % pid).read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pids_in_netns(netns_path):
    """PIDs whose network namespace is the one at netns_path (e.g. /run/netns/NAME)."""
    try:
        target = os.stat(netns_path).st_ino
    except OSError:
        return []
    pids = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.stat(entry / "ns/net").st_ino == target:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids
