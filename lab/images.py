"""Build the lab's images with debootstrap from Debian's mirror, cached by recipe.

Each image is described by a recipe (plain data). Its hash names the cached
result, so an image is rebuilt exactly when its recipe changes; bump
BUILD_VERSION when the build steps below change in a way the recipes cannot see.
Images stay minimal: what the roles install is not pre-installed, except the
director role's packages in the director image (see its recipe).
"""

import concurrent.futures
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

from lab import config
from lab.mirrors import host_mirrors
from lab.shell import LabError, podman, run

BUILD_VERSION = 1

# Units a container (or a small VM) has no use for; masked in every image.
MASKED_UNITS = [
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
]
CONTAINER_MASKED_UNITS = [
    "systemd-udevd.service",
    "systemd-udevd-control.socket",
    "systemd-udevd-kernel.socket",
    "systemd-modules-load.service",
    "getty.target",
    "console-getty.service",
    "systemd-remount-fs.service",
    "systemd-timesyncd.service",
]

# What a real server container starts with (sid, bookworm and trixie alike).
CONTAINER_PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "python3",
    "iproute2",
    "iptables",
    "procps",
    "ca-certificates",
]

# Debian sid's systemd refuses cgroup v1, which is what podman gives it on this
# host: mount a private cgroup2 tree first (needs SYS_ADMIN, --cgroupns=private).
CGROUP2_INIT = """#!/bin/sh
# Start systemd on a cgroup2 tree (Debian sid's systemd refuses cgroup v1).
if ! grep -q '^cgroup2 /sys/fs/cgroup ' /proc/self/mounts; then
    umount -R /sys/fs/cgroup 2>/dev/null
    mount -t cgroup2 cgroup2 /sys/fs/cgroup
fi
exec /sbin/init "$@"
"""

NO_VALID_UNTIL = 'Acquire::Check-Valid-Until "false";\n'


def stable_sources(suite):
    """sources.list of a Debian release (bookworm, trixie) from the host's mirrors."""
    mirrors = host_mirrors()
    lines = ["deb %s %s main" % (mirrors["debian"], suite), "deb %s %s-updates main" % (mirrors["debian"], suite)]
    if mirrors["security"]:
        lines.append("deb %s %s-security main" % (mirrors["security"], suite))
    return "\n".join(lines) + "\n"


def vm_network_files():
    """systemd-networkd: one base image, each VM picks its address by MAC."""
    files = {}
    for host in config.VMS:
        files["etc/systemd/network/10-%s.network" % host.name] = (
            f"[Match]\nMACAddress={host.mac}\n\n[Network]\nAddress={host.ip}/{config.SUBNET_PREFIX}\n\n"
            "[Route]\n# The package proxy, and nothing else outside the lab.\n"
            f"Destination={config.PROXY_IP}/32\nGateway={config.GATEWAY_IP}\n"
        )
    return files


# Debian's python3 reads .pth files in this directory at every start.
GUEST_SITE = "usr/lib/python3/dist-packages/"
PAYLOAD_CACHE = config.REPO / "lab/guest/sipvs_lab_payload_cache.py"


def payload_cache_files():
    """The directors' import hook for Ansible's module payloads (lab/guest/sipvs_lab_payload_cache.py)."""
    return {
        GUEST_SITE + PAYLOAD_CACHE.name: PAYLOAD_CACHE.read_text(),
        GUEST_SITE
        + "sipvs_lab_payload_cache.pth": "import sipvs_lab_payload_cache; sipvs_lab_payload_cache.install()\n",
    }


