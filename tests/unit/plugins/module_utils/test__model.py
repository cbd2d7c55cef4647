"""Tests of the shared value checks in plugins/module_utils/_model.py."""

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils import _model
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (LvsError("bad", path="/etc/lvs.cf", line=3, key="port"), "/etc/lvs.cf:3: bad"),
        (LvsError("bad", path="/etc/lvs.cf"), "/etc/lvs.cf: bad"),
        (LvsError("bad", line=7), "line 7: bad"),
        (LvsError("bad", key="port"), "bad"),
    ],
)
def test_lvs_error_text(error, text):
    assert str(error) == text
    assert error.message == "bad"


def test_lvs_error_keeps_its_fields():
    error = LvsError("m", path="p", line=2, key="k")
    assert (error.path, error.line, error.key) == ("p", 2, "k")
    assert isinstance(error, Exception)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (5, 5), ("7", 7), (" 8 ", 8), ("-3", -3), (10, 10)],
)
def test_check_range_accepts(value, expected):
    assert _model.check_range(value, "x", -5, 10) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (11, "x must be between -5 and 10, got 11"),
        (-6, "x must be between -5 and 10, got -6"),
        ("abc", "x must be an integer, got 'abc'"),
        ("1.5", "x must be an integer"),
        (1.5, "x must be an integer"),
        (True, "x must be an integer, got True"),
        ("", "x must be an integer"),
        ("²", "x must be an integer"),
        ("--1", "x must be an integer"),
        (None, "x must be an integer"),
    ],
)
def test_check_range_refuses(value, message):
    with pytest.raises(LvsError) as info:
        _model.check_range(value, "x", -5, 10)
    assert message in str(info.value)
    assert info.value.key == "x"


@pytest.mark.parametrize(
    ("check", "low", "high", "name"),
    [
        (_model.check_port, 1, 65535, "port"),
        (_model.check_weight, 0, 65535, "weight"),
        (_model.check_fwmark, 1, 2**32 - 1, "fwmark"),
    ],
)
def test_numeric_checks_bounds(check, low, high, name):
    assert check(low) == low
    assert check(high) == high
    assert check(str(high)) == high
    for bad in (low - 1, high + 1):
        with pytest.raises(LvsError) as info:
            check(bad)
        assert info.value.key == name
        assert "%s must be between %d and %d" % (name, low, high) in str(info.value)
    with pytest.raises(LvsError) as info:
        check(high + 1, what="my_key")
    assert info.value.key == "my_key"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("172.16.11.210", "172.16.11.210"), (" 10.0.0.1 ", "10.0.0.1"), ("2001:DB8::1", "2001:db8::1"), ("::1", "::1")],
)
def test_check_ip_accepts(value, expected):
    assert _model.check_ip(value) == expected


@pytest.mark.parametrize("value", ["172.16.11.999", "host.example.com", "", "10.0.0", "10.0.0.1 eth0:1", None])
def test_check_ip_refuses(value):
    with pytest.raises(LvsError) as info:
        _model.check_ip(value, "sorry_server")
    assert info.value.key == "sorry_server"
    assert "sorry_server must be an IP address" in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("255.255.255.0", "255.255.255.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("0.0.0.0", "0.0.0.0"),
        ("24", "255.255.255.0"),
        (32, "255.255.255.255"),
    ],
)
def test_check_netmask_accepts(value, expected):
    assert _model.check_netmask(value) == expected


@pytest.mark.parametrize("value", ["255.0.255.0", "33", "mask", "", "255.255.255.0/8"])
def test_check_netmask_refuses(value):
    with pytest.raises(LvsError) as info:
        _model.check_netmask(value, "vip_nmask")
    assert info.value.key == "vip_nmask"
    assert "vip_nmask must be an IPv4 netmask" in str(info.value)


def test_check_choice():
    assert _model.check_choice(" nat ", "network", ("direct", "nat")) == "nat"
    with pytest.raises(LvsError) as info:
        _model.check_choice("bridge", "network", ("direct", "nat"))
    assert str(info.value) == "network must be one of direct, nat, got 'bridge'"
    assert info.value.key == "network"


@pytest.mark.parametrize("scheduler", _model.SCHEDULERS)
def test_check_scheduler_accepts_every_ipvs_scheduler(scheduler):
    assert _model.check_scheduler(scheduler) == scheduler


