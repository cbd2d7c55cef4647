"""Real servers: podman containers with systemd, each joined to its own namespace.

Capabilities are what the realserver role needs and nothing more: NET_ADMIN
(VIP on lo, iptables), NET_RAW, unmasked /proc/sys for the arp sysctls (safe:
the container has its own network namespace), SYS_ADMIN + a private cgroup
namespace for sid's systemd to mount its cgroup2 tree.
"""

import time

from lab import config, images, network, procs
from lab.shell import LabError, podman

IMAGE = "sipvs-sid"
APT_PROXY_CONF = config.RUN_DIR / "apt-proxy.conf"


def state(host):
    result = podman("container", "inspect", "--format", "{{.State.Status}}", config.container_name(host), check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def start(host):
    name = config.container_name(host)
    current = state(host)
    if current == "running":
        return False
    if current is not None:
        podman("rm", "-f", name)
    network.setup_host_namespace(host)
    APT_PROXY_CONF.write_text('Acquire::http::Proxy "%s";\n' % config.PROXY_URL)
    podman(
        "run",
        "--detach",
        "--name",
        name,
        "--hostname",
        host.name,
        "--network",
        "ns:/run/netns/%s" % host.netns,
        "--dns",
        "none",
        "--cap-add",
        "NET_ADMIN,NET_RAW,SYS_ADMIN",
        "--cgroupns",
        "private",
        "--security-opt",
        "unmask=/proc/sys",
        "--systemd",
        "always",
        "--volume",
        "%s:/etc/apt/apt.conf.d/01sipvs-lab-proxy:ro" % APT_PROXY_CONF,
        images.container_tag(IMAGE),
        "/usr/local/sbin/lab-init",
    )
    # Kept so lab-down can stop them by PID should podman lose track of the container.
    pids = podman("container", "inspect", "--format", "{{.State.Pid}} {{.State.ConmonPid}}", name).stdout.split()
    pid_file(host, "init").write_text(pids[0] + "\n")
    pid_file(host, "conmon").write_text(pids[1] + "\n")
    return True


def pid_file(host, role):
    return config.RUN_DIR / ("%s.%s.pid" % (config.container_name(host), role))


def systemd_state(host):
    result = podman("exec", config.container_name(host), "systemctl", "is-system-running", check=False)
    return result.stdout.strip()


def wait_all(seconds=60):
    deadline = time.monotonic() + seconds
    for host in config.CONTAINERS:
        while systemd_state(host) not in ("running", "degraded"):
            if time.monotonic() > deadline:
                raise LabError("%s: systemd is not up after %ds (state %r)" % (host.name, seconds, systemd_state(host)))
            time.sleep(0.5)


def remove_all():
    for host in config.CONTAINERS:
        podman("rm", "--force", "--time", "0", config.container_name(host), check=False)
        # Normally gone with the container; left over only if podman lost track of it.
        procs.stop(pid_file(host, "init"), "/sbin/init", grace=5)
        procs.stop(pid_file(host, "conmon"), "\0%s\0" % config.container_name(host), grace=5)