def recipes():
    public_key = config.SSH_KEY.with_suffix(".pub").read_text()
    container_files = {
        "usr/local/sbin/lab-init": CGROUP2_INIT,
        "etc/resolv.conf": "",
    }
    return {
        "sipvs-director": {
            "kind": "vm",
            "suite": "bookworm",
            # The director role's packages are in the image: apt under TCG costs ~4 minutes
            # per converge (measured), and the role's install step is proven from scratch
            # by its Molecule scenario. keepalived stays off until the role writes its
            # configuration (Debian's unit needs a non-empty keepalived.conf). python3-apt:
            # without it Ansible's apt module installs it on its first run (with iputils-ping,
            # the lab inventory's director_extra_packages for its track script: 92 s of the
            # first converge on TCG, against 11 s for the same task with both in place).
            "packages": [
                "linux-image-amd64",
                "systemd-sysv",
                "udev",
                "openssh-server",
                "python3",
                "python3-apt",
                "iproute2",
                "ipvsadm",
                "keepalived",
                "iptables",
                "kmod",
                "iputils-ping",
                # The lab inventory's director_metrics (the director role writes its drop-in first, then
                # enables and starts it: disabled below, as on a host where the role installs it).
                "prometheus-node-exporter",
            ],
            "masked": [*MASKED_UNITS, "systemd-timesyncd.service", "getty@tty1.service"],
            "enabled": ["systemd-networkd.service"],
            "disabled": ["prometheus-node-exporter.service"],
            "files": {
                "etc/apt/sources.list": stable_sources("bookworm"),
                "etc/apt/apt.conf.d/01sipvs-lab-proxy": 'Acquire::http::Proxy "%s";\n' % config.PROXY_URL,
                "etc/fstab": "/dev/vda / ext4 defaults,noatime 0 1\n",
                "etc/hostname": "director\n",
                "etc/resolv.conf": "",
                "etc/ssh/sshd_config.d/sipvs-lab.conf": "PasswordAuthentication no\nUseDNS no\n",
                "root/.ssh/authorized_keys": public_key,
                # A small initrd: only what boots a virtio disk (35 MB -> ~7 MB).
                "etc/initramfs-tools/conf.d/sipvs-lab": "MODULES=list\n",
                "etc/initramfs-tools/modules": "virtio_pci\nvirtio_blk\nvirtio_net\next4\n",
                **vm_network_files(),
                # Each Ansible module's payload compiled once per director, not on every task.
                **payload_cache_files(),
            },
            "build": BUILD_VERSION,
        },
        "sipvs-sid": {
            "kind": "container",
            "suite": "sid",
            "packages": [*CONTAINER_PACKAGES],
            "masked": MASKED_UNITS + CONTAINER_MASKED_UNITS,
            "enabled": [],
            "files": {
                "etc/apt/sources.list": "deb %s sid main\n" % host_mirrors()["debian"],
                # The mirror's sid Release file is past its Valid-Until.
                "etc/apt/apt.conf.d/99sipvs-no-check-valid-until": NO_VALID_UNTIL,
                **container_files,
            },
            "build": BUILD_VERSION,
        },
        # The Molecule scenarios' Debian releases (the roles' platforms).
        **{
            "sipvs-%s" % suite: {
                "kind": "container",
                "suite": suite,
                "packages": [*CONTAINER_PACKAGES],
                "masked": MASKED_UNITS + CONTAINER_MASKED_UNITS,
                "enabled": [],
                "files": {"etc/apt/sources.list": stable_sources(suite), **container_files},
                "build": BUILD_VERSION,
            }
            for suite in ("bookworm", "trixie")
        },
    }


def recipe_hash(recipe):
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def ensure_ssh_key():
    if config.SSH_KEY.exists():
        return
    config.SSH_DIR.mkdir(parents=True, exist_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sipvs-lab", "-f", str(config.SSH_KEY)])


class VmImage:
    """Paths of a built director image: raw ext4 base, kernel, initrd, host key."""

    def __init__(self, name, digest):
        self.dir = config.IMAGE_DIR / ("%s-%s" % (name, digest))
        self.disk = self.dir / "base.img"
        self.kernel = self.dir / "vmlinuz"
        self.initrd = self.dir / "initrd.img"
        self.host_key = self.dir / "ssh_host_ed25519_key.pub"

    def exists(self):
        return (self.dir / "done").exists()


def vm_image():
    recipe = recipes()["sipvs-director"]
    return VmImage("sipvs-director", recipe_hash(recipe))


def container_tag(name):
    return "localhost/%s:%s" % (name, recipe_hash(recipes()[name]))


def debootstrap(recipe, rootfs, name, log):
    cache = config.CACHE_DIR / "debootstrap" / name
    cache.mkdir(parents=True, exist_ok=True)
    argv = [
        "debootstrap",
        "--variant=minbase",
        "--cache-dir=%s" % cache,
        "--include=%s" % ",".join(recipe["packages"]),
        recipe["suite"],
        str(rootfs),
        host_mirrors()["debian"],
    ]
    with open(log, "w") as log_file:
        result = run_logged(argv, log_file)
    if result != 0:
        raise LabError("image %s: debootstrap failed (exit %d), see %s" % (name, result, log))


def run_logged(argv, log_file):
    log_file.write("$ %s\n" % " ".join(argv))
    log_file.flush()
    return subprocess.run(argv, stdout=log_file, stderr=subprocess.STDOUT, check=False).returncode


def customise(recipe, rootfs, log):
    for relative, content in recipe["files"].items():
        path = rootfs / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.write_text(content)
        if relative.startswith(("usr/local/sbin/", "usr/local/bin/")):
            path.chmod(0o755)
    (rootfs / "root/.ssh").mkdir(exist_ok=True)
    (rootfs / "root/.ssh").chmod(0o700)
    for unit in recipe["masked"]:
        link = rootfs / "etc/systemd/system" / unit
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to("/dev/null")
    with open(log, "a") as log_file:
        for unit in recipe["enabled"]:
            if run_logged(["chroot", str(rootfs), "systemctl", "enable", unit], log_file) != 0:
                raise LabError("image build: cannot enable %s, see %s" % (unit, log))
        for unit in recipe.get("disabled", []):
            if run_logged(["chroot", str(rootfs), "systemctl", "disable", unit], log_file) != 0:
                raise LabError("image build: cannot disable %s, see %s" % (unit, log))
        # Regenerate the initrd with the trimmed module list written above.
        update_initrd = ["chroot", str(rootfs), "update-initramfs", "-u", "-k", "all"]
        if recipe["kind"] == "vm" and run_logged(update_initrd, log_file) != 0:
            raise LabError("image build: update-initramfs failed, see %s" % log)
    # Nothing of the build host's identity or apt state goes into an image.
    for leftover in ["var/cache/apt/archives", "var/lib/apt/lists"]:
        for entry in (rootfs / leftover).glob("*"):
            if entry.is_file():
                entry.unlink()
    machine_id = rootfs / "etc/machine-id"
    machine_id.write_text("")


def build_vm_image(image, recipe, work, log):
    rootfs = work / "rootfs"
    debootstrap(recipe, rootfs, "sipvs-director", log)
    customise(recipe, rootfs, log)
    staging = work / "out"
    staging.mkdir()
    kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
    initrds = sorted((rootfs / "boot").glob("initrd.img-*"))
    if not kernels or not initrds:
        raise LabError("image sipvs-director: no kernel or initrd in the rootfs, see %s" % log)
    shutil.copy(kernels[-1], staging / "vmlinuz")
    shutil.copy(initrds[-1], staging / "initrd.img")
    shutil.copy(rootfs / "etc/ssh/ssh_host_ed25519_key.pub", staging / "ssh_host_ed25519_key.pub")
    with open(log, "a") as log_file:
        if run_logged(
            ["mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(rootfs), str(staging / "base.img"), "2G"], log_file
        ):
            raise LabError("image sipvs-director: mkfs.ext4 failed, see %s" % log)
    (staging / "done").write_text(json.dumps(recipe, sort_keys=True, indent=1))
    staging.rename(image.dir)


def build_container_image(name, recipe, work, log):
    rootfs = work / "rootfs"
    debootstrap(recipe, rootfs, name, log)
    customise(recipe, rootfs, log)
    tarball = work / "rootfs.tar"
    with open(log, "a") as log_file:
        if run_logged(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tarball), "."], log_file):
            raise LabError("image %s: tar failed, see %s" % (name, log))
    final = config.IMAGE_DIR / ("%s-%s.tar" % (name, recipe_hash(recipe)))
    tarball.rename(final)