def test_check_scheduler_piranha_subset():
    assert set(_model.PIRANHA_SCHEDULERS) < set(_model.SCHEDULERS)
    assert _model.check_scheduler("wlc", choices=_model.PIRANHA_SCHEDULERS) == "wlc"
    with pytest.raises(LvsError, match="scheduler must be one of"):
        _model.check_scheduler("mh", choices=_model.PIRANHA_SCHEDULERS)
    with pytest.raises(LvsError, match="scheduler must be one of"):
        _model.check_scheduler("fastest")


@pytest.mark.parametrize(("value", "expected"), [("tcp", "tcp"), ("UDP", "udp"), ("sctp", "sctp")])
def test_check_protocol(value, expected):
    assert _model.check_protocol(value) == expected


def test_check_protocol_refuses():
    with pytest.raises(LvsError) as info:
        _model.check_protocol("icmp")
    assert info.value.key == "protocol"


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], []), ([1, 2, 3], []), ([1, 2, 1, 3, 2, 1], [1, 2]), (["b", "a", "b"], ["b"])],
)
def test_find_duplicates(values, expected):
    assert _model.find_duplicates(values) == expected


def test_tables():
    assert _model.MAX_PORT == 65535
    assert _model.MAX_FWMARK == 2**32 - 1
    assert _model.FORWARDING_FLAGS == {"route": "-g", "masq": "-m", "tunnel": "-i"}
    assert "sip" in _model.PERSISTENCE_ENGINES


@pytest.mark.parametrize(
    ("value", "family", "prefix"),
    [(24, "inet", 24), ("255.255.255.0", "inet", 24), (" 32 ", "inet", 32), (0, "inet", 0), (64, "inet6", 64)],
)
def test_check_prefix(value, family, prefix):
    assert _model.check_prefix(value, "mask", family) == prefix


@pytest.mark.parametrize(
    ("value", "family"), [(33, "inet"), (129, "inet6"), ("255.0.255.0", "inet"), ("ffff::", "inet6"), ("", "inet")]
)
def test_check_prefix_refuses(value, family):
    with pytest.raises(_model.LvsError, match=r"^mask must be"):
        _model.check_prefix(value, "mask", family)


def test_one_interface_name_rule():
    assert _model.check_interface(" ens2 ") == "ens2"
    for bad in ("eth0 eth1", "a" * 16, "", None, "eth0}", 7):
        with pytest.raises(_model.LvsError, match="must be a network interface name"):
            _model.check_interface(bad)
    assert _model.address_family("fd00::1") == "inet6"
    assert _model.address_family("10.0.0.1") == "inet"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("172.16.11.210", "172.16.11.210"),
        (" 10.0.0.1 ", "10.0.0.1"),
        ("192.0.2.255", "192.0.2.255"),
        ("fd00::10", "fd00::10"),
        ("2001:DB8::1", "2001:db8::1"),
        ("1.0.0.1", "1.0.0.1"),
    ],
)
def test_check_vip_accepts_unicast_addresses(value, expected):
    assert _model.check_vip(value, "lvs_cluster.virtual_services[1].vip") == expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("127.0.0.1", "a loopback address"),
        ("127.1.2.3", "a loopback address"),
        ("::1", "a loopback address"),
        ("224.0.0.18", "a multicast address"),
        ("239.1.1.1", "a multicast address"),
        ("ff02::12", "a multicast address"),
        ("255.255.255.255", "the broadcast address"),
        ("169.254.10.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("240.0.0.1", "a reserved address"),
        ("::ffff:10.0.0.1", "a reserved address"),
        ("100::1", "a reserved address"),
    ],
)
def test_check_vip_refuses_what_no_client_can_reach(value, kind):
    with pytest.raises(LvsError) as info:
        _model.check_vip(value, "lvs_cluster.virtual_services[1].vip")
    assert str(info.value).startswith("lvs_cluster.virtual_services[1].vip %s is %s" % (_model.check_ip(value), kind))
    assert info.value.key == "lvs_cluster.virtual_services[1].vip"


def test_check_vip_refuses_what_is_no_address():
    with pytest.raises(LvsError, match=r"^lvs_cluster\.virtual_services\[0\]\.vip must be an IP address"):
        _model.check_vip("10.0.0.300", "lvs_cluster.virtual_services[0].vip")


@pytest.mark.parametrize("bad", ["eth0\neth1", "eth0{", "eth0#", 'eth0"', "eth0'", "eth0;"])
def test_interface_names_carry_no_config_syntax(bad):
    with pytest.raises(_model.LvsError, match="must be a network interface name"):
        _model.check_interface(bad, "lvs_cluster.vrrp.interface")


