"""roles/director/meta/argument_specs.yml restates the cluster model (module_utils/_cluster.py) as the nested
options of director_cluster. This test holds the two together: every key of the model is in the spec with the
model's type, choices and default, and the spec has no key the model lacks; and a cluster that uses every key
passes both. Pure Python: it reads the YAML and the model's tables."""

import copy
import pathlib

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.sipvs.lvs.plugins.module_utils import _cluster as model
from ansible_collections.sipvs.lvs.plugins.module_utils._model import PERSISTENCE_ENGINES, PROTOCOLS, SCHEDULERS

ROOT = pathlib.Path(__file__).resolve().parents[3]
SPEC_FILE = ROOT / "roles" / "director" / "meta" / "argument_specs.yml"

# The choices each level's keys are checked against, by the level's dotted path below director_cluster; the
# levels, their keys and their fixed defaults are the model's own table (MODEL_LEVELS).
CHOICES = {
    "vrrp": {"version": model.VRRP_VERSIONS},
    "virtual_services": {
        "protocol": PROTOCOLS,
        "scheduler": SCHEDULERS,
        "scheduler_flags": model.HASH_FLAGS,
        "forwarding": model.FORWARDING,
        "persistence_engine": PERSISTENCE_ENGINES,
    },
    "virtual_services.ports": {"protocol": PROTOCOLS},
    "virtual_services.check": {"type": model.CHECK_TYPES, "transport": model.SIP_TRANSPORTS},
}
LEVELS = {level: (keys, defaults, CHOICES.get(level, {})) for level, (keys, defaults) in model.MODEL_LEVELS.items()}

# The argument-spec type of every key, as the model's check reads it: check_range, check_port, check_weight and
# check_fwmark take an int; _number an int or a float (float); check_bool a bool; _text, check_ip and check_choice a
# string; _prefix a prefix length or a dotted netmask, expect_status a code or a list of codes (raw). required:
# the model fails without the key.
INT, FLOAT, STR, BOOL, RAW, DICT = ({"type": t} for t in ("int", "float", "str", "bool", "raw", "dict"))
LIST_OF_DICTS = {"type": "list", "elements": "dict"}
REQUIRED = {"required": True}
TYPES = {
    "vrrp": DICT,
    "vrrp.virtual_router_id": INT,
    "vrrp.advert_int": FLOAT,
    "vrrp.version": INT,
    "vrrp.interface": STR,
    "vrrp.unicast": BOOL,
    "vrrp.networks": {"type": "list", "elements": "str"},
    "vrrp.track_scripts": LIST_OF_DICTS,
    "vrrp.track_scripts.name": {**STR, **REQUIRED},
    "vrrp.track_scripts.command": {"type": "list", "elements": "str", **REQUIRED},
    "vrrp.track_scripts.interval": INT,
    "vrrp.track_scripts.timeout": INT,
    "vrrp.track_scripts.fall": INT,
    "vrrp.track_scripts.rise": INT,
    "vrrp.track_scripts.weight": INT,
    "vrrp.track_interfaces": {"type": "list", "elements": "str"},
    "vrrp.notify": DICT,
    "vrrp.notify.master": {"type": "list", "elements": "str"},
    "vrrp.notify.backup": {"type": "list", "elements": "str"},
    "vrrp.notify.fault": {"type": "list", "elements": "str"},
    "sync_daemon": DICT,
    "sync_daemon.enabled": BOOL,
    "sync_daemon.interface": STR,
    "sync_daemon.id": INT,
    "sync_daemon.maxlen": INT,
    "timeouts": DICT,
    "timeouts.tcp": INT,
    "timeouts.tcpfin": INT,
    "timeouts.udp": INT,
    "virtual_services": {**LIST_OF_DICTS, **REQUIRED},
    "virtual_services.name": {**STR, **REQUIRED},
    "virtual_services.vip": {**STR, **REQUIRED},
    "virtual_services.vip_netmask": RAW,
    "virtual_services.routed": BOOL,
    "virtual_services.protocol": STR,
    "virtual_services.port": INT,
    "virtual_services.fwmark": INT,
    "virtual_services.ports": LIST_OF_DICTS,
    "virtual_services.ports.protocol": STR,
    "virtual_services.ports.port": {**INT, **REQUIRED},
    "virtual_services.scheduler": STR,
    "virtual_services.scheduler_flags": {"type": "list", "elements": "str"},
    "virtual_services.forwarding": STR,
    "virtual_services.persistent": INT,
    "virtual_services.persistence_granularity": RAW,
    "virtual_services.persistence_engine": STR,
    "virtual_services.one_packet": BOOL,
    "virtual_services.quorum": INT,
    "virtual_services.sorry_server": DICT,
    "virtual_services.sorry_server.address": {**STR, **REQUIRED},
    "virtual_services.sorry_server.port": INT,
    "virtual_services.check": DICT,
    "virtual_services.check.type": STR,
    "virtual_services.check.path": STR,
    "virtual_services.check.expect_status": RAW,
    "virtual_services.check.port": INT,
    "virtual_services.check.timeout": FLOAT,
    "virtual_services.check.interval": FLOAT,
    "virtual_services.check.retry": INT,
    "virtual_services.check.delay_before_retry": FLOAT,
    "virtual_services.check.transport": STR,
    "virtual_services.check.codes": {"type": "list", "elements": "int"},
    "virtual_services.real_servers": {**LIST_OF_DICTS, **REQUIRED},
    "virtual_services.real_servers.host": STR,
    "virtual_services.real_servers.address": STR,
    "virtual_services.real_servers.name": STR,
    "virtual_services.real_servers.port": INT,
    "virtual_services.real_servers.weight": INT,
}

