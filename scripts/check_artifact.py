"""Check a built collection artifact (make build-check).

1. The tarball holds only what a user of the collection needs: every file must match EXPECTED (an allow-list,
   so a lab-only or developer file that build_ignore in galaxy.yml misses is named here, not shipped), and
   every file of REQUIRED is there.
2. From the installed tarball alone (not this checkout), ansible-doc renders every module, every filter (the
   names each plugins/filter/*.py FilterModule exposes, documented by the sidecar plugins/filter/<name>.yml)
   and every role's argument specs, and ansible-playbook lists the tasks of every playbook with the shipped
   example inventory (the collection's dependencies are taken from --dependencies, a collections path).

    python scripts/check_artifact.py build/artifact --dependencies .venv/collections
"""

import argparse
import ast
import fnmatch
import json
import os
import pathlib
import subprocess
import sys
import tarfile

# Every file of the artifact matches one of these, segment by segment: "*" is one path segment (fnmatch),
# "**" as the last segment one or more. A directory is allowed where it can lead to an allowed file.
EXPECTED = (
    "README.md",
    "LICENSE",
    "MANIFEST.json",
    "FILES.json",
    "meta/runtime.yml",
    # The released changelog; fragments are the input of antsibull-changelog release, not shipped.
    "CHANGELOG.rst",
    "changelogs/changelog.yaml",
    "changelogs/config.yaml",
    # The user documentation, by name: the lab's (docs/lab.md) stays in the checkout.
    "docs/cluster.md",
    "plugins/modules/*.py",
    "plugins/module_utils/*.py",
    "plugins/plugin_utils/*.py",
    "plugins/doc_fragments/*.py",
    "plugins/filter/*.py",
    "plugins/filter/*.yml",
    "roles/*/README.md",
    "roles/*/defaults/main.yml",
    "roles/*/handlers/main.yml",
    "roles/*/meta/main.yml",
    "roles/*/meta/argument_specs.yml",
    "roles/*/tasks/*.yml",
    "roles/*/templates/*.j2",
    "roles/*/vars/*.yml",
    "roles/*/files/**",
    "playbooks/*.yml",
    "playbooks/vars/*.yml",
    # The inventory to copy; the lab's (inventories/lab) needs lab files that are not shipped.
    "inventories/example/**",
)
# Every file EXPECTED names exactly (no wildcard) must be there, and these that a wildcard allows.
REQUIRED = (
    *(name for name in EXPECTED if "*" not in name),
    "playbooks/site.yml",
    "playbooks/validate.yml",
    "inventories/example/hosts.yml",
    "inventories/example/group_vars/all/cluster.yml",
)
COLLECTION = "sipvs.lvs"
ROOT_IN_INSTALL = pathlib.PurePosixPath("ansible_collections", "sipvs", "lvs")


def _match(segments, pattern):
    """Does the path ``segments`` match the pattern ``pattern`` (both lists of segments)?"""
    if not pattern:
        return not segments
    if pattern[0] == "**":
        return len(segments) >= 1
    return bool(segments) and fnmatch.fnmatchcase(segments[0], pattern[0]) and _match(segments[1:], pattern[1:])


def _allowed(member):
    segments = member.name.rstrip("/").split("/")
    patterns = [p.split("/") for p in EXPECTED]
    if member.isfile():
        return any(_match(segments, p) for p in patterns)
    if member.isdir():
        return any(_match(segments, p[:n]) for p in patterns for n in range(1, len(p) + 1))
    return False


def check_file_list(tarball):
    """The tarball's file names; fails naming every unexpected entry and every missing required file."""
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()
    unexpected = sorted(
        m.name + ("" if m.isfile() or m.isdir() else " (not a regular file)") for m in members if not _allowed(m)
    )
    if unexpected:
        raise SystemExit(
            "artifact %s holds %d unexpected entr%s (keep them out with build_ignore in galaxy.yml, or add them to"
            " EXPECTED in scripts/check_artifact.py if users need them):\n  %s"
            % (tarball.name, len(unexpected), "y" if len(unexpected) == 1 else "ies", "\n  ".join(unexpected))
        )
    names = {m.name for m in members if m.isfile()}
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise SystemExit("artifact %s lacks %s" % (tarball.name, ", ".join(missing)))
    return sorted(names)


