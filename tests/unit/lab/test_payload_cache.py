"""lab/guest/sipvs_lab_payload_cache.py, the directors' import hook for Ansible's module payloads:
a payload imports from its cached, unpacked copy (one per payload, whatever the run's sitecustomize.py
says), and anything doubtful imports from the zip as Python would without the hook."""

import json
import os
import pathlib
import subprocess
import sys
import zipfile

GUEST = pathlib.Path(__file__).resolve().parents[3] / "lab" / "guest"

# Run in a child interpreter so the hook never touches pytest's own imports.
IMPORT = """
import json, sys
sys.path.insert(0, %(guest)r)
import sipvs_lab_payload_cache as hook
hook.CACHE_DIR = %(cache)r
sys.path_hooks.insert(0, hook.payload_finder)
sys.path_importer_cache.clear()
sys.path.insert(0, %(payload)r)
from ansible.module_utils import demo
print(json.dumps({"value": demo.VALUE, "file": demo.__file__}))
"""


def payload(directory, run_path, extra=()):
    """A zip laid out as AnsiballZ lays out a payload, with this run's sitecustomize.py."""
    path = directory / "ansible_demo_payload.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ansible/__init__.py", "")
        archive.writestr("ansible/module_utils/__init__.py", "")
        archive.writestr("ansible/module_utils/demo.py", "VALUE = 42\n")
        archive.writestr("sitecustomize.py", "import sys\nsys.path.insert(0, %r)\n" % run_path)
        for name, content in extra:
            archive.writestr(name, content)
    return path


def imported(cache, payload_path):
    script = IMPORT % {"guest": str(GUEST), "cache": str(cache), "payload": str(payload_path)}
    # As on a director: bytecode is written (the environment may say otherwise for the tests).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    argv = [sys.executable, "-c", script]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_payload_imports_from_one_cached_copy_in_every_run(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    first_run, second_run = tmp_path / "run1", tmp_path / "run2"
    first_run.mkdir()
    second_run.mkdir()
    first = imported(cache, payload(first_run, str(first_run)))
    second = imported(cache, payload(second_run, str(second_run)))
    assert first["value"] == second["value"] == 42
    assert first["file"] == second["file"]
    assert first["file"].startswith(str(cache) + "/")
    copies = list(cache.iterdir())
    assert len(copies) == 1, copies
    assert not (copies[0] / "sitecustomize.py").exists()
    # Compiled once, kept beside the cached source.
    assert list((copies[0] / "ansible/module_utils/__pycache__").glob("demo.*.pyc"))


def test_a_changed_payload_gets_its_own_copy(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    imported(cache, payload(tmp_path, "run"))
    changed = imported(cache, payload(tmp_path, "run", extra=[("ansible/module_utils/other.py", "")]))
    assert changed["value"] == 42
    assert len(list(cache.iterdir())) == 2


def test_a_cache_others_can_write_is_not_used(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o777)
    result = imported(cache, payload(tmp_path, "run"))
    assert result["value"] == 42
    assert ".zip/" in result["file"]
    assert list(cache.iterdir()) == []


def test_a_payload_with_a_name_leaving_its_directory_imports_from_the_zip(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    result = imported(cache, payload(tmp_path, "run", extra=[("../escape.py", "")]))
    assert ".zip/" in result["file"]
    assert list(cache.iterdir()) == []
    assert not (tmp_path / "escape.py").exists()


def test_other_zips_are_left_to_python(tmp_path):
    sys.path.insert(0, str(GUEST))
    try:
        import sipvs_lab_payload_cache as hook
    finally:
        sys.path.remove(str(GUEST))
    other = tmp_path / "library.zip"
    zipfile.ZipFile(other, "w").close()
    assert hook._payload_and_inner(str(other)) is None
    assert hook._payload_and_inner(str(tmp_path / "ansible_x_payload.zip")) is None  # not a file
    path = payload(tmp_path, "run")
    assert hook._payload_and_inner(str(path) + "/ansible/module_utils") == (str(path), "ansible/module_utils")
    assert hook._payload_and_inner(str(path) + "x") is None