# A cluster the model accepts that gives every key of the model.
EVERY_KEY = {
    "vrrp": {
        "virtual_router_id": 7,
        "advert_int": 0.5,
        "version": 3,
        "interface": "eth1",
        "unicast": True,
        "networks": ["10.0.0.0/24"],
        "track_scripts": [
            {
                "name": "gateway",
                "command": ["/usr/bin/ping", "-c", 1, "-W", "1", "10.0.0.254"],
                "interval": 3,
                "timeout": 2,
                "fall": 2,
                "rise": 1,
                "weight": -20,
            }
        ],
        "track_interfaces": ["eth3"],
        "notify": {
            "master": ["/usr/local/bin/page", "master"],
            "backup": ["/usr/local/bin/page", "backup"],
            "fault": ["/usr/local/bin/page", "fault"],
        },
    },
    "sync_daemon": {"enabled": True, "interface": "eth2", "id": 3, "maxlen": 64},
    "timeouts": {"tcp": 900, "tcpfin": 120, "udp": 300},
    "virtual_services": [
        {
            "name": "web",
            "vip": "10.0.0.10",
            "vip_netmask": "255.255.255.0",
            "routed": False,
            "protocol": "tcp",
            "port": 80,
            "scheduler": "mh",
            "scheduler_flags": ["port", "fallback"],
            "forwarding": "route",
            "persistent": 300,
            "persistence_granularity": 24,
            "quorum": 1,
            "sorry_server": {"address": "10.0.0.99", "port": 80},
            "check": {
                "type": "http",
                "path": "/health",
                "expect_status": [200, 204],
                "port": 8080,
                "timeout": 2.5,
                "interval": 5,
                "retry": 2,
                "delay_before_retry": 1,
            },
            "real_servers": [{"address": "10.0.0.1", "name": "one", "port": 80, "weight": 2}],
        },
        {
            "name": "sip",
            "vip": "10.0.0.11",
            "fwmark": 5,
            "routed": True,
            # UDP only: IPVS's SIP persistence engine parses nothing else.
            "ports": [{"protocol": "udp", "port": 5060}, {"protocol": "udp", "port": 5061}],
            "persistent": 60,
            "persistence_engine": "sip",
            "one_packet": True,
            "check": {"type": "sip", "transport": "udp", "codes": [200, 404]},
            "real_servers": [{"host": "rs1"}],
        },
    ],
}