def filter_names(path):
    """The names the FilterModule of ``path`` exposes: the keys of the dictionary its filters() returns."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "FilterModule":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "filters":
                    returns = [n.value for n in ast.walk(item) if isinstance(n, ast.Return)]
                    if len(returns) == 1 and isinstance(returns[0], ast.Dict):
                        return [ast.literal_eval(key) for key in returns[0].keys]
    raise SystemExit("%s: no FilterModule whose filters() returns one literal dictionary" % path)


def plugin_names(collection):
    """(modules, filters, roles) of the installed collection at ``collection``, each sorted."""
    modules = sorted(p.stem for p in (collection / "plugins/modules").glob("*.py") if p.stem != "__init__")
    filter_dir = collection / "plugins/filter"
    filters = sorted(name for path in filter_dir.glob("*.py") for name in filter_names(path))
    docs = sorted(p.stem for p in filter_dir.glob("*.yml"))
    if filters != docs:
        raise SystemExit(
            "plugins/filter: filters without a sidecar doc <name>.yml: %s; sidecar docs of no filter: %s"
            % (sorted(set(filters) - set(docs)) or "none", sorted(set(docs) - set(filters)) or "none")
        )
    roles = sorted(p.name for p in (collection / "roles").iterdir() if p.is_dir())
    for kind, names in (("module", modules), ("filter", filters), ("role", roles)):
        if not names:
            raise SystemExit("the artifact has no %s" % kind)
    return modules, filters, roles


def _run(argv, env, what):
    """The standard output of ``argv``; fails with its output when it exits non-zero."""
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(
            "%s failed (rc %d): %s\n%s%s" % (what, result.returncode, " ".join(argv), result.stdout, result.stderr)
        )
    return result.stdout


def check_docs(bindir, env, kind, names):
    """ansible-doc renders ``names`` (plugins of type ``kind``) as text, and as JSON each with its documentation
    (ansible-doc skips a plugin it cannot find or parse with a warning and exit code 0: the JSON shows it)."""
    fqcns = ["%s.%s" % (COLLECTION, name) for name in names]
    ansible_doc = str(bindir / "ansible-doc")
    _run([ansible_doc, "-t", kind, *fqcns], env, "ansible-doc -t %s" % kind)
    found = json.loads(_run([ansible_doc, "-t", kind, "--json", *fqcns], env, "ansible-doc -t %s --json" % kind))
    broken = []
    for fqcn in fqcns:
        doc = found.get(fqcn) or {}
        if kind == "role":
            entries = doc.get("entry_points") or {}
            ok = bool(entries) and all(e.get("short_description") for e in entries.values())
        else:
            ok = bool((doc.get("doc") or {}).get("short_description"))
        if not ok:
            broken.append(fqcn)
    if broken:
        shown = subprocess.run([ansible_doc, "-t", kind, *broken], env=env, capture_output=True, text=True, check=False)
        raise SystemExit(
            "ansible-doc -t %s found no documentation for %s:\n%s" % (kind, ", ".join(broken), shown.stderr)
        )


def link_dependencies(collection, source, target):
    """A collections path at ``target`` holding only the artifact's dependencies, linked from ``source``."""
    manifest = json.loads((collection / "MANIFEST.json").read_text(encoding="utf-8"))
    for name in sorted(manifest["collection_info"]["dependencies"]):
        namespace, short = name.split(".")
        found = source / "ansible_collections" / namespace / short
        if not (found / "MANIFEST.json").is_file() and not (found / "galaxy.yml").is_file():
            raise SystemExit("dependency %s is not installed in %s" % (name, source))
        link = target / "ansible_collections" / namespace / short
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(found.resolve())


def check_playbooks(bindir, env, collection):
    """ansible-playbook --list-tasks of every playbook, by its FQCN, with the example inventory."""
    playbooks = sorted(p.stem for p in (collection / "playbooks").glob("*.yml"))
    inventory = str(collection / "inventories/example")
    for name in playbooks:
        fqcn = "%s.%s" % (COLLECTION, name)
        argv = [str(bindir / "ansible-playbook"), fqcn, "-i", inventory, "--list-tasks"]
        listed = _run(argv, env, "ansible-playbook --list-tasks")
        if name == "site":
            for role in sorted(p.name for p in (collection / "roles").iterdir() if p.is_dir()):
                if "%s.%s : " % (COLLECTION, role) not in listed:
                    raise SystemExit("%s lists no task of role %s.%s:\n%s" % (fqcn, COLLECTION, role, listed))
    return playbooks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifact_dir", type=pathlib.Path, help="holds sipvs-lvs-*.tar.gz and install/")
    parser.add_argument(
        "--dependencies",
        type=pathlib.Path,
        required=True,
        help="a collections path holding the collection's dependencies (galaxy.yml)",
    )
    args = parser.parse_args(argv)
    artifact_dir = args.artifact_dir.resolve()
    (tarball,) = artifact_dir.glob("sipvs-lvs-*.tar.gz")
    names = check_file_list(tarball)

    install = artifact_dir / "install"
    collection = install / ROOT_IN_INSTALL
    modules, filters, roles = plugin_names(collection)
    dependencies = artifact_dir / "dependencies"
    link_dependencies(collection, args.dependencies.resolve(), dependencies)
    # Only the installed artifact and its dependencies may be found: not this checkout, its ansible.cfg, or
    # collections on sys.path.
    empty_cfg = artifact_dir / "empty.cfg"
    empty_cfg.write_text("[defaults]\n")
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH="%s:%s" % (install, dependencies),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_CONFIG=str(empty_cfg),
    )
    bindir = pathlib.Path(sys.executable).parent
    for kind, plugins in (("module", modules), ("filter", filters), ("role", roles)):
        check_docs(bindir, env, kind, plugins)
    playbooks = check_playbooks(bindir, env, collection)
    print(
        "artifact %s: %d files, all expected; ansible-doc rendered %d module(s), %d filter(s), %d role(s);"
        " ansible-playbook listed the tasks of %d playbook(s) with inventories/example"
        % (tarball.name, len(names), len(modules), len(filters), len(roles), len(playbooks))
    )


if __name__ == "__main__":
    main()