def import_container_image(name):
    """Import the cached rootfs tarball into the lab's podman storage, tagged by hash and latest."""
    tag = container_tag(name)
    if podman("image", "exists", tag, check=False).returncode == 0:
        return
    tarball = config.IMAGE_DIR / ("%s-%s.tar" % (name, recipe_hash(recipes()[name])))
    podman(
        "import",
        "--change",
        'CMD ["/usr/local/sbin/lab-init"]',
        "--change",
        "STOPSIGNAL=SIGRTMIN+3",
        str(tarball),
        tag,
    )
    podman("tag", tag, "localhost/%s:latest" % name)


def build_one(name):
    recipe = recipes()[name]
    digest = recipe_hash(recipe)
    config.IMAGE_DIR.mkdir(parents=True, exist_ok=True)
    if recipe["kind"] == "vm":
        image = VmImage(name, digest)
        if image.exists():
            return False
    elif (config.IMAGE_DIR / ("%s-%s.tar" % (name, digest))).exists():
        return False
    log = config.IMAGE_DIR / ("%s-%s.log" % (name, digest))
    work = pathlib.Path(tempfile.mkdtemp(prefix="build-%s-" % name, dir=config.IMAGE_DIR))
    try:
        if recipe["kind"] == "vm":
            build_vm_image(VmImage(name, digest), recipe, work, log)
        else:
            build_container_image(name, recipe, work, log)
    except OSError as error:
        raise LabError("image %s: %s (disk full?), see %s" % (name, error, log)) from error
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return True


def check_disk(path, need_gib):
    path.mkdir(parents=True, exist_ok=True)
    stat = os.statvfs(path)
    free_gib = stat.f_bavail * stat.f_frsize / 2**30
    if free_gib < need_gib:
        raise LabError("only %.1f GiB free under %s, the lab needs %d GiB" % (free_gib, path, need_gib))


def build_all(names=None, say=print):
    """Build missing images (in parallel: debootstrap mostly waits on the network)."""
    ensure_ssh_key()
    names = names or list(recipes())
    missing = [name for name in names if not is_built(name)]
    if missing:
        check_disk(config.CACHE_DIR, 6)
        say("building images: %s (logs in %s)" % (", ".join(missing), config.IMAGE_DIR))
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(missing)) as pool:
            futures = {pool.submit(build_one, name): name for name in missing}
            errors = []
            for future in concurrent.futures.as_completed(futures):
                try:
                    future.result()
                    say("  built %s" % futures[future])
                except LabError as error:
                    errors.append(str(error))
            if errors:
                raise LabError("; ".join(errors))
    for name in names:
        if recipes()[name]["kind"] == "container":
            import_container_image(name)


def is_built(name):
    recipe = recipes()[name]
    digest = recipe_hash(recipe)
    if recipe["kind"] == "vm":
        return VmImage(name, digest).exists()
    return (config.IMAGE_DIR / ("%s-%s.tar" % (name, digest))).exists()


def known_hosts_line():
    """Pin the directors' host key (built into the image) for ssh."""
    key = vm_image().host_key.read_text().split()
    addresses = ",".join(host.ip for host in config.VMS)
    return "%s %s %s\n" % (addresses, key[0], key[1])
