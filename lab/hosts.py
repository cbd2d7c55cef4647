"""Run a command on a lab host: ssh for the directors, podman exec for the real
servers, `ip netns exec` for the client. Used by `python -m lab exec` and tests."""

import os
import shlex
import subprocess

from lab import config
from lab.shell import LabError


def ssh_argv(host, remote_argv):
    return [
        "ip",
        "netns",
        "exec",
        config.LAB_NS,
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
        "ConnectTimeout=5",
        "-o",
        "LogLevel=ERROR",
        "root@%s" % host.ip,
        "--",
        shlex.join(remote_argv),
    ]


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


def run(name, argv, timeout=120, input=None, capture=True):
    """Run argv on a lab host; returns CompletedProcess (text). Never raises on a non-zero exit."""
    full = command(name, argv)
    env = None
    if full[0] == "podman":
        env = dict(os.environ, **config.PODMAN_ENV)
    try:
        return subprocess.run(
            full, text=True, input=input, capture_output=capture, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(full, 124, "", "timed out after %ss" % timeout)
