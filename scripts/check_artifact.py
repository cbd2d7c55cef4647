"""Check a built collection artifact: nothing from build_ignore slipped in,
and ansible-doc renders every module from the installed tarball."""

import os
import pathlib
import subprocess
import sys
import tarfile

FORBIDDEN_TOP = ("tests/", "molecule/", "lab/", "bench/", ".venv/", "build/")


def main(artifact_dir):
    artifact_dir = pathlib.Path(artifact_dir)
    (tarball,) = artifact_dir.glob("sipvs-lvs-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    leaked = [n for n in names if n.startswith(FORBIDDEN_TOP) or "/molecule/" in n]
    if leaked:
        raise SystemExit("artifact contains files that build_ignore should keep out: %s" % leaked[:10])
    install = artifact_dir / "install"
    modules = sorted(p.stem for p in (install / "ansible_collections/sipvs/lvs/plugins/modules").glob("*.py"))
    if not modules:
        raise SystemExit("artifact %s has no modules" % tarball.name)
    # Only the installed artifact may be found, not this checkout.
    empty_cfg = artifact_dir / "empty.cfg"
    empty_cfg.write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(install.resolve()), ANSIBLE_CONFIG=str(empty_cfg.resolve()))
    ansible_doc = pathlib.Path(sys.executable).parent / "ansible-doc"
    for name in modules:
        subprocess.run(
            [str(ansible_doc), "sipvs.lvs.%s" % name],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    print("artifact %s: %d files, ansible-doc rendered %d module(s)" % (tarball.name, len(names), len(modules)))


if __name__ == "__main__":
    main(sys.argv[1])
