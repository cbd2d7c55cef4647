"""docs/cluster.md's table of every lvs_cluster key is held to the model: it lists exactly the keys of the model's
own table (module_utils/_cluster.py MODEL_LEVELS), each default written as one `code` value is the model's fixed
default of that key (same value, same type), a key with no fixed default shows none in code, "required" is
written exactly where the director role's argument spec requires the key, and the type column is the argument
spec's type (which tests/unit/roles/test_director_argument_spec.py holds to the model). Pure Python: it reads
the Markdown and the YAML."""

import functools
import pathlib
import re

import pytest
import yaml
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import MODEL_LEVELS

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "cluster.md"
README = ROOT / "README.md"
SPEC_FILE = ROOT / "roles" / "director" / "meta" / "argument_specs.yml"
HEADER = "| key | type | default | meaning |"
KEY_CELL = re.compile(r"`([a-z_.\[\]]+)`")
# A default cell that is one code span, and nothing else, states a fixed default (a YAML value).
FIXED_DEFAULT = re.compile(r"`([^`]+)`")


@functools.lru_cache(maxsize=None)
def rows():
    """The table's rows by dotted model path (``virtual_services[].check.type`` -> ``virtual_services.check.type``),
    each a dict of the displayed key, type, default and meaning."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    assert lines.count(HEADER) == 1, "%s has no (or more than one) table headed %r" % (DOC, HEADER)
    found = {}
    for line in lines[lines.index(HEADER) + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 4, "%s: a row needs 4 cells (no | inside one): %s" % (DOC.name, line)
        key = KEY_CELL.fullmatch(cells[0])
        assert key, "%s: the key cell must be one `dotted.path`: %s" % (DOC.name, line)
        path = key.group(1).replace("[]", "")
        assert path not in found, "%s lists %s twice" % (DOC.name, path)
        found[path] = dict(zip(("key", "type", "default", "meaning"), [key.group(1), *cells[1:]]))
    return found


def walk(options, prefix=""):
    for name, spec in (options or {}).items():
        yield prefix + name, spec
        yield from walk(spec.get("options"), prefix + name + ".")


@functools.lru_cache(maxsize=None)
def spec_by_path():
    specs = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))["argument_specs"]
    return dict(walk(specs["main"]["options"]["director_cluster"]["options"]))


def model_paths():
    return [(level + "." if level else "") + key for level, (keys, _defaults) in MODEL_LEVELS.items() for key in keys]


def model_default(path):
    level, _dot, key = path.rpartition(".")
    return MODEL_LEVELS[level][1].get(key)


def spec_type(spec):
    kind = spec.get("type", "str")
    return "list of %s" % spec["elements"] if kind == "list" else kind


def displayed(path):
    """``path`` as the table shows it: ``[]`` after each list of mappings it goes through."""
    parts = path.split(".")
    shown = []
    for index, part in enumerate(parts):
        spec = spec_by_path()[".".join(parts[: index + 1])]
        is_list_level = spec.get("type") == "list" and spec.get("elements") == "dict"
        shown.append(part + ("[]" if is_list_level and index < len(parts) - 1 else ""))
    return ".".join(shown)


def test_the_table_lists_every_key_of_the_model():
    missing = [path for path in model_paths() if path not in rows()]
    assert not missing, "%s lacks the model's key(s) %s" % (DOC.name, ", ".join(missing))


def test_the_table_lists_no_key_the_model_lacks():
    extra = sorted(set(rows()) - set(model_paths()))
    assert not extra, "%s lists key(s) the model does not have: %s" % (DOC.name, ", ".join(extra))


@pytest.mark.parametrize("path", model_paths())
def test_the_row_states_the_model(path):
    row = rows().get(path)
    if row is None:
        pytest.skip("not in the table (test_the_table_lists_every_key_of_the_model fails)")
    spec = spec_by_path()[path]
    assert row["key"] == displayed(path), "%s is shown as %s, not %s" % (path, row["key"], displayed(path))
    assert row["type"] == spec_type(spec), "%s: type %r, the argument spec says %r" % (
        path,
        row["type"],
        spec_type(spec),
    )
    assert (row["default"] == "required") == bool(spec.get("required")), (
        "%s: the default cell says %r, the argument spec has required: %s"
        % (path, row["default"], spec.get("required"))
    )
    assert row["meaning"], "%s has no meaning" % path
    default = model_default(path)
    fixed = FIXED_DEFAULT.fullmatch(row["default"])
    if default is None:
        assert fixed is None, "%s: the table gives the default %s, the model has no fixed default" % (
            path,
            row["default"],
        )
        return
    assert fixed, "%s: the table's default %r is not the model's `%s`" % (path, row["default"], default)
    stated = yaml.safe_load(fixed.group(1))
    assert (stated, type(stated)) == (default, type(default)), "%s: the table says %r, the model %r" % (
        path,
        stated,
        default,
    )


def test_the_readme_links_the_table():
    assert "(docs/cluster.md)" in README.read_text(encoding="utf-8")