def entry_points():
    return yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))["argument_specs"]


def walk(options, prefix=""):
    """Every option below ``options`` as (dotted path, its spec)."""
    for name, spec in (options or {}).items():
        path = prefix + name
        yield path, spec
        yield from walk(spec.get("options"), path + ".")


def director_cluster(entry="main"):
    return entry_points()[entry]["options"]["director_cluster"]


def spec_by_path():
    return dict(walk(director_cluster()["options"]))


def model_paths():
    return [(level + "." if level else "") + key for level, (keys, dummy, dummy2) in LEVELS.items() for key in keys]


def model_entry(path):
    """The model's (default, choices) of ``path``; None where it has none."""
    level, key = path.rpartition(".")[::2]
    _keys, defaults, choices = LEVELS[level]
    return defaults.get(key), choices.get(key)


def paths_in(data, prefix=""):
    """The dotted paths of every key ``data`` gives (list items merged)."""
    items = data if isinstance(data, list) else [data]
    found = set()
    for item in items:
        for key, value in item.items():
            found.add(prefix + key)
            if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
                found |= paths_in(value, prefix + key + ".")
    return found


def test_the_tables_here_describe_the_whole_model():
    nested = {path for path, expected in TYPES.items() if "dict" in (expected["type"], expected.get("elements"))}
    assert nested == set(LEVELS) - {""}
    assert sorted(TYPES) == sorted(model_paths())
    assert set(CHOICES) <= set(LEVELS)
    for level, (keys, defaults, choices) in LEVELS.items():
        assert set(defaults) <= set(keys), level
        assert set(choices) <= set(keys), level
    assert paths_in(EVERY_KEY) == set(model_paths())


def test_director_cluster_is_the_required_model():
    spec = director_cluster()
    assert (spec.get("type"), spec.get("required")) == ("dict", True)


@pytest.mark.parametrize("path", model_paths())
def test_spec_states_the_model_key(path):
    spec = spec_by_path().get(path)
    assert spec is not None, "director_cluster.%s is in the model but not in the argument spec" % path
    default, choices = model_entry(path)
    expected = dict(TYPES[path], default=default, choices=None if choices is None else sorted(map(str, choices)))
    expected.setdefault("required", False)
    expected.setdefault("elements", None)
    found = {
        "type": spec.get("type", "str"),
        "elements": spec.get("elements"),
        "required": spec.get("required", False),
        "default": spec.get("default"),
        "choices": None if spec.get("choices") is None else sorted(map(str, spec["choices"])),
    }
    assert found == expected, "director_cluster.%s: the argument spec (left) differs from the model (right)" % path
    # 1 == True and 0 == False: the spec's default must also be of the model's Python type.
    assert type(found["default"]) is type(default), "director_cluster.%s: default %r is not a %s" % (
        path,
        found["default"],
        type(default).__name__,
    )


def test_spec_has_no_key_the_model_lacks():
    extra = sorted(set(spec_by_path()) - set(model_paths()))
    assert not extra, "the argument spec has director_cluster keys the model does not take: %s" % ", ".join(extra)


def test_a_cluster_with_every_key_passes_the_model_and_the_spec():
    model.normalize_cluster(copy.deepcopy(EVERY_KEY), {"rs1": "10.0.0.2"}.get)
    validator = ArgumentSpecValidator(entry_points()["main"]["options"])
    result = validator.validate({"director_cluster": copy.deepcopy(EVERY_KEY)}, validate_role_argument_spec=True)
    assert result.error_messages == []


@pytest.mark.parametrize("entry", sorted(entry_points()))
def test_every_entry_point_takes_the_main_options(entry):
    assert entry_points()[entry]["options"] == entry_points()["main"]["options"]
