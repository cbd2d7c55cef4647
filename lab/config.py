"""Names, addresses and paths of the lab. Everything the lab creates is named here."""

import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parent.parent

# Built images and the lab's ssh key survive a clean clone (CI on the same machine reuses them).
CACHE_DIR = pathlib.Path("/var/cache/sipvs-lab")
IMAGE_DIR = CACHE_DIR / "images"
SSH_DIR = CACHE_DIR / "ssh"
SSH_KEY = SSH_DIR / "id_ed25519"
KNOWN_HOSTS = SSH_DIR / "known_hosts"
APT_CACHE_DIR = CACHE_DIR / "apt-cacher-ng"
# State of a running lab: VM overlays, PID files, logs, what we found on the host.
RUN_DIR = pathlib.Path("/var/lib/sipvs-lab/run")
# The host as lab-up found it (lab/snapshot.py), so that whoever takes the lab down
# can check it left nothing behind - also a test run that did not bring it up.
HOST_BEFORE_UP = RUN_DIR / "host-before-up.json"

PODMAN_ENV = {
    "CONTAINERS_CONF": str(REPO / "lab/podman/containers.conf"),
    "CONTAINERS_STORAGE_CONF": str(REPO / "lab/podman/storage.conf"),
}

LAB_NS = "sipvs-lab"
BRIDGE = "svlbr0"
SUBNET_PREFIX = 24
# The controller's own foothold on the bridge, inside LAB_NS only.
GATEWAY_IP = "172.16.11.250"

# Package proxy: a veth pair host <-> LAB_NS on a link-local /30. Lab hosts reach
# PROXY_IP through a /32 route via GATEWAY_IP; LAB_NS masquerades that flow only.
PROXY_HOST_LINK = "svlpx0"
PROXY_NS_LINK = "svlpx1"
PROXY_IP = "169.254.211.1"
PROXY_NS_IP = "169.254.211.2"
PROXY_PORT = 3142
PROXY_URL = "http://%s:%d" % (PROXY_IP, PROXY_PORT)

# The Debian mirrors are the host's own (lab/mirrors.py), read from its apt sources.

# 256 MB thrashes the page cache as soon as apt or Ansible runs (the guest re-reads
# its binaries from disk all the time, measured: ~1,800 blocks/s in vmstat); the
# host has 24 GiB.
VM_MEMORY_MB = int(os.environ.get("SIPVS_LAB_VM_MEMORY_MB", "768"))
# TCG translation cache per VM: qemu's default (1 GiB) costs RSS. 256 MB (+140 MB RSS per VM)
# showed no speed-up over 64 MB that stood out from the noise of a busy host.
TCG_CODE_CACHE_MB = int(os.environ.get("SIPVS_LAB_TCG_CODE_CACHE_MB", "64"))


class Host:
    def __init__(self, name, kind, ip, **extra):
        self.name = name
        self.kind = kind  # "vm", "container" or "netns"
        self.ip = ip
        self.extra = extra

    @property
    def netns(self):
        return LAB_NS if self.kind == "vm" else "sipvs-%s" % self.name

    @property
    def mac(self):
        last = int(self.ip.rsplit(".", 1)[1])
        return "52:54:00:11:%02x:%02x" % (last // 256, last % 256)

    @property
    def link(self):
        """The lab-side link in the bridge: a tap for a VM, a veth end otherwise."""
        return "svl%s" % self.name.replace("director", "dir")


HOSTS = [
    Host("director1", "vm", "172.16.11.74"),
    Host("director2", "vm", "172.16.11.75"),
    Host("rs1", "container", "172.16.11.76"),
    Host("rs2", "container", "172.16.11.77"),
    Host("rs3", "container", "172.16.11.78"),
    Host("client", "netns", "172.16.11.236"),
]
HOSTS_BY_NAME = {host.name: host for host in HOSTS}
VMS = [host for host in HOSTS if host.kind == "vm"]
CONTAINERS = [host for host in HOSTS if host.kind == "container"]


def enter_netns(netns, argv):
    """argv run in a lab network namespace, sharing the host's mounts (unlike `ip netns exec`,
    whose private mount namespace would hold on to container mounts for as long as argv runs)."""
    return ["nsenter", "--net=/run/netns/%s" % netns, "--", *argv]


def container_name(host):
    return "sipvs-%s" % host.name
