"""The three engines read the same model the same way: the same services, in the same order, with the same
scheduler, persistence, real servers (address, port, weight) and checked port. A change to one engine that
drops or alters any of these fails here, whichever engine it is."""

import copy

import pytest
import yaml
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import director_settings, normalize_cluster
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import (
    keepalived_config,
    piranha_config,
    static_services,
)
from test__keepalived import CASES, ROOT

# What Piranha can express: VRRP version 2, no SIP persistence engine, no one-packet scheduling.
PIRANHA_CASES = ["example", "lab"]


def piranha_ready(case):
    case = copy.deepcopy(case)
    case["cluster"]["vrrp"]["version"] = 2
    case["cluster"]["vrrp"]["advert_int"] = 1
    case["cluster"]["sync_daemon"].pop("maxlen", None)
    for hook in ("track_scripts", "track_interfaces", "notify"):  # keepalived's own: pulse has none
        case["cluster"]["vrrp"].pop(hook, None)
    for service in case["cluster"]["virtual_services"]:
        service.pop("persistence_engine", None)
        service.pop("one_packet", None)
    return case


def model_of(case):
    return normalize_cluster(case["cluster"], case["hosts"].get)


def words(section):
    return {line[0]: line[1:] for line in section["lines"]}


def keepalived_view(case):
    me = director_settings(case["directors"], case["directors"][0], case["hosts"].get)
    config = keepalived_config(model_of(case), me, {"router_id": "r1"})
    view = []
    for server in config["virtual_servers"]:
        lines = words(server)
        real = []
        for rs in server["sections"]:
            address, _sep, port = rs["keyword"].split(" ", 1)[1].partition(" ")
            # The checked port: connect_port, else the real server's own.
            checked = words(rs["sections"][0]).get("connect_port", [port])
            real.append((address, int(port) if port else None, int(words(rs)["weight"][0]), checked))
        persistent = int(lines["persistence_timeout"][0]) if "persistence_timeout" in lines else 0
        view.append((server["comment"].split(":")[0], lines["lvs_sched"][0], persistent, real))
    return view


def piranha_view(case):
    config = piranha_config(model_of(case), case["directors"], case["hosts"].get, None, {})
    view = []
    for virtual in config["virtuals"]:
        options = virtual["options"]
        real = [(s["address"], s.get("port"), s["weight"], [str(options["port"])]) for s in virtual["servers"]]
        view.append((virtual["name"], options["scheduler"], options.get("persistent", 0), real))
    return view


def static_view(case):
    model = model_of(case)
    view = []
    for service, spec in zip(model["virtual_services"], static_services(model)):
        check_port = service["check"]["port"] or service["port"]
        real = [(r["address"], r.get("port"), r["weight"], [str(check_port)]) for r in spec["real_servers"]]
        view.append((service["name"], spec["scheduler"], spec["persistent"], real))
    return view


@pytest.mark.parametrize("name", PIRANHA_CASES)
def test_the_three_engines_see_the_same_services(name):
    case = piranha_ready(CASES[name])
    assert keepalived_view(case) == piranha_view(case) == static_view(case)
    assert len(keepalived_view(case)) == len(case["cluster"]["virtual_services"])


def test_keepalived_and_static_agree_on_everything_piranha_cannot_express():
    case = CASES["rich"]
    model = model_of(case)
    me = director_settings(case["directors"], "d1", case["hosts"].get)
    servers = keepalived_config(model, me, {"router_id": "d1"})["virtual_servers"]
    for server, spec in zip(servers, static_services(model)):
        lines = words(server)
        assert ("ops" in lines) == spec["one_packet"]
        assert lines.get("persistence_engine", [None])[0] == spec.get("persistence_engine")
        assert [rs["keyword"].split(" ")[1] for rs in server["sections"]] == [
            r["address"] for r in spec["real_servers"]
        ]


def test_the_example_inventory_is_one_of_the_cases():
    # The cases are read from the inventories as shipped, not copies.
    assert (
        CASES["example"]["cluster"]
        == yaml.safe_load((ROOT / "inventories/example/group_vars/all/cluster.yml").read_text())["lvs_cluster"]
    )