@pytest.mark.parametrize("good", ["SIPVS-FWMARK", "A", "a" * 28, "sipvs_marks", "Marks-2", "prerouting"])
def test_check_iptables_chain_accepts_user_chain_names(good):
    assert _model.check_iptables_chain(good, "director_fwmark_chain") == good


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "A" * 29,
        "1SIPVS",
        "-SIPVS",
        "_SIPVS",
        "SIPVS FWMARK",
        " SIPVS",
        "SIPVS ",
        "SIPVS\n",
        "SIPVS\nreboot",
        "SIPVS;reboot",
        "SIPVS$(reboot)",
        "$(reboot)",
        "`reboot`",
        "SIPVS'",
        'SIPVS"',
        "SIPVS.MARKS",
        "SIPVS:MARKS",
        "SIPVS/MARKS",
        "SIPVS*",
        "SIPVS#",
        "SIPVS\t",
        "SIPVSÉ",
        None,
        7,
        ["SIPVS"],
    ],
)
def test_check_iptables_chain_refuses_what_is_no_chain_name(bad):
    with pytest.raises(LvsError, match=r"^director_fwmark_chain must be an iptables chain name") as info:
        _model.check_iptables_chain(bad, "director_fwmark_chain")
    assert info.value.key == "director_fwmark_chain"
    assert str(info.value).endswith("got %r" % (bad,))


@pytest.mark.parametrize("builtin", _model.IPTABLES_RESERVED_CHAINS)
def test_check_iptables_chain_refuses_the_names_iptables_reserves(builtin):
    with pytest.raises(LvsError, match=r"^director_fwmark_chain must name a chain of its own, not %s," % builtin):
        _model.check_iptables_chain(builtin, "director_fwmark_chain")


def test_iptables_reserved_chains_are_the_builtin_chains_and_verdicts():
    builtin = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}
    assert builtin | {"ACCEPT", "DROP", "QUEUE", "RETURN"} == set(_model.IPTABLES_RESERVED_CHAINS)


@pytest.mark.parametrize(
    "value, expected",
    [
        *[(True, True), ("yes", True), (" True ", True), ("on", True), (1, True), ("1", True)],
        *[(False, False), ("no", False), ("FALSE", False), ("off", False), (0, False), ("0", False)],
    ],
)
def test_check_bool_takes_yaml_booleans_and_their_inventory_text(value, expected):
    assert _model.check_bool(value, "asterisk_allow_peer_networks") is expected


@pytest.mark.parametrize("value", ["", "maybe", "2", 2, None, [], "y e s"])
def test_check_bool_refuses_anything_else_naming_the_variable(value):
    with pytest.raises(LvsError, match="asterisk_allow_peer_networks must be a boolean, got") as error:
        _model.check_bool(value, "asterisk_allow_peer_networks")
    assert error.value.key == "asterisk_allow_peer_networks"


@pytest.mark.parametrize(
    ("address", "port", "expected"),
    [
        ("172.16.11.74", 9100, "172.16.11.74:9100"),
        (" 127.0.0.1 ", "8088", "127.0.0.1:8088"),
        ("2001:DB8::1", 9100, "[2001:db8::1]:9100"),
        ("::1", 1, "[::1]:1"),
    ],
)
def test_check_listen_address_prints_address_and_port(address, port, expected):
    checked = _model.check_listen_address(address, port, "director_metrics_address", "director_metrics_port")
    assert checked["listen"] == expected
    assert checked["address"] == address.strip().lower()
    assert checked["port"] == int(port)


@pytest.mark.parametrize(
    ("address", "port", "named", "words"),
    [
        ("0.0.0.0", 9100, "director_metrics_address", "every address"),
        ("::", 9100, "director_metrics_address", "every address"),
        ("239.1.1.1", 9100, "director_metrics_address", "multicast"),
        ("172.16.11.74; rm -rf /", 9100, "director_metrics_address", "must be an IP address"),
        ("172.16.11.74 --web.config.file=/x", 9100, "director_metrics_address", "must be an IP address"),
        ("", 9100, "director_metrics_address", "must be an IP address"),
        ("172.16.11.74", 0, "director_metrics_port", "between 1 and 65535"),
        ("172.16.11.74", "9100 --x", "director_metrics_port", "director_metrics_port"),
    ],
)
def test_check_listen_address_refuses_what_is_not_one_address_and_port(address, port, named, words):
    with pytest.raises(LvsError, match=words) as caught:
        _model.check_listen_address(address, port, "director_metrics_address", "director_metrics_port")
    assert caught.value.key == named
    assert named in str(caught.value)
