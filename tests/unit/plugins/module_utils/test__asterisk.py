"""asterisk_problems: the asterisk role's rules (module_utils/_asterisk.py). The role's own defaults, with the
example inventory's addresses and endpoints, pass; each single mistake gives exactly one problem, which names the
variable. No message shows a password."""

import copy
import pathlib

import pytest
import yaml
from ansible_collections.sipvs.lvs.plugins.module_utils import _asterisk
from ansible_collections.sipvs.lvs.plugins.module_utils._asterisk import (
    Unset,
    asterisk_problems,
    ipv4_address,
    ipv4_network,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError

ROOT = pathlib.Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles" / "asterisk" / "defaults" / "main.yml").read_text())
PASSWORD = "Zq7-Good.Secret"


def good():
    """The role's defaults for rs1 of inventories/example: its address, the SIP VIP, the 777 account and the
    sipp peer."""
    settings = {name: copy.deepcopy(DEFAULTS[name]) for name in _asterisk.VARIABLES}
    settings.update(
        asterisk_address="172.16.11.76",
        asterisk_media_address="172.16.11.76",
        asterisk_vips=["172.16.11.211"],
        asterisk_endpoints=[
            {"name": "777", "type": "account", "context": "piranha", "password": PASSWORD},
            {"name": "sipp", "type": "peer", "context": "sipp", "match": ["172.16.11.236"]},
        ],
    )
    return settings


def account(settings):
    return settings["asterisk_endpoints"][0]


def peer(settings):
    return settings["asterisk_endpoints"][1]


def extension(settings):
    return settings["asterisk_dialplan"][0]["extensions"][0]


def setting(name, value):
    return lambda settings: settings.update({name: value})


def in_account(**values):
    return lambda settings: account(settings).update(values)


def in_peer(**values):
    return lambda settings: peer(settings).update(values)


def in_extension(**values):
    return lambda settings: extension(settings).update(values)


def third_context(name):
    def edit(settings):
        settings["asterisk_dialplan"].append({"context": name, "extensions": [{"exten": "1", "steps": ["Hangup()"]}]})

    return edit


def third_endpoint(**values):
    def edit(settings):
        settings["asterisk_endpoints"].append(
            dict({"type": "peer", "context": "sipp", "match": ["10.0.0.9"]}, **values)
        )

    return edit


def listen(*pairs):
    return setting("asterisk_sip_listen", [{"protocol": protocol, "port": port} for protocol, port in pairs])


def metrics(address, port):
    return lambda settings: settings.update(
        asterisk_metrics=True, asterisk_metrics_address=address, asterisk_metrics_port=port
    )


def test_the_role_defaults_with_the_example_endpoints_are_accepted():
    assert asterisk_problems(good()) == []


@pytest.mark.parametrize(
    "settings",
    [
        # Numbers and booleans as -e k=v gives them, ints where the inventory leaves out the quotes.
        dict(good(), asterisk_rtp_port_start="10000", asterisk_rtp_port_end="20000"),
        dict(good(), asterisk_allow_peer_networks="false"),
        dict(good(), asterisk_vips=[]),
        dict(good(), asterisk_endpoints=[]),
        dict(good(), asterisk_sip_listen=[{"protocol": "udp", "port": 5060}, {"protocol": "udp", "port": 5061}]),
        dict(good(), asterisk_rtp_port_start=1024, asterisk_rtp_port_end=65535),
        dict(good(), asterisk_metrics=True, asterisk_metrics_address="172.16.11.76", asterisk_metrics_port="8088"),
        dict(good(), asterisk_metrics="yes", asterisk_metrics_address="127.0.0.1", asterisk_metrics_port=9200),
        # Off: the address and port are not read (the default address is a template here).
        dict(good(), asterisk_metrics=False, asterisk_metrics_port="not a port"),
    ],
)
def test_other_good_settings_are_accepted(settings):
    assert asterisk_problems(settings) == []


@pytest.mark.parametrize(
    "edit",
    [
        in_peer(match=["172.16.11.236/32"]),
        in_peer(match=["172.16.11.236", "172.16.11.237"]),
        in_account(permit=["172.16.11.0/24"]),
        in_account(permit=["0.0.0.0/0"]),
        in_account(codecs=["g722", "ulaw", "alaw"]),
        in_extension(exten="_X."),
        in_extension(exten=100),
        in_extension(steps=["Set(x=a\\;b)", "Hangup()"]),
    ],
)
def test_good_endpoints_and_extensions_are_accepted(edit):
    settings = good()
    edit(settings)
    assert asterisk_problems(settings) == []


CASES = {
    # The addresses: IPv4 only, written as the templates print them.
    "address-not-ipv4": (setting("asterisk_address", "rs1"), "asterisk_address must be an IPv4 address, got 'rs1'"),
    "address-empty": (setting("asterisk_address", ""), "asterisk_address is empty: this host has no default IPv4"),
    "address-ipv6": (
        setting("asterisk_address", "2001:db8::76"),
        "asterisk_address 2001:db8::76 is an IPv6 address: the asterisk role listens on IPv4 only",
    ),
    "address-with-blank": (
        setting("asterisk_address", "172.16.11.76 "),
        "asterisk_address must be an IPv4 address, got '172.16.11.76 '",
    ),
    "media-address-not-ipv4": (
        setting("asterisk_media_address", "172.16.11.300"),
        "asterisk_media_address must be an IPv4 address, got '172.16.11.300'",
    ),
    # The VIPs: IPv4, distinct, not the server's own address.
    "vip-not-ipv4": (
        setting("asterisk_vips", ["172.16.11.211", "sip.example.org"]),
        "asterisk_vips[1] must be an IPv4 address, got 'sip.example.org'",
    ),
    "vip-leading-zero": (
        setting("asterisk_vips", ["172.16.011.211"]),
        "asterisk_vips[0] must be an IPv4 address, got '172.16.011.211'",
    ),
    "vip-twice": (
        setting("asterisk_vips", ["172.16.11.211", "172.16.11.212", "172.16.11.211"]),
        "asterisk_vips[2] 172.16.11.211 is listed twice (also asterisk_vips[0])",
    ),
    "vip-is-the-address": (
        setting("asterisk_vips", ["172.16.11.76"]),
        "asterisk_vips[0] 172.16.11.76 is asterisk_address, the real server's own address",
    ),
    "vips-not-a-list": (setting("asterisk_vips", "172.16.11.211"), "asterisk_vips must be a list, got a string"),
    # The listen entries: at least one, ports 1-65535, each protocol/port pair once.
    "listen-none": (listen(), "asterisk_sip_listen must hold at least one protocol/port pair, got none"),
    "listen-port-0": (listen(("udp", 0)), "asterisk_sip_listen[0].port must be between 1 and 65535, got 0"),
    "listen-port-too-high": (
        listen(("udp", 5060), ("tcp", 65536)),
        "asterisk_sip_listen[1].port must be between 1 and 65535, got 65536",
    ),
    "listen-twice": (
        listen(("udp", 5060), ("tcp", 5060), ("udp", "5060")),
        "asterisk_sip_listen[2] udp/5060 is listed twice (also asterisk_sip_listen[0])",
    ),
    # The RTP range: within 1024-65535, the first port below the last.
    "rtp-start-below-1024": (
        setting("asterisk_rtp_port_start", 1000),
        "asterisk_rtp_port_start must be between 1024 and 65535, got 1000",
    ),
    "rtp-end-above-65535": (
        setting("asterisk_rtp_port_end", 70000),
        "asterisk_rtp_port_end must be between 1024 and 65535, got 70000",
    ),
    "rtp-start-not-below-end": (
        setting("asterisk_rtp_port_start", 20000),
        "asterisk_rtp_port_start (20000) must be below asterisk_rtp_port_end (20000)",
    ),
    "rtp-start-not-a-number": (
        setting("asterisk_rtp_port_start", "low"),
        "asterisk_rtp_port_start must be an integer, got 'low'",
    ),
    # The dialplan: context names, each once, not general/globals; extensions, extens, steps.
    "context-bad-name": (
        third_context("sip p"),
        "asterisk_dialplan[2].context must be letters, digits and _.+- only, got 'sip p'",
    ),
    "context-general": (
        third_context("Globals"),
        "asterisk_dialplan[2].context Globals is a section of extensions.conf that is not a context",
    ),
    "context-twice": (
        third_context("piranha"),
        "asterisk_dialplan[2].context piranha is defined more than once (also asterisk_dialplan[0])",
    ),
    "context-without-extensions": (
        lambda settings: settings["asterisk_dialplan"][0].update(extensions=[]),
        "asterisk_dialplan[0].extensions must hold at least one extension, got none",
    ),
    "exten-bad": (
        in_extension(exten="1 00"),
        "asterisk_dialplan[0].extensions[0].exten must be letters, digits and *#+.![]-, a pattern starting with _,"
        " got '1 00'",
    ),
    "extension-without-steps": (
        in_extension(steps=[]),
        "asterisk_dialplan[0].extensions[0].steps must hold at least one application, got none",
    ),
    "step-with-a-line-break": (
        in_extension(steps=["Answer()", "Hangup()\nexten => 666,1,System(id)"]),
        "asterisk_dialplan[0].extensions[0].steps[1] must be a dialplan application on one line",
    ),
    "step-empty": (
        in_extension(steps=[" "]),
        "asterisk_dialplan[0].extensions[0].steps[0] must be a dialplan application on one line",
    ),
    # The endpoints: names, each once; contexts of the dialplan; match/permit; codecs; the account's password.
    "endpoint-bad-name": (
        in_account(name="77 7"),
        "asterisk_endpoints[0].name must be letters, digits and _.+- only, got '77 7'",
    ),
    "endpoint-twice": (
        third_endpoint(name="sipp"),
        "asterisk_endpoints[2].name sipp is used by more than one endpoint (also asterisk_endpoints[1])",
    ),
    "endpoint-unknown-context": (
        in_peer(context="default"),
        "asterisk_endpoints[1].context (peer sipp) 'default' is not a context of asterisk_dialplan (piranha, sipp)",
    ),
    "match-not-an-address": (
        in_peer(match=["client.example.org"]),
        "asterisk_endpoints[1].match[0] (peer sipp) must be an IPv4 address or network (a.b.c.d or a.b.c.d/0-32),"
        " got 'client.example.org'",
    ),
    "match-prefix-33": (
        in_peer(match=["172.16.11.236/33"]),
        "asterisk_endpoints[1].match[0] (peer sipp) must be an IPv4 address or network",
    ),
    "permit-not-an-address": (
        in_account(permit=["172.16.11.0/255.255.255.0"]),
        "asterisk_endpoints[0].permit[0] (account 777) must be an IPv4 address or network",
    ),
    "peer-without-match": (
        in_peer(match=[]),
        "asterisk_endpoints[1].match (peer sipp) is empty: a peer is identified by the addresses it calls from",
    ),
    "peer-match-null": (
        in_peer(match=None),
        "asterisk_endpoints[1].match (peer sipp) is empty",
    ),
    "codec-list-in-one": (
        in_account(codecs=["ulaw,alaw"]),
        "asterisk_endpoints[0].codecs[0] (account 777) must be a codec name, got 'ulaw,alaw'",
    ),
    "password-short": (
        in_account(password="Short-1"),
        "asterisk_endpoints[0].password (account 777) must be at least 12 characters long",
    ),
    "password-missing": (
        lambda settings: account(settings).pop("password"),
        "asterisk_endpoints[0].password (account 777) is not set; it is a secret with no default",
    ),
    # A load-test peer: each match entry one host, unless asterisk_allow_peer_networks.
    "peer-matching-the-internet": (
        in_peer(match=["0.0.0.0/0"]),
        "asterisk_endpoints[1].match[0] (peer sipp) 0.0.0.0/0 is a network of 4294967296 addresses: a peer is not"
        " authenticated, so every host in it could call through it; list the load-test hosts one by one (a.b.c.d or"
        " a.b.c.d/32), or set asterisk_allow_peer_networks: true to accept a network",
    ),
    "peer-matching-a-subnet": (
        in_peer(match=["172.16.11.236", "172.16.11.0/24"]),
        "asterisk_endpoints[1].match[1] (peer sipp) 172.16.11.0/24 is a network of 256 addresses",
    ),
    "peer-matching-two-hosts": (
        in_peer(match=["172.16.11.236/31"]),
        "asterisk_endpoints[1].match[0] (peer sipp) 172.16.11.236/31 is a network of 2 addresses",
    ),
    "opt-in-not-a-boolean": (
        setting("asterisk_allow_peer_networks", "maybe"),
        "asterisk_allow_peer_networks must be a boolean, got 'maybe'",
    ),
    # Metrics: one IPv4 address of the host, printed into http.conf as it is.
    "metrics-not-a-boolean": (setting("asterisk_metrics", "maybe"), "asterisk_metrics must be a boolean, got 'maybe'"),
    "metrics-on-every-address": (
        metrics("0.0.0.0", 8088),
        "asterisk_metrics_address 0.0.0.0 would listen on every address",
    ),
    "metrics-address-with-a-newline": (
        metrics("172.16.11.76\nbindport=80", 8088),
        "asterisk_metrics_address must be an IPv4 address, got '172.16.11.76\\nbindport=80'",
    ),
    "metrics-address-ipv6": (metrics("fd00::76", 8088), "asterisk_metrics_address fd00::76 is an IPv6 address"),
    "metrics-port-out-of-range": (metrics("172.16.11.76", 0), "asterisk_metrics_port must be between 1 and 65535"),
    "metrics-address-a-name": (metrics("rs1", 8088), "asterisk_metrics_address must be an IPv4 address, got 'rs1'"),
    # A variable whose template's variable is undefined.
    "address-undefined": (
        setting("asterisk_address", Unset("'lvs_adress' is undefined")),
        "asterisk_address has no value ('lvs_adress' is undefined)",
    ),
    "password-undefined": (
        in_account(password=Unset("'sipvs_sip_777_password' is undefined")),
        "asterisk_endpoints[0].password (account 777) is not set ('sipvs_sip_777_password' is undefined)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_mistake_is_one_problem_naming_the_variable(case):
    edit, message = CASES[case]
    settings = good()
    edit(settings)
    problems = asterisk_problems(settings)
    assert len(problems) == 1, problems
    # The message starts with the path of the variable.
    assert problems[0].startswith(message), problems


@pytest.mark.parametrize("match", [["0.0.0.0/0"], ["172.16.11.0/24", "172.16.11.236"], ["10.0.0.0/8"]])
@pytest.mark.parametrize("opt_in", [True, "true", "yes"])
def test_a_peer_network_is_accepted_with_the_opt_in(match, opt_in):
    settings = good()
    peer(settings)["match"] = match
    settings["asterisk_allow_peer_networks"] = opt_in
    assert asterisk_problems(settings) == []


def test_the_opt_in_is_off_when_left_out():
    settings = good()
    del settings["asterisk_allow_peer_networks"]
    peer(settings)["match"] = ["0.0.0.0/0"]
    assert asterisk_problems(settings) == [CASES["peer-matching-the-internet"][1]]


def test_an_account_network_needs_no_opt_in():
    # An account authenticates: its permit list only narrows where it may register from.
    settings = good()
    account(settings)["permit"] = ["0.0.0.0/0"]
    assert asterisk_problems(settings) == []


def test_every_mistake_is_reported_at_once_in_the_order_of_the_variables():
    settings = good()
    settings["asterisk_address"] = "rs1"
    peer(settings)["match"] = ["0.0.0.0/0"]
    settings["asterisk_rtp_port_end"] = 80
    problems = asterisk_problems(settings)
    assert [problem.split(" ")[0] for problem in problems] == [
        "asterisk_address",
        "asterisk_rtp_port_end",
        "asterisk_endpoints[1].match[0]",
    ]


def test_no_message_shows_a_password():
    secret = "Zq7-Only;Here-xx"
    settings = good()
    account(settings)["password"] = secret
    account(settings)["name"] = "bad name"
    settings["asterisk_endpoints"].append(secret)
    settings["asterisk_dialplan"] = secret
    problems = asterisk_problems(settings)
    assert problems
    assert not any(secret in problem for problem in problems), problems
    assert asterisk_problems(secret) == [
        "the asterisk role's variables must be a mapping of their names to their values, got a string"
    ]


def test_an_undefined_password_is_left_to_the_secret_rule_not_reported_twice():
    settings = good()
    account(settings)["password"] = Unset(None)
    assert asterisk_problems(settings) == [
        "asterisk_endpoints[0].password (account 777) is not set; it is a secret with no default: supply it from a"
        " vault or extra vars"
    ]


def test_undefined_values_are_named_before_anything_else_is_checked():
    settings = good()
    settings["asterisk_rtp_port_start"] = 1
    settings["asterisk_dialplan"][0]["extensions"][0]["steps"][1] = Unset("'x' is undefined")
    assert asterisk_problems(settings) == [
        "asterisk_dialplan[0].extensions[0].steps[1] has no value ('x' is undefined)"
    ]


@pytest.mark.parametrize("value", ["172.16.11.76", "0.0.0.0", "255.255.255.255"])
def test_ipv4_address_returns_the_text(value):
    assert ipv4_address(value, "x") == value


@pytest.mark.parametrize(
    "value", ["", " 1.2.3.4", "1.2.3.4\n", "1.2.3", "01.2.3.4", "::1", 16909060, None, ["1.2.3.4"]]
)
def test_ipv4_address_refuses_anything_else(value):
    with pytest.raises(LvsError) as raised:
        ipv4_address(value, "asterisk_vips[0]")
    assert str(raised.value).startswith("asterisk_vips[0] ")
    assert raised.value.key == "asterisk_vips[0]"


@pytest.mark.parametrize(
    "value, network, hosts",
    [
        ("172.16.11.236", "172.16.11.236/32", 1),
        ("172.16.11.236/32", "172.16.11.236/32", 1),
        ("172.16.11.236/24", "172.16.11.0/24", 256),
        ("0.0.0.0/0", "0.0.0.0/0", 2**32),
    ],
)
def test_ipv4_network_reads_an_address_or_a_network(value, network, hosts):
    parsed = ipv4_network(value, "match[0]")
    assert str(parsed) == network
    assert parsed.num_addresses == hosts


@pytest.mark.parametrize(
    "value", ["172.16.11.236/", "172.16.11.236/33", "172.16.11.236/08", "172.16.11.0/255.255.255.0", "::/0", "/24", 1]
)
def test_ipv4_network_refuses_anything_else(value):
    with pytest.raises(LvsError, match=r"^match\[0\] must be an IPv4 address or network"):
        ipv4_network(value, "match[0]")
