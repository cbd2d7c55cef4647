"""A property of the cluster model over random models (hypothesis): a model either is refused with an LvsError
whose message starts with the variable path (``lvs_cluster...``), or all three engines render it - keepalived for
each director, whose lines carry no word that could end a line, split into two words, open or close a block, start
a comment or quote (only the misc_path line has its own surrounding quotes); Piranha, which may refuse what lvs.cf
cannot express, naming the path; and the static engine.

Every value is drawn from a pool of good ones. A model may have one MISTAKE: one field (say the check's path)
whose values come from its pool of bad ones (addresses no client can reach, the directors' and the real servers'
addresses, networks, names and paths with config-file syntax in them) or from random text, or ``combo``, choices
that do not fit together (a TCP check of a UDP service, a SIP engine with TCP ports, ...). So a model is refused
for the mistake it has, or it reaches the engines with it."""

import re
import string

from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import director_settings, normalize_cluster
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import (
    keepalived_config,
    piranha_config,
    static_services,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

HOSTS = {
    "d1": "10.0.0.1",
    "d2": "10.0.0.2",
    "r1": "10.0.0.21",
    "r2": "10.0.0.22",
    "r6": "fd00::21",
    "r#3": "10.0.0.23",
    "named": "rs.example.org",
}
DIRECTORS = ["d1", "d2"]
# A message that names the model's variable: lvs_cluster, then a key, an index or the end of the path.
NAMES_THE_PATH = re.compile(r"^lvs_cluster([.\[ :]|$)")
# What a keepalived.conf word must not carry: a line end or other blank, a block, a quote or a comment sign.
FORBIDDEN = re.compile(r"[\s{}\"'#]")
HOSTILE = st.text(alphabet=string.ascii_letters + string.digits + " \n\t\r{}\"'#!$;\\/._-é\x00\x7f", max_size=12)

FIELDS = (
    "name",
    "vip",
    "vip_netmask",
    "routed",
    "fwmark",
    "port",
    "protocol",
    "scheduler",
    "scheduler_flags",
    "persistent",
    "persistence_engine",
    "persistence_granularity",
    "quorum",
    "sorry_server",
    "check_type",
    "check_port",
    "path",
    "expect_status",
    "transport",
    "codes",
    "timeout",
    "host",
    "address",
    "server_name",
    "weight",
    "version",
    "advert_int",
    "interface",
    "networks",
    "udp_timeout",
    "combo",
)
# The one field of a model that is wrong (None: none is).
MISTAKE = st.shared(st.sampled_from((None, *FIELDS)), key="mistake")


def pool(field, good, bad=(), hostile=None):
    """A value of ``field``: from ``good``; from ``bad`` (or random text after the prefix ``hostile``, so that it
    passes the first character's check) if it is the MISTAKE."""
    wrong = [st.sampled_from(bad)] if bad else []
    if hostile is not None:
        wrong.append(HOSTILE.map(lambda text: hostile + text))
    return MISTAKE.flatmap(lambda mistake: st.one_of(*wrong) if mistake == field and wrong else st.sampled_from(good))


def wanted(draw, *fields):
    """Whether to give an optional key: always when it holds the MISTAKE, else at random."""
    return draw(MISTAKE) in fields or draw(st.booleans())


def combo(draw):
    """True, now and then, in a model whose MISTAKE is a combination of choices that do not fit."""
    return draw(MISTAKE) == "combo" and draw(st.booleans())


NAMES = ("web", "sip", "dns", "svc1", "svc2", "a.b-c_d", "x" * 64)
BAD_NAMES = ("x" * 65, "two words", "", "a{", "-x", "a#b", "a\nb", '"a"')
PORTS = (80, 53, 5060)
BAD_PORTS = (0, 70000, "http")
INTERFACES = ("eth0", "eth1", "bond0.10")
BAD_INTERFACES = ("eth0 eth1", "e" * 16, "eth0}", "eth0\n}", "eth0#")


@st.composite
def real_servers(draw):
    hosts = pool("host", ("r1", "r2"), ("r6", "r#3", "named", "nowhere", "d1", "r 1"), hostile="r")
    # 10.0.0.21 is r1's address (the same real server twice), 10.0.0.10 a VIP, 10.0.0.1 a director's.
    addresses = pool("address", ("10.0.0.31", "10.0.0.32", "fd00::31"), ("10.0.0.10", "10.0.0.1", "10.0.0.21", "x"))
    server = st.one_of(st.fixed_dictionaries({"host": hosts}), st.fixed_dictionaries({"address": addresses}))
    servers = draw(st.lists(server, min_size=1, max_size=3, unique_by=str))
    for server in servers:
        if wanted(draw, "server_name"):
            server["name"] = draw(pool("server_name", NAMES, BAD_NAMES, hostile="a"))
        if wanted(draw, "weight"):
            server["weight"] = draw(pool("weight", (1, 3), (0, -1, 70000)))
    names = [s["name"] for s in servers if "name" in s]
    if len(set(names)) < len(names) and not combo(draw):
        for server in servers[1:]:
            server.pop("name", None)
    return servers


@st.composite
def checks(draw, udp_only):
    kinds = ("sip", "none") if udp_only and not combo(draw) else ("http", "tcp", "sip", "none")
    if draw(MISTAKE) in ("path", "expect_status"):
        kinds = ("http",)
    elif draw(MISTAKE) in ("transport", "codes"):
        kinds = ("sip",)
    kind = draw(pool("check_type", kinds, ("ping", None, 3)))
    check = {"type": kind}
    if wanted(draw, "check_port"):
        check["port"] = draw(pool("check_port", PORTS, BAD_PORTS))
    if kind == "http":
        paths = ("/", "/health", "/a?b=1&c=%20", "/x/" + "y" * 1020)
        bad = ("health", "/a b", '/a"b', "/a'b", "/a{", "/a}", "/a#b", "/a!b", "/$X", "/a\nb", "/" + "y" * 1024, 7)
        check["path"] = draw(pool("path", paths, bad, hostile="/"))
        if wanted(draw, "expect_status"):
            check["expect_status"] = draw(pool("expect_status", (200, [200, 204]), (999, [], "ok")))
    if kind == "sip":
        check["transport"] = draw(pool("transport", ("udp", "tcp"), ("sctp",)))
        if wanted(draw, "codes"):
            check["codes"] = draw(pool("codes", ([200], [200, 404]), ([1000], "200")))
    if wanted(draw, "timeout"):
        check["timeout"] = draw(pool("timeout", (1, 2.5), (0, "soon")))
    return check


@st.composite
def services(draw):
    vips = ("10.0.0.10", "10.0.0.11", "10.0.0.12", "fd00::10")
    # Addresses no client can reach, the directors' and a real server's, the broadcast of 10.0.0.0/24.
    bad_vips = ("0.0.0.0", "::", "127.0.0.1", "::1", "224.0.0.18", "ff02::1", "255.255.255.255", "169.254.1.1")
    bad_vips += ("fe80::1", "240.0.0.1", "10.0.0.1", "10.0.0.21", "10.0.0.31", "10.0.0.255", "10.0.0.300", None)
    service = {"name": draw(pool("name", NAMES, BAD_NAMES, hostile="a")), "vip": draw(pool("vip", vips, bad_vips))}
    if wanted(draw, "vip_netmask"):
        # 24 keeps a 10.0.0.x VIP on the directors' 10.0.0.0/24 (no director has an IPv6 address to compare).
        service["vip_netmask"] = draw(pool("vip_netmask", (24, "255.255.255.0", 32), (0, 31, 33, "255.0.255.0", True)))
    if wanted(draw, "routed"):
        service["routed"] = draw(pool("routed", (True, False), ("perhaps",)))
    protocols = pool("protocol", ("tcp", "udp", "sctp"), ("icmp", None))
    ports = pool("port", PORTS, BAD_PORTS)
    if wanted(draw, "fwmark"):
        service["fwmark"] = draw(pool("fwmark", (3, 5, 7), (0, -1)))
        pairs = draw(st.lists(st.tuples(protocols, ports), min_size=1, max_size=3, unique=True))
        service["ports"] = [{"protocol": protocol, "port": port} for protocol, port in pairs]
        used = {protocol for protocol, dummy in pairs}
    else:
        service["protocol"] = draw(protocols)
        service["port"] = draw(ports)
        used = {service["protocol"]}
    udp_only = used == {"udp"}
    service["scheduler"] = draw(pool("scheduler", ("wlc", "rr", "sh", "mh"), ("fast",)))
    if service["scheduler"] in ("sh", "mh") or combo(draw):
        service["scheduler_flags"] = draw(
            pool("scheduler_flags", ([], ["port"], ["fallback", "port"]), (["x"], "port"))
        )
    if wanted(draw, "persistent", "persistence_engine", "persistence_granularity"):
        service["persistent"] = draw(pool("persistent", (0, 60), (-1, "long")))
        if (service["persistent"] and udp_only) or combo(draw) or draw(MISTAKE) == "persistence_engine":
            service["persistence_engine"] = draw(pool("persistence_engine", ("sip",), ("callid",)))
        if wanted(draw, "persistence_granularity"):
            service["persistence_granularity"] = draw(pool("persistence_granularity", (24, "255.255.255.0"), (33,)))
    if "udp" in used or combo(draw):
        service["one_packet"] = draw(st.booleans())
    if wanted(draw, "quorum"):
        service["quorum"] = draw(pool("quorum", (1,), (0, 5)))
    if wanted(draw, "sorry_server"):
        sorry = ("10.0.0.99", "fd00::99")
        service["sorry_server"] = {"address": draw(pool("sorry_server", sorry, ("10.0.0.10", "10.0.0.11", "x")))}
    if wanted(draw, "check_type", "check_port", "path", "expect_status", "transport", "codes", "timeout"):
        service["check"] = draw(checks(udp_only))
    service["real_servers"] = draw(real_servers())
    return service


@st.composite
def clusters(draw):
    vrrp = {
        "version": draw(pool("version", (2, 3), (4, "two"))),
        "advert_int": draw(pool("advert_int", (1, 2), (0, 0.5, 300))),
        "interface": draw(pool("interface", INTERFACES, BAD_INTERFACES, hostile="e")),
        "unicast": draw(st.booleans()),
    }
    if wanted(draw, "networks"):
        networks = (["10.0.0.0/24"], ["10.0.0.0/24", "fd00::/64"], ["10.0.0.0/16"])
        vrrp["networks"] = draw(pool("networks", networks, (["0.0.0.0/0"], ["10.0.0.1"], ["192.0.2.0/24"], "x")))
    virtual_services = st.lists(services(), min_size=1, max_size=3, unique_by=lambda s: str(s["name"]))
    cluster = {"vrrp": vrrp, "virtual_services": draw(virtual_services)}
    if draw(st.booleans()):
        interface = draw(pool("interface", INTERFACES, BAD_INTERFACES, hostile="e"))
        cluster["sync_daemon"] = {"enabled": draw(st.booleans()), "interface": interface}
    if wanted(draw, "udp_timeout"):
        cluster["timeouts"] = {"udp": draw(pool("udp_timeout", (0, 60), (-1, 2**31)))}
    return cluster


def lines_of(section):
    """Every line (list of words) of a keepalived section and its sub-sections, the keyword a line of its own."""
    yield section["keyword"].split(" ")
    yield from section["lines"]
    for sub in section["sections"]:
        yield from lines_of(sub)


def assert_safe_line(line):
    assert line, "an empty line"
    for index, word in enumerate(line):
        assert isinstance(word, str)
        assert word, "an empty word in %r" % (line,)
        if line[0] == "misc_path" and index == 1:
            # The command is one quoted word: its own quotes around it, none inside; its arguments one line.
            assert word.startswith('"') and word.endswith('"'), line
            word = word[1:-1].replace(" ", "")
        assert not FORBIDDEN.search(word), "%r carries config syntax (in %r)" % (word, line)


def assert_safe_keepalived(config):
    for line in config["global_defs"]:
        assert_safe_line(line)
    for section in [config["vrrp_instance"], *config["virtual_servers"]]:
        for line in lines_of(section):
            assert_safe_line(line)
        # A comment runs to the end of its line: it must not end it.
        for commented in [section, *section["sections"]]:
            assert not re.search(r"[\n\r]", commented["comment"] or ""), commented["comment"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_a_model_is_refused_naming_the_path_or_rendered_by_every_engine(cluster):
    try:
        model = normalize_cluster(cluster, HOSTS.get, directors=DIRECTORS)
    except LvsError as error:
        assert NAMES_THE_PATH.match(str(error)), str(error)
        event("refused by the model")
        return
    event("rendered")
    for director in DIRECTORS:
        me = director_settings(DIRECTORS, director, HOSTS.get)
        try:
            config = keepalived_config(model, me, {"router_id": director})
        except LvsError as error:
            # keepalived's own restriction, from this director's address (not the model's): its native SIP
            # check sends from the director's address, so a real server of the other family cannot have it.
            assert NAMES_THE_PATH.match(str(error)), str(error)
            assert "another address family" in str(error), str(error)
            continue
        assert_safe_keepalived(config)
    try:
        lvs_cf = piranha_config(model, DIRECTORS, HOSTS.get)
    except LvsError as error:
        assert NAMES_THE_PATH.match(str(error)), str(error)
    else:
        # The names of lvs.cf's virtual and server blocks.
        for name in [v["name"] for v in lvs_cf["virtuals"]] + [
            s["name"] for v in lvs_cf["virtuals"] for s in v["servers"]
        ]:
            assert not FORBIDDEN.search(name), name
    assert len(static_services(model)) == len(model["virtual_services"])
