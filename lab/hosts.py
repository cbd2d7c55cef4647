"""Run a command on a lab host: ssh for the directors, podman exec for the real
servers, `ip netns exec` for the client. Used by `python -m lab exec` and tests."""

import os
import shlex
import subprocess
import time

from lab import config
from lab.shell import LabError


def ssh_argv(host, remote_argv):
    return config.enter_netns(
        config.LAB_NS,
        [
            "ssh",
            "-i",
            str(config.SSH_KEY),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "UserKnownHostsFile=%s" % config.KNOWN_HOSTS,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ConnectTimeout=30",
            "-o",
            "LogLevel=ERROR",
            "root@%s" % host.ip,
            "--",
            shlex.join(remote_argv),
        ],
    )


def command(name, argv):
    """The local argv that runs argv on lab host `name`."""
    host = config.HOSTS_BY_NAME.get(name)
    if host is None:
        raise LabError("unknown lab host %r (known: %s)" % (name, ", ".join(config.HOSTS_BY_NAME)))
    if host.kind == "vm":
        return ssh_argv(host, argv)
    if host.kind == "container":
        return ["podman", "exec", config.container_name(host), *argv]
    return ["ip", "netns", "exec", host.netns, *argv]


# ssh's own failures to connect (exit 255), worth another try on a busy TCG guest.
SSH_CONNECT_ERRORS = ("Connection timed out", "banner exchange", "Connection refused", "Connection reset", "closed by")


def run(name, argv, timeout=120, input=None, capture=True, retries=2):
    """Run argv on a lab host; returns CompletedProcess (text). Never raises on a non-zero exit.

    For a director, a failure of ssh itself to connect is retried `retries` times.
    """
    full = command(name, argv)
    env = dict(os.environ, **config.PODMAN_ENV) if full[0] == "podman" else None
    for attempt in range(retries + 1):
        try:
            result = subprocess.run(
                full, text=True, input=input, capture_output=capture, timeout=timeout, env=env, check=False
            )
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(full, 124, "", "timed out after %ss" % timeout)
        ssh_failed = (
            config.HOSTS_BY_NAME[name].kind == "vm"
            and result.returncode == 255
            and capture
            and any(error in result.stderr for error in SSH_CONNECT_ERRORS)
        )
        if not ssh_failed or attempt == retries:
            return result
        time.sleep(2)
    return result
