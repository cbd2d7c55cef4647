"""Running commands with errors a person can read."""

import os
import subprocess

from lab import config


class LabError(Exception):
    """A failure reported to the user as one line, without a traceback."""


def run(argv, check=True, capture=True, env=None, input=None, timeout=None):
    """Run argv; on failure raise LabError carrying the command and its stderr."""
    full_env = dict(os.environ, **(env or {}))
    try:
        result = subprocess.run(
            argv,
            check=False,
            text=True,
            input=input,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            env=full_env,
            timeout=timeout,
        )
    except FileNotFoundError as error:
        raise LabError("command not found: %s (run `make deps`)" % argv[0]) from error
    except subprocess.TimeoutExpired as error:
        raise LabError("timed out after %ss: %s" % (timeout, " ".join(argv))) from error
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] if capture else []
        raise LabError(
            "`%s` failed (exit %d)%s" % (" ".join(argv), result.returncode, ": " + detail[0] if detail else "")
        )
    return result


def podman(*args, check=True, capture=True, input=None):
    return run(["podman", *args], check=check, capture=capture, env=config.PODMAN_ENV, input=input)


def in_netns(netns, argv):
    return ["ip", "netns", "exec", netns, *argv]
