"""Tests of the lvs.cf parser, editor, validator and renderer (plugins/module_utils/_lvs_cf.py)."""

import copy
import pathlib
import random
import re
import stat

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils import _lvs_cf as lvs_cf
from ansible_collections.sipvs.lvs.plugins.module_utils._model import PIRANHA_SCHEDULERS, LvsError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "lvs_cf"
TUTORIAL_FILES = ("tutorial_first.cf", "tutorial_sipp.cf", "tutorial_multiport.cf", "handwritten.cf")


def fixture(name):
    return (FIXTURES / name).read_bytes().decode("utf-8")


def sipserver():
    """The tutorial's SIP virtual service as the module's options/servers."""
    config = lvs_cf.to_config(lvs_cf.parse(fixture("tutorial_first.cf")))
    return copy.deepcopy(config["virtuals"][1])


def plan(text, **kwargs):
    return lvs_cf.plan(text, "lvs.cf", **kwargs)


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("name", TUTORIAL_FILES)
def test_untouched_file_renders_byte_identical(name):
    text = fixture(name)
    assert lvs_cf.render(lvs_cf.parse(text, name)) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "# only a comment",
        "serial_no = 3",  # no final newline
        "serial_no = 3\r\nvirtual a {\r\n\tactive = 1\r\n}   \r\n",
        "virtual a {   # comment after the brace\n  server b{\n  }\n}\n",
        "  keepalive\t=\t\t6   # tabs\n",
    ],
)
def test_odd_layouts_render_byte_identical(text):
    doc = lvs_cf.parse(text)
    assert lvs_cf.render(doc) == text


@pytest.mark.parametrize("name", TUTORIAL_FILES)
def test_config_given_back_changes_nothing(name):
    text = fixture(name)
    config = lvs_cf.to_config(lvs_cf.parse(text))
    result = plan(text, config=config)
    assert result.changed is False
    assert result.text == text
    assert result.config == config


def test_tutorial_first_listing_as_data():
    config = lvs_cf.to_config(lvs_cf.parse(fixture("tutorial_first.cf")))
    assert config["globals"] == {
        "serial_no": 70,
        "primary": "172.16.11.74",
        "service": "lvs",
        "backup_active": 1,
        "backup": "172.16.11.75",
        "heartbeat": 1,
        "heartbeat_port": 539,
        "keepalive": 6,
        "deadtime": 18,
        "network": "direct",
        "debug_level": "NONE",
        "monitor_links": 0,
        "syncdaemon": 0,
    }
    web, sip = config["virtuals"]
    assert web["name"] == "web01"
    assert web["options"]["address"] == "172.16.11.210 eth0:1"
    assert web["options"]["send"] == "GET / HTTP/1.0\r\n\r\n"
    assert web["options"]["expect"] == "HTTP"
    assert web["options"]["port"] == 80
    assert web["servers"] == [
        {"name": "server-01", "address": "172.16.11.76", "active": 1, "port": 80, "weight": 1},
        {"name": "server-02", "address": "172.16.11.77", "active": 1, "port": 80, "weight": 1},
        {"name": "server-03", "address": "172.16.11.78", "active": 1, "port": 80, "weight": 1},
    ]
    assert sip["name"] == "sipserver"
    assert sip["options"]["fwmark"] == 3
    assert sip["options"]["persistent"] == 400
    assert sip["options"]["send_program"] == "/usr/local/bin/test-sip-server.sh %h"
    assert [server["name"] for server in sip["servers"]] == ["SIP-Server-01", "SIP-Server-02", "SIP-Server-03"]
    assert "port" not in sip["servers"][0]
    assert config["failovers"] == []


def test_tutorial_sipp_listing_as_data():
    config = lvs_cf.to_config(lvs_cf.parse(fixture("tutorial_sipp.cf")))
    assert config["globals"]["serial_no"] == 76
    assert config["globals"]["rsh_command"] == "ssh"
    assert config["globals"]["syncdaemon"] == 1
    assert config["globals"]["syncd_iface"] == "eth0"
    assert [config["globals"][k] for k in ("tcp_timeout", "tcpfin_timeout", "udp_timeout")] == [10, 10, 10]
    assert "persistent" not in config["virtuals"][1]["options"]


def test_multiport_example_as_data():
    config = lvs_cf.to_config(lvs_cf.parse(fixture("tutorial_multiport.cf")))
    assert config["globals"] == {}
    (virtual,) = config["virtuals"]
    assert virtual["options"]["fwmark"] == 80
    assert virtual["options"]["persistent"] == 3600
    assert virtual["options"]["vip_nmask"] == "0.0.0.0"
    assert [s["address"] for s in virtual["servers"]] == ["172.16.31.78", "172.16.31.79"]


# --------------------------------------------------------------------------- golden edits


def test_adding_sipserver_to_web_only_file_gives_the_tutorial_listing():
    sip = sipserver()
    result = plan(fixture("tutorial_web_only.cf"), virtual="sipserver", options=sip["options"], servers=sip["servers"])
    assert result.changed is True
    assert result.serial_no == 71
    assert result.text == fixture("tutorial_first.cf").replace("serial_no = 70", "serial_no = 71", 1)
    again = plan(result.text, virtual="sipserver", options=sip["options"], servers=sip["servers"])
    assert again.changed is False
    assert again.text == result.text
    assert again.serial_no == 71


def test_adding_multiport_service_renders_like_the_tutorial_example():
    multi = lvs_cf.to_config(lvs_cf.parse(fixture("tutorial_multiport.cf")))["virtuals"][0]
    base = fixture("tutorial_sipp.cf")
    result = plan(base, virtual=multi["name"], options=multi["options"], servers=multi["servers"])
    assert result.text == base.replace("serial_no = 76", "serial_no = 77", 1) + fixture("tutorial_multiport.cf")


def handwritten_edit():
    return plan(
        fixture("handwritten.cf"),
        globals_={"keepalive": 6, "tcp_timeout": 10, "debug_level": "ALL"},
        virtual="web",
        options={"send": "HEAD / HTTP/1.0\r\n\r\n", "persistent": 30, "address": None},
        servers=[
            {"name": "web1", "address": "10.0.0.21", "active": 1, "weight": 5},
            {"name": "web3", "address": "10.0.0.23", "active": True, "weight": 1, "port": 8080},
        ],
    )


def test_handwritten_file_edit_matches_golden_output():
    assert handwritten_edit().text == fixture("handwritten_edit.golden")


def test_handwritten_file_keeps_comments_and_tabs_through_an_edit():
    text = handwritten_edit().text
    for line in fixture("handwritten.cf").splitlines(True):
        if line.lstrip().startswith("#") or line.strip() in ("", "}") or "start_cmd" in line:
            assert line in text
    assert "primary\t=\t10.0.0.1\t# the main box\n" in text
    assert "\t\tport = 8080\n" in text  # a new line in the tab-indented block uses tabs
    assert "debug_level = 'ALL'\n" in text  # rewritten in place, quotes kept
    assert "\tsend = 'HEAD / HTTP/1.0\\r\\n\\r\\n'\n" in text
    assert "keepalive = 6   # repeated: the last one wins\n" in text
    assert "keepalive = 2\n" not in text  # the earlier repeat goes when the key changes


def test_unrelated_edit_leaves_every_other_line_alone():
    text = fixture("handwritten.cf")
    result = plan(text, globals_={"deadtime": 20})
    before, after = text.splitlines(True), result.text.splitlines(True)
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    assert changed == [("serial_no =  12\n", "serial_no =  13\n"), ("deadtime = 12\n", "deadtime = 20\n")]
    assert len(before) == len(after)


# --------------------------------------------------------------------------- syntax


def test_repeated_key_last_one_wins():
    config = lvs_cf.to_config(lvs_cf.parse("keepalive = 2\nkeepalive = 4\n"))
    assert config["globals"]["keepalive"] == 4


def test_setting_a_repeated_key_to_its_value_changes_nothing():
    text = "keepalive = 2\nkeepalive = 4\n"
    result = plan(text, globals_={"keepalive": 4})
    assert result.changed is False
    assert result.text == text


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ('send = "GET / HTTP/1.0\\r\\n\\r\\n"', "GET / HTTP/1.0\r\n\r\n"),
        ("send = 'it\\'s'", "it's"),
        ('send = "say \\"hi\\" # not a comment"  # a comment', 'say "hi" # not a comment'),
        ('send = "back\\\\slash \\t kept"', "back\\slash \\t kept"),
        ("send = GET /   # unquoted", "GET /"),
        ('send = ""', ""),
        ('expect = "*"', "*"),
    ],
)
def test_quotes_and_escapes_of_send_and_expect(line, value):
    key = line.split()[0]
    doc = lvs_cf.parse("virtual v {\n  %s\n}\n" % line)
    assert lvs_cf.to_config(doc)["virtuals"][0]["options"][key] == value
    # Written back (as a new block) and parsed again, the value is the same.
    fresh = lvs_cf.parse("")
    lvs_cf.set_virtual(fresh, "v", options={key: value})
    assert lvs_cf.to_config(lvs_cf.parse(lvs_cf.render(fresh)))["virtuals"][0]["options"][key] == value


def test_escape_and_unescape_are_inverse():
    value = "a\\b\r\n'\"\\n"
    for quote in ("'", '"'):
        assert lvs_cf.unescape(lvs_cf.escape(value, quote)) == value
    assert lvs_cf.unescape("\\x\\") == "\\x\\"


def test_send_program_with_double_quotes_is_written_with_single_quotes():
    doc = lvs_cf.parse("")
    lvs_cf.set_virtual(doc, "v", options={"send_program": '/bin/check "%h"'})
    text = lvs_cf.render(doc)
    assert "send_program = '/bin/check \"%h\"'" in text
    assert lvs_cf.to_config(lvs_cf.parse(text))["virtuals"][0]["options"]["send_program"] == '/bin/check "%h"'


def test_value_that_cannot_be_quoted_is_refused():
    with pytest.raises(LvsError, match="reads back the same") as info:
        plan("", virtual="v", options={"send_program": "/bin/x \"a\" 'b'"})
    assert info.value.key == "send_program"


def test_quoted_plain_value_keeps_its_quotes_when_rewritten():
    result = plan('debug_level = "NONE"  # quoted\n', globals_={"debug_level": "ALL"})
    assert 'debug_level = "ALL"  # quoted\n' in result.text


def test_quoted_values_are_stripped_like_input():
    text = 'virtual v {\n client_monitor = "  /bin/nanny "\n}\nfailover f {\n start_cmd = " /bin/x"\n}\n'
    config = lvs_cf.to_config(lvs_cf.parse(text))
    assert config["virtuals"][0]["options"]["client_monitor"] == "/bin/nanny"
    assert config["failovers"][0]["options"]["start_cmd"] == "/bin/x"
    assert plan(text, config=config).changed is False


def test_failover_values_are_checked():
    with pytest.raises(LvsError) as info:
        plan("failover f {\n start_cmd = a\x01b\n}\n", state="read")
    assert (info.value.line, info.value.key) == (2, "start_cmd")
    assert "failover f: start_cmd must be one line of printable characters" in info.value.message


def test_hash_in_a_plain_value_is_quoted():
    result = plan("", globals_={"active_cmd": "/bin/on #1"})
    assert 'active_cmd = "/bin/on #1"\n' in result.text
    assert lvs_cf.to_config(lvs_cf.parse(result.text))["globals"]["active_cmd"] == "/bin/on #1"


@pytest.mark.parametrize(("raw", "value"), [("http", "http"), ("80", 80), ("sip-tls", "sip-tls")])
def test_service_name_ports(raw, value):
    doc = lvs_cf.parse("virtual v {\n port = %s\n server s {\n  port = %s\n }\n}\n" % (raw, raw))
    lvs_cf.validate(doc)
    virtual = lvs_cf.to_config(doc)["virtuals"][0]
    assert virtual["options"]["port"] == value
    assert virtual["servers"][0]["port"] == value


def test_service_name_port_replaced_by_number():
    result = plan(fixture("handwritten.cf"), virtual="web", options={"port": 80})
    assert "\tport = 80\n" in result.text
    assert "port = http" not in result.text


def test_virtual_without_address_and_double_spaces():
    text = "virtual bare {\n     active =  1\n     fwmark =  9\n}\n"
    doc = lvs_cf.parse(text)
    lvs_cf.validate(doc)
    assert lvs_cf.to_config(doc)["virtuals"][0]["options"] == {"active": 1, "fwmark": 9}
    # A new key follows the block's own layout, double space included.
    result = plan(text, virtual="bare", options={"address": "10.1.1.1   eth0:5"})
    assert result.text.endswith("     fwmark =  9\n     address =  10.1.1.1 eth0:5\n}\n")


def test_failover_blocks_are_kept_intact():
    text = fixture("handwritten.cf")
    result = plan(text, config={"globals": {}, "virtuals": []})
    assert "failover ftp {\n" in result.text
    assert '\tstart_cmd = "/etc/init.d/vsftpd start"\n' in result.text
    assert result.config["failovers"] == lvs_cf.to_config(lvs_cf.parse(text))["failovers"]
    assert result.config["virtuals"] == []


def test_failovers_given_in_config_are_exact():
    text = fixture("handwritten.cf")
    config = lvs_cf.to_config(lvs_cf.parse(text))
    config["failovers"][0]["options"]["port"] = "2121"
    del config["failovers"][0]["options"]["stop_cmd"]
    config["failovers"].append({"name": "smtp", "options": {"port": "25", "start_cmd": "/bin/start #x"}})
    result = plan(text, config=config)
    assert "\tport = 2121\n" in result.text
    assert "stop_cmd" not in result.text
    assert result.config["failovers"][1] == {"name": "smtp", "options": {"port": "25", "start_cmd": "/bin/start #x"}}
    assert plan(result.text, config=result.config).changed is False
    removed = plan(text, config=dict(config, failovers=[]))
    assert "failover" not in removed.text


SYNTAX_ERRORS = [
    ("keepalive 6\n", 1, "keepalive", "expected 'keepalive = value'"),
    ("serial_no = 1\nfoo = 1\n", 2, "foo", "unknown global key 'foo'"),
    ("virtual v {\n  heartbeat = 1\n}\n", 2, "heartbeat", "unknown key 'heartbeat' in virtual v"),
    ("virtual v {\n server s {\n  fwmark = 1\n }\n}\n", 3, "fwmark", "unknown key 'fwmark' in server s"),
    ("server s {\n}\n", 1, "server", "outside a virtual block"),
    ("virtual a {\nvirtual b {\n}\n}\n", 2, "virtual", "inside virtual a (missing '}'?)"),
    ("failover f {\n server s {\n }\n}\n", 2, "server", "inside failover f"),
    ("virtual a {\n}\n}\n", 3, "}", "'}' without an open block"),
    ("\nvirtual a {\n active = 1\n", 2, "virtual", "virtual a opened on line 2 is not closed"),
    ('virtual a {\n send = "GET /\n}\n', 2, "send", "unterminated quote"),
    ('virtual a {\n send = "GET /" x\n}\n', 2, "send", "unexpected text 'x'"),
    ("virtual web01\n", 1, "virtual", "expected 'virtual NAME {'"),
    ("virtual two words {\n}\n", 1, "virtual", "expected 'virtual NAME {'"),
    ("= 5\n", 1, "=", "expected 'key = value'"),
    ("{\n", 1, "{", "expected 'key = value'"),
    ("weird-key = 1\n", 1, "weird-key", "expected 'key = value'"),
]


@pytest.mark.parametrize(("text", "line", "key", "message"), SYNTAX_ERRORS)
def test_syntax_errors_name_file_line_and_key(text, line, key, message):
    with pytest.raises(LvsError) as info:
        lvs_cf.parse(text, "/etc/sysconfig/ha/lvs.cf")
    error = info.value
    assert message in error.message
    assert (error.path, error.line, error.key) == ("/etc/sysconfig/ha/lvs.cf", line, key)
    assert str(error).startswith("/etc/sysconfig/ha/lvs.cf:%d: " % line)


# --------------------------------------------------------------------------- validation

BASE = """serial_no = 1
network = direct
virtual web {
     address = 172.16.11.210 eth0:1
     port = 80
     server one {
         address = 172.16.11.76
         weight = 1
     }
}
virtual sip {
     address = 172.16.11.211 eth0:2
     fwmark = 3
}
"""

# (text to replace in BASE, its replacement, line of the error, key, message fragment)
VALIDATION_ERRORS = [
    ("virtual sip {", "virtual web {", 11, "name", "duplicate virtual name 'web'"),
    ("     port = 80\n", "     fwmark = 3\n", 13, "fwmark", "fwmark 3 is used by both virtual web and virtual sip"),
    ("172.16.11.210 eth0:1", "172.16.11.210", 4, "address", "must be 'IP dev:alias'"),
    ("172.16.11.210 eth0:1", "172.16.11.210 eth0", 4, "address", "must be 'IP dev:alias'"),
    ("172.16.11.210 eth0:1", "172.16.11.999 eth0:1", 4, "address", "must be an IP address"),
    ("172.16.11.210 eth0:1", "172.16.11.210 eth0:1 extra", 4, "address", "must be 'IP dev:alias'"),
    ("network = direct", "heartbeat = 2", 2, "heartbeat", "heartbeat must be 0 or 1, got 2"),
    ("     port = 80\n", "     active = yes\n", 5, "active", "active must be 0 or 1, got 'yes'"),
    ("         weight = 1\n", "         active = -1\n", 8, "active", "must be 0 or 1"),
    ("     port = 80\n", "     port = 0\n", 5, "port", "port must be between 1 and 65535, got 0"),
    ("     port = 80\n", "     port = 65536\n", 5, "port", "port must be between 1 and 65535"),
    ("     port = 80\n", "     port = 8O\n", 5, "port", "port number (1-65535) or a service name"),
    ("network = direct", "heartbeat_port = 70000", 2, "heartbeat_port", "between 1 and 65535"),
    ("         weight = 1\n", "         weight = 65536\n", 8, "weight", "weight must be between 0 and 65535"),
    ("         weight = 1\n", "         weight = -1\n", 8, "weight", "weight must be between 0 and 65535"),
    ("         weight = 1\n", "         weight = heavy\n", 8, "weight", "weight must be an integer"),
    ("     port = 80\n", "     scheduler = fastest\n", 5, "scheduler", "scheduler must be one of rr, wrr"),
    ("     port = 80\n", "     protocol = sctp\n", 5, "protocol", "protocol must be one of tcp, udp"),
    ("network = direct", "network = bridge", 2, "network", "network must be one of direct, nat, tunnel"),
    ("network = direct", "service = http", 2, "service", "service must be one of lvs, fos"),
    ("     port = 80\n", "     load_monitor = top\n", 5, "load_monitor", "load_monitor must be one of"),
    ("     port = 80\n", "     pmask = 255.255.255.0\n", 5, "pmask", "pmask needs persistent > 0"),
    ("     port = 80\n", "     persistent = 0\n     pmask = 255.255.255.0\n", 6, "pmask", "pmask needs persistent"),
    ("     port = 80\n", "     vip_nmask = 255.0.255.0\n", 5, "vip_nmask", "must be an IPv4 netmask"),
    ("     port = 80\n", "     vip_nmask = 24\n", 5, "vip_nmask", "dotted netmask"),
    ("     port = 80\n", "     fwmark = 0\n", 5, "fwmark", "fwmark must be between 1 and 4294967295"),
    ("     port = 80\n", "     sorry_server = nowhere\n", 5, "sorry_server", "must be an IP address"),
    ("     port = 80\n", '     send = "%s"\n' % ("x" * 256), 5, "send", "at most 255 characters, got 256"),
    ("network = direct", "syncd_id = 256", 2, "syncd_id", "syncd_id must be between 0 and 255"),
    ("network = direct", "deadtime = 0", 2, "deadtime", "deadtime must be between 1"),
    ("network = direct", "primary = -bad-", 2, "primary", "must be an IP address"),
    ("network = direct", "nat_router = 10.0.0.1", 2, "nat_router", "must be 'IP dev:alias'"),
    ("network = direct", "serial_no = many", 2, "serial_no", "serial_no must be an integer"),
    ("     server one {", "     server dup {\n     }\n     server dup {", 8, "name", "duplicate server name 'dup'"),
]


@pytest.mark.parametrize(("old", "new", "line", "key", "message"), VALIDATION_ERRORS)
def test_validation_errors_name_line_and_key(old, new, line, key, message):
    assert old in BASE
    text = BASE.replace(old, new, 1)
    with pytest.raises(LvsError) as info:
        plan(text, globals_={"keepalive": 6})
    error = info.value
    assert message in error.message
    assert (error.path, error.line, error.key) == ("lvs.cf", line, key)
    with pytest.raises(LvsError):
        plan(text, state="read")


def test_base_file_is_valid():
    assert plan(BASE, state="read").config["virtuals"][1]["options"]["fwmark"] == 3


def test_valid_values_pass():
    text = BASE.replace("     port = 80\n", "     persistent = 60\n     pmask = 255.255.255.0\n     port = 80\n")
    text = text.replace("network = direct", "network = nat\nnat_router = 10.0.0.1 eth1:1\nprimary = lb-1.example.com")
    assert plan(text, state="read").config["globals"]["nat_router"] == "10.0.0.1 eth1:1"


INPUT_ERRORS = [
    ({"options": {"active": 2}}, "active", "virtual web: active must be 0 or 1"),
    ({"options": {"active": "true"}}, "active", "must be 0 or 1"),
    ({"options": {"port": 0}}, "port", "between 1 and 65535"),
    ({"options": {"port": True}}, "port", "port number or a service name"),
    ({"options": {"port": [80]}}, "port", "port number or a service name"),
    ({"options": {"address": "172.16.11.210"}}, "address", "IP dev:alias"),
    ({"options": {"scheduler": "fastest"}}, "scheduler", "scheduler must be one of"),
    ({"options": {"protocol": "icmp"}}, "protocol", "protocol must be one of"),
    ({"options": {"persistent": "soon"}}, "persistent", "must be an integer"),
    ({"options": {"persistent": 1.5}}, "persistent", "must be an integer"),
    ({"options": {"bogus": 1}}, "bogus", "unknown key 'bogus'"),
    ({"options": {"client_monitor": "/bin/x\n"}}, "client_monitor", "one line of printable characters"),
    ({"options": {"client_monitor": True}}, "client_monitor", "must be a string"),
    ({"options": []}, None, "options must be a dict"),
    ({"servers": [{"name": "a", "weight": 70000}]}, "weight", "virtual web, server a: weight must be between"),
    ({"servers": [{"name": "a", "address": "x"}]}, "address", "must be an IP address"),
    ({"servers": [{"name": "a"}, {"name": "a"}]}, "name", "duplicate server names: a"),
    ({"servers": [{"address": "10.0.0.1"}]}, "servers", "must be a dict with a name"),
    ({"servers": [{"name": "two words"}]}, "name", "must be one word"),
    ({"servers": [{"name": "a", "fwmark": 1}]}, "fwmark", "unknown key 'fwmark'"),
    ({"servers": "a"}, "servers", "servers must be a list"),
]


@pytest.mark.parametrize(("edit", "key", "message"), INPUT_ERRORS)
def test_bad_input_is_refused_naming_the_key(edit, key, message):
    with pytest.raises(LvsError) as info:
        plan(BASE, virtual="web", **edit)
    assert message in str(info.value)
    assert info.value.key == key
    assert info.value.line is None


@pytest.mark.parametrize(
    ("kwargs", "key", "message"),
    [
        ({"globals_": {"keepalive": 0}}, "keepalive", "keepalive must be between 1"),
        ({"globals_": {"nonsense": 1}}, "nonsense", "globals: unknown key 'nonsense'"),
        ({"globals_": {"heartbeat": "on"}}, "heartbeat", "must be 0 or 1"),
        ({"virtual": "two words"}, "name", "virtual name must be one word"),
        ({"virtual": "sip", "options": {"fwmark": 3}, "state": "absent"}, "state", "takes only virtual"),
        ({"state": "absent"}, "virtual", "needs virtual"),
        ({"state": "bogus"}, "state", "state must be"),
        ({"state": "read", "globals_": {}}, "state", "state=read changes nothing"),
        ({"state": "read", "virtual": "web"}, "state", "state=read changes nothing"),
        ({"options": {"active": 1}}, "virtual", "options and servers need virtual"),
        ({"config": {}, "virtual": "x"}, "config", "mutually exclusive"),
        ({"config": []}, "config", "config must be a dict"),
        ({"config": {"globals": {}, "extra": 1}}, "config", "unknown keys extra"),
        ({"config": {"virtuals": {}}}, "virtuals", "virtuals must be a list"),
        ({"config": {"globals": []}}, None, "globals: options must be a dict"),
        ({"config": {"virtuals": [{"name": "a", "options": []}]}}, None, "virtual a: options must be a dict"),
        ({"config": {"virtuals": [{"name": "a", "servers": {}}]}}, "servers", "servers must be a list"),
        ({"config": {"virtuals": [{"options": {}}]}}, "virtuals", "must be a dict with a name"),
        ({"config": {"virtuals": [{"name": "a", "server": []}]}}, "virtuals", "unknown keys server"),
        ({"config": {"failovers": [{"name": "f", "servers": []}]}}, "failovers", "unknown keys servers"),
        ({"config": {"failovers": [{"name": "f", "options": {"1x": "y"}}]}}, "1x", "not a valid key name"),
        ({"config": {"virtuals": [{"name": "a"}, {"name": "a"}]}}, "name", "duplicate virtual names: a"),
        ({"config": {"virtuals": [{"name": "a", "options": {"pmask": "255.255.255.0"}}]}}, "pmask", "pmask needs"),
        (
            {
                "config": {
                    "virtuals": [{"name": "a", "options": {"fwmark": 1}}, {"name": "b", "options": {"fwmark": 1}}]
                }
            },
            "fwmark",
            "fwmark 1 is used by both virtual a and virtual b",
        ),
    ],
)
def test_bad_module_arguments_are_refused(kwargs, key, message):
    with pytest.raises(LvsError) as info:
        plan(BASE, **kwargs)
    assert message in str(info.value)
    assert info.value.key == key
    assert info.value.path == "lvs.cf"


# --------------------------------------------------------------------------- edits


def test_set_globals_merges_and_null_removes():
    result = plan(fixture("tutorial_first.cf"), globals_={"syncdaemon": 1, "monitor_links": None, "udp_timeout": 10})
    globals_ = result.config["globals"]
    assert globals_["syncdaemon"] == 1
    assert "monitor_links" not in globals_
    assert globals_["udp_timeout"] == 10
    assert globals_["primary"] == "172.16.11.74"
    assert result.text.index("udp_timeout = 10\n") < result.text.index("virtual web01 {")


def test_serial_no_in_input_is_ignored():
    text = fixture("tutorial_first.cf")
    assert plan(text, globals_={"serial_no": 5}).changed is False
    result = plan(text, globals_={"serial_no": 5, "keepalive": 7})
    assert result.serial_no == 71


def test_missing_serial_no_is_added_first_on_a_change():
    text = "# header\nprimary = 10.0.0.1\nbackup = 10.0.0.2\n"
    result = plan(text, globals_={"keepalive": 3})
    assert result.text == "# header\nserial_no = 1\nprimary = 10.0.0.1\nbackup = 10.0.0.2\nkeepalive = 3\n"
    assert result.serial_no == 1
    assert plan(text, globals_={"primary": "10.0.0.1"}).serial_no is None


def test_new_file_uses_the_tutorial_layout():
    sip = sipserver()
    result = plan("", globals_={"primary": "172.16.11.74"}, virtual="sipserver", options=sip["options"])
    lines = result.text.splitlines()
    assert lines[:3] == ["serial_no = 1", "primary = 172.16.11.74", "virtual sipserver {"]
    assert lines[3] == "     active = 1"
    result = plan(result.text, virtual="sipserver", servers=sip["servers"][:1])
    assert "\n     server SIP-Server-01 {\n         address = 172.16.11.76\n" in result.text
    assert result.text.endswith("         weight = 1\n     }\n}\n")


def test_crlf_file_gets_crlf_lines():
    text = "serial_no = 1\r\nvirtual a {\r\n\tactive = 1\r\n}\r\n"
    result = plan(text, virtual="a", options={"fwmark": 4}, servers=[{"name": "s", "address": "10.0.0.1"}])
    assert result.text == (
        "serial_no = 2\r\nvirtual a {\r\n\tactive = 1\r\n\tfwmark = 4\r\n"
        "\tserver s {\r\n\t\taddress = 10.0.0.1\r\n\t}\r\n}\r\n"
    )


def test_file_without_final_newline_gets_one_before_new_lines():
    result = plan("serial_no = 1\nvirtual a {\n}", virtual="b")
    assert result.text == "serial_no = 2\nvirtual a {\n}\nvirtual b {\n}\n"


def test_servers_become_exactly_the_list():
    sip = sipserver()
    text = fixture("tutorial_first.cf")
    servers = [dict(sip["servers"][2], weight=3), {"name": "SIP-Server-04", "address": "172.16.11.79"}]
    result = plan(text, virtual="sipserver", servers=servers)
    got = result.config["virtuals"][1]["servers"]
    assert got == [
        {"name": "SIP-Server-03", "address": "172.16.11.78", "active": 1, "weight": 3},
        {"name": "SIP-Server-04", "address": "172.16.11.79"},
    ]
    assert result.config["virtuals"][0] == lvs_cf.to_config(lvs_cf.parse(text))["virtuals"][0]
    # A server has exactly the keys given.
    result = plan(result.text, virtual="sipserver", servers=[{"name": "SIP-Server-03", "address": "172.16.11.78"}])
    assert result.config["virtuals"][1]["servers"] == [{"name": "SIP-Server-03", "address": "172.16.11.78"}]


def test_servers_not_given_are_left_alone():
    result = plan(fixture("tutorial_first.cf"), virtual="sipserver", options={"persistent": None})
    assert len(result.config["virtuals"][1]["servers"]) == 3
    assert "persistent" not in result.config["virtuals"][1]["options"]
    assert "persistent" not in result.text


def test_remove_virtual():
    text = fixture("tutorial_first.cf")
    result = plan(text, state="absent", virtual="sipserver")
    assert result.text == fixture("tutorial_web_only.cf").replace("serial_no = 70", "serial_no = 71", 1)
    again = plan(result.text, state="absent", virtual="sipserver")
    assert again.changed is False


def test_apply_config_is_exact_and_keeps_block_positions():
    text = fixture("tutorial_first.cf")
    config = lvs_cf.to_config(lvs_cf.parse(text))
    config["virtuals"].reverse()  # order in the data does not move blocks
    del config["globals"]["monitor_links"]
    del config["virtuals"][0]["options"]["vip_nmask"]
    config["virtuals"].append({"name": "extra", "options": {"fwmark": 9}})
    result = plan(text, config=config)
    assert [v["name"] for v in result.config["virtuals"]] == ["web01", "sipserver", "extra"]
    assert "monitor_links" not in result.text
    assert "vip_nmask" not in result.text
    assert result.config["virtuals"][2] == {"name": "extra", "options": {"fwmark": 9}, "servers": []}
    assert result.serial_no == 71
    dropped = plan(text, config={"globals": config["globals"], "virtuals": config["virtuals"][1:2]})
    assert [v["name"] for v in dropped.config["virtuals"]] == ["web01"]


def test_apply_config_accepts_booleans_and_numeric_strings():
    config = {
        "globals": {"heartbeat": True, "keepalive": "6"},
        "virtuals": [
            {"name": "a", "options": {"active": False, "port": "80"}, "servers": [{"name": "s", "active": True}]}
        ],
    }
    result = plan("", config=config)
    assert result.config["globals"] == {"serial_no": 1, "heartbeat": 1, "keepalive": 6}
    assert result.config["virtuals"][0]["options"] == {"active": 0, "port": 80}
    assert plan(result.text, config=config).changed is False


def test_read_changes_nothing():
    text = fixture("handwritten.cf")
    result = plan(text, state="read")
    assert result.changed is False
    assert result.text == text
    assert result.serial_no == 12


def test_validate_reports_server_errors_with_context():
    doc = lvs_cf.parse(BASE.replace("weight = 1", "weight = 99999"))
    with pytest.raises(LvsError) as info:
        lvs_cf.validate(doc)
    assert info.value.message.startswith("virtual web, server one: weight must be")


# --------------------------------------------------------------------------- properties

NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,11}", fullmatch=True)
PLAIN = st.text(
    alphabet=st.sampled_from("abcXYZ019 \t_-./%#'\"\\é中"),
    min_size=0,
    max_size=20,
).map(lambda s: s.strip(" \t"))


# send/expect data: any character but the control characters other than tab, CR and LF.
TEXT_CHARS = st.characters(blacklist_categories=("Cs",)).filter(lambda c: c in "\t\r\n" or (c >= " " and c != "\x7f"))


def _netmask(bits):
    number = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    return ".".join(str((number >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _writable(kind, text):
    try:
        lvs_cf.canonical(kind, None, text, "x")
    except LvsError:
        return False
    return True


def value_strategy(kind, arg):
    ip = st.ip_addresses(v=4).map(str)  # Piranha has no IPv6: such an address is refused
    strategies = {
        "bool": st.sampled_from([0, 1]),
        "int": st.integers(arg[0], arg[1]) if arg else None,
        "fwmark": st.integers(1, 2**32 - 1),
        "weight": st.integers(0, 65535),
        "port": st.one_of(st.integers(1, 65535), st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)),
        "choice": st.sampled_from(arg) if arg else None,
        "ip": ip,
        "host": st.one_of(ip, st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z][a-z0-9]{0,8}){0,2}", fullmatch=True)),
        "netmask": st.integers(0, 32).map(_netmask),
        "ipdev": st.tuples(st.ip_addresses(v=4), st.from_regex(r"eth[0-9]:[0-9]{1,2}", fullmatch=True)).map(
            lambda t: "%s %s" % t
        ),
        "text": st.text(alphabet=TEXT_CHARS, max_size=40),
        "command": PLAIN.filter(lambda s: _writable("command", s)),
        "str": PLAIN.filter(lambda s: _writable("str", s)),
    }
    return strategies[kind]


def options_strategy(keys, skip=()):
    return st.fixed_dictionaries(
        {}, optional={key: value_strategy(*spec) for key, spec in keys.items() if key not in skip}
    ).filter(lambda options: "pmask" not in options or options.get("persistent"))


def _unique_marks(virtuals):
    marks = [v["options"]["fwmark"] for v in virtuals if "fwmark" in v["options"]]
    return len(marks) == len(set(marks))


def _servers_fit(virtual):
    """No server on the virtual's address, no two on one address and port (validate() refuses both)."""
    vip = virtual["options"].get("address", " ").split(" ")[0]
    taken = [
        (s["address"], s.get("port", virtual["options"].get("port", 80))) for s in virtual["servers"] if "address" in s
    ]
    return vip not in [address for address, dummy in taken] and len(taken) == len(set(taken))


MODELS = st.fixed_dictionaries(
    {
        "globals": options_strategy(lvs_cf.GLOBAL_KEYS, skip=("serial_no",)),
        "virtuals": st.lists(
            st.fixed_dictionaries(
                {
                    "name": NAME,
                    "options": options_strategy(lvs_cf.VIRTUAL_KEYS),
                    "servers": st.lists(
                        st.tuples(NAME, options_strategy(lvs_cf.SERVER_KEYS)).map(lambda t: dict(t[1], name=t[0])),
                        max_size=3,
                        unique_by=lambda s: s["name"],
                    ),
                }
            ).filter(_servers_fit),
            max_size=3,
            unique_by=lambda v: v["name"],
        ).filter(_unique_marks),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MODELS)
def test_random_valid_models_survive_render_and_parse(model):
    doc = lvs_cf.parse("")
    lvs_cf.apply_config(doc, model)
    lvs_cf.validate(doc)
    text = lvs_cf.render(doc)
    reparsed = lvs_cf.parse(text)
    assert lvs_cf.render(reparsed) == text
    assert lvs_cf.to_config(reparsed) == dict(model, failovers=[])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MODELS)
def test_random_models_over_an_existing_file_are_idempotent(model):
    text = fixture("handwritten.cf")
    first = plan(text, config=model)
    expected = dict(model, failovers=lvs_cf.to_config(lvs_cf.parse(text))["failovers"])
    expected["globals"] = dict(model["globals"], serial_no=first.serial_no)
    assert first.config == expected
    second = plan(first.text, config=first.config)
    assert second.changed is False
    assert second.text == first.text


FRAGMENTS = st.sampled_from(
    [
        *("virtual", "server", "failover", " ", "\t", "\n", "\r\n", "{", "}", "=", "#", '"', "'", "\\", "port"),
        *("weight", "address", "send", "10.0.0.1", "eth0:1", "1", "0", "x", "serial_no", "fwmark", "pmask", "é"),
    ]
)
ALL_KEYS = sorted(set(lvs_cf.GLOBAL_KEYS) | set(lvs_cf.VIRTUAL_KEYS) | {"start_cmd"})
LINES = st.one_of(
    st.tuples(
        st.sampled_from(["", " ", "\t", "     "]),
        st.sampled_from(ALL_KEYS),
        st.sampled_from([" = ", "=", "\t=  "]),
        st.one_of(FRAGMENTS, st.text(max_size=12), st.sampled_from(["1", "0", "80", "http", "10.0.0.1 eth0:1"])),
        st.sampled_from(["", "  # c", "\r"]),
    ).map("".join),
    st.sampled_from(["virtual v {", "virtual w {", "server s {", "failover f {", "}", "", "# x"]),
)
STRUCTURED = st.lists(LINES, max_size=30).map("\n".join)
GARBAGE = st.one_of(
    STRUCTURED, st.text(max_size=200), st.lists(st.one_of(FRAGMENTS, st.text(max_size=3)), max_size=60).map("".join)
)


@settings(max_examples=400, deadline=None)
@given(GARBAGE)
def test_garbage_raises_only_the_collections_error(text):
    try:
        doc = lvs_cf.parse(text, "g.cf")
    except LvsError as exc:
        assert exc.path == "g.cf"
        assert exc.line is not None
        return
    assert lvs_cf.render(doc) == text
    try:
        lvs_cf.validate(doc)
    except LvsError as exc:
        assert exc.key
        return
    config = lvs_cf.to_config(doc)
    assert plan(text, config=config).changed is False


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(["name", "options", "servers", "x"]), children)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(sorted(set(lvs_cf.GLOBAL_KEYS) | set(lvs_cf.VIRTUAL_KEYS) | {"name", "bogus"}))
GARBAGE_CONFIG = st.fixed_dictionaries(
    {},
    optional={
        "globals": st.one_of(JSONISH, st.dictionaries(KEYS, JSONISH, max_size=4)),
        "virtuals": st.one_of(
            JSONISH,
            st.lists(
                st.fixed_dictionaries(
                    {"name": st.one_of(NAME, JSONISH)},
                    optional={"options": st.dictionaries(KEYS, JSONISH, max_size=4), "servers": JSONISH},
                ),
                max_size=3,
            ),
        ),
        "failovers": JSONISH,
    },
)


@settings(max_examples=300, deadline=None)
@given(GARBAGE_CONFIG)
def test_garbage_config_raises_only_the_collections_error(config):
    try:
        result = plan(BASE, config=config)
    except LvsError as exc:
        assert str(exc)
        return
    assert plan(result.text, config=result.config).changed is False


def test_public_tables_are_consistent():
    assert set(lvs_cf.VIRTUAL_KEYS["scheduler"][1]) == set(PIRANHA_SCHEDULERS)
    for keys in (lvs_cf.GLOBAL_KEYS, lvs_cf.VIRTUAL_KEYS, lvs_cf.SERVER_KEYS):
        for key in keys:
            assert re.fullmatch(r"[a-z_]+", key)


# --------------------------------------------------------------------------- what Piranha cannot load (issue 16)

PATH = "/etc/sysconfig/ha/lvs.cf"
# Short enough to read in a task's output: a bad value is quoted only so far.
SHORT = 200
# The same for messages that also list the known keys or choices.
LONGER = 400


def refused(text, **kwargs):
    """The LvsError that plan() raises for ``text`` (read, or with the given edit)."""
    kwargs = kwargs or {"state": "read"}
    with pytest.raises(LvsError) as info:
        lvs_cf.plan(text, PATH, **kwargs)
    return info.value


# (file text, line of the error, key, message fragment)
FILE_REFUSALS = [
    ("\ufeffserial_no = 1\n", 1, None, "starts with a UTF-8 byte order mark"),
    ("serial_no = 1\rkeepalive = 2\r", 1, None, "carriage return not followed by a line feed"),
    ("serial_no = 1\nkeepalive = 2\rdeadtime = 3\n", 2, None, "not CR alone"),
    ("keepalive = 2\r", 1, None, "not CR alone"),
    ("keepalive = %s\n" % ("9" * 5000), 1, "keepalive", "keepalive must be a number of at most 20 digits, got 5000"),
    ("serial_no = -%s\n" % ("1" * 21), 1, "serial_no", "at most 20 digits, got 22"),
    ("virtual v {\n fwmark = %s\n}\n" % ("4" * 4400), 2, "fwmark", "fwmark must be a number of at most 20 digits"),
    ("virtual v {\n port = %s\n}\n" % ("8" * 4400), 2, "port", "port must be a number of at most 20 digits"),
    ("virtual v {\n server s {\n  weight = %s\n }\n}\n" % ("1" * 999), 3, "weight", "weight must be a number of"),
    ("virtual v {\n active = %s\n}\n" % ("1" * 999), 2, "active", "active must be 0 or 1"),
    ("keepalive = 99999999999\n", 1, "keepalive", "keepalive must be between 1 and 2147483647, got 99999999999"),
    ("virtual v {\n address = fe80::1 eth0:1\n}\n", 2, "address", "IPv4: Piranha has no IPv6"),
    ("virtual v {\n sorry_server = 2001:db8::1\n}\n", 2, "sorry_server", "IPv4: Piranha has no IPv6"),
    ("virtual v {\n server s {\n  address = ::1\n }\n}\n", 3, "address", "virtual v, server s: address must be an IP"),
    ("primary = 2001:db8::1\n", 1, "primary", "IPv4: Piranha has no IPv6"),
    ("primary_private = ::ffff:10.0.0.1\n", 1, "primary_private", "IPv4: Piranha has no IPv6"),
    ("nat_router = fd00::1 eth1:1\n", 1, "nat_router", "IPv4: Piranha has no IPv6"),
    ("keepalive = 6\x00\n", 1, "keepalive", "keepalive must be an integer, got '6\\x00'"),
    ("active_cmd = /bin/on\x00off\n", 1, "active_cmd", "one line of printable characters"),
    ("debug_level = AL\x1bL\n", 1, "debug_level", "one line of printable characters"),
    ('virtual v {\n send = "GET\x07 /"\n}\n', 2, "send", "control characters other than tab, CR and LF"),
    ("virtual v {\n expect = 'a\x0cb'\n}\n", 2, "expect", "control characters other than tab, CR and LF"),
    ("virtual v\x01w {\n}\n", 1, "virtual", "virtual name must be one word of printable characters"),
    ("virtual v {\n server s\x00 {\n }\n}\n", 2, "server", "server name must be one word of printable characters"),
    ("virtual v\u00a0w {\n}\n", 1, "virtual", "virtual name must be one word of printable characters"),
    ("failover %s {\n}\n" % ("f" * 254), 1, "failover", "failover name must be at most 253 characters, got 254"),
    ("active_cmd = %s\n" % ("x" * 4097), 1, "active_cmd", "active_cmd must be at most 4096 characters, got 4097"),
    ("failover f {\n start_cmd = %s\n}\n" % ("x" * 5000), 2, "start_cmd", "at most 4096 characters, got 5000"),
    ("primary = %s\n" % ("a" * 254), 1, "primary", "primary must be at most 253 characters, got 254"),
    ("virtual v {\n scheduler = %s\n}\n" % ("w" * 4000), 2, "scheduler", "at most 253 characters, got 4000"),
    ("virtual v {\n port = 80/tcp\n}\n", 2, "port", "port number (1-65535) or a service name, got '80/tcp'"),
    ("virtual v {\n port = 0x50\n}\n", 2, "port", "port number (1-65535) or a service name"),
    ("virtual v {\n port = http alt\n}\n", 2, "port", "port number (1-65535) or a service name"),
    ("virtual v {\n port = -80\n}\n", 2, "port", "port must be between 1 and 65535, got -80"),
    ("virtual v {\n port = %s\n}\n" % ("h" * 254), 2, "port", "port number (1-65535) or a service name"),
]


@pytest.mark.parametrize(("text", "line", "key", "message"), FILE_REFUSALS)
def test_what_piranha_cannot_load_is_refused_naming_file_and_line(text, line, key, message):
    error = refused(text)
    assert message in error.message
    assert (error.path, error.line, error.key) == (PATH, line, key)
    assert str(error).startswith("%s:%d: " % (PATH, line))
    assert len(str(error)) < SHORT


def test_a_file_with_cr_line_ends_gets_a_short_message():
    text = fixture("tutorial_first.cf").replace("\n", "\r")
    assert len(text) > 1500
    error = refused(text)
    assert (
        str(error)
        == PATH + ":1: carriage return not followed by a line feed: lines must end in LF or CR LF, not CR alone"
    )


def test_a_file_with_a_byte_order_mark_gets_a_short_message():
    error = refused("\ufeff" + fixture("tutorial_first.cf"))
    assert str(error) == PATH + ":1: the file starts with a UTF-8 byte order mark, which Piranha does not skip"


def test_control_characters_in_comments_are_left_alone():
    # Piranha skips comments; only values, names and keys must be readable.
    text = "# \x01 form feed\x0c and NUL \x00 in a comment\nkeepalive = 6 # \x07\n"
    assert lvs_cf.render(lvs_cf.parse(text)) == text
    assert plan(text, state="read").config["globals"] == {"keepalive": 6}


@pytest.mark.parametrize(
    "text",
    [
        "x" * 5000 + "\n",
        "k" * 5000 + " = 1\n",
        'virtual v {\n send = "%s\n}\n' % ("x" * 5000),
        'virtual v {\n send = "a" %s\n}\n' % ("x" * 5000),
        "virtual %s\n" % ("v" * 5000),
        "{" * 5000 + "\n",
    ],
)
def test_messages_about_long_lines_stay_short(text):
    error = refused(text)
    assert error.path == PATH
    assert error.line is not None
    assert len(str(error)) < SHORT
    assert error.key is None or len(error.key) <= 60


SERVERS = """virtual web {
     address = 172.16.11.210 eth0:1
     port = 80
     server one {
         address = 172.16.11.76
     }
     server two {
         address = 172.16.11.77
         port = 8080
     }
}
"""


def test_servers_base_is_valid():
    assert len(plan(SERVERS, state="read").config["virtuals"][0]["servers"]) == 2


TWO_ON_76 = SERVERS.replace("172.16.11.77\n         port = 8080", "172.16.11.76")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (SERVERS.replace("172.16.11.76", "172.16.11.210"), 5, "virtual web, server one: address 172.16.11.210 is the"),
        (TWO_ON_76, 8, "virtual web, server two: address 172.16.11.76 port 80 is taken by server one already"),
        (TWO_ON_76.replace("172.16.11.76\n     }\n}", "172.16.11.76\n         port = 80\n     }\n}"), 8, "port 80"),
        (TWO_ON_76.replace("     port = 80\n", ""), 7, "port 80 is taken"),  # both on the default port, 80
        (TWO_ON_76.replace("     port = 80\n", "     port = http\n"), 8, "port http is taken"),
    ],
)
def test_servers_piranha_cannot_hold_are_refused(text, line, message):
    error = refused(text)
    assert message in error.message
    assert (error.path, error.line, error.key) == (PATH, line, "address")


def test_same_address_on_other_ports_or_in_other_virtuals_is_fine():
    text = SERVERS.replace("172.16.11.77", "172.16.11.76")
    text += text.replace("virtual web {", "virtual web2 {").replace("172.16.11.210 eth0:1", "172.16.11.211 eth0:2")
    assert len(plan(text, state="read").config["virtuals"]) == 2


@pytest.mark.parametrize(
    ("kwargs", "key", "message"),
    [
        ({"servers": [{"name": "a", "address": "172.16.11.210"}]}, "address", "is the virtual's own address"),
        (
            {"servers": [{"name": "a", "address": "10.0.0.1"}, {"name": "b", "address": "10.0.0.1", "port": 80}]},
            "address",
            "virtual web, server b: address 10.0.0.1 port 80 is taken by server a already",
        ),
        ({"servers": [{"name": "a", "address": "::1"}]}, "address", "IPv4: Piranha has no IPv6"),
        ({"options": {"address": "2001:db8::5 eth0:1"}}, "address", "IPv4: Piranha has no IPv6"),
        ({"options": {"sorry_server": "::"}}, "sorry_server", "IPv4: Piranha has no IPv6"),
        ({"options": {"client_monitor": "/bin/n\x00anny"}}, "client_monitor", "one line of printable characters"),
        ({"options": {"send": "OPTIONS\x00"}}, "send", "control characters other than tab, CR and LF"),
        ({"options": {"send": "bad \ud800 surrogate"}}, "send", "cannot be written as UTF-8"),
        ({"options": {"client_monitor": "x" * 4097}}, "client_monitor", "at most 4096 characters, got 4097"),
        ({"options": {"port": "80/tcp"}}, "port", "port number (1-65535) or a service name"),
        ({"options": {"port": "9" * 5000}}, "port", "at most 20 digits, got 5000"),
        ({"options": {"port": 10**5000}}, "port", "port is out of range, got a 16610-bit integer"),
        ({"options": {"timeout": 10**5000}}, "timeout", "timeout is out of range"),
        ({"options": {"timeout": "1" * 5000}}, "timeout", "at most 20 digits, got 5000"),
        ({"options": {"client_monitor": 10**5000}}, "client_monitor", "out of range"),
        ({"options": {"send": 10**5000}}, "send", "out of range"),
        ({"options": {"persistent": [10**5000]}}, "persistent", "must be an integer, got a value too large to show"),
        ({"servers": [{"name": "a\x00"}]}, "name", "server name must be one word of printable characters"),
        ({"servers": [{"name": "s" * 254}]}, "name", "at most 253 characters, got 254"),
    ],
)
def test_arguments_piranha_cannot_load_are_refused_naming_the_key(kwargs, key, message):
    error = refused(SERVERS, virtual="web", **kwargs)
    assert message in error.message
    assert error.key == key
    assert len(str(error)) < SHORT


@pytest.mark.parametrize(
    ("kwargs", "key", "message"),
    [
        ({"virtual": "w\x1bx"}, "name", "virtual name must be one word of printable characters"),
        ({"globals_": {"primary": "fe80::1"}}, "primary", "IPv4: Piranha has no IPv6"),
        ({"globals_": {"debug_level": "A\x00"}}, "debug_level", "one line of printable characters"),
        ({"config": {"failovers": [{"name": "f", "options": {"k" * 300: "v"}}]}}, "k" * 60, "not a valid key name"),
        ({"config": {"virtuals": [{"name": "a", "options": {"x" * 5000: 1}}]}}, "x" * 60, "unknown key 'xxx"),
        ({"config": {10**5000: 1}}, "config", "unknown keys a 16610-bit integer"),
        ({"config": {1: 1, "b": 2}}, "config", "unknown keys 1, b"),
        ({"config": {"virtuals": [{"name": "a", 10**5000: 1}]}}, "virtuals", "unknown keys a 16610-bit integer"),
        ({"config": {"virtuals": [{"name": "n" * 5000, "x": 1}]}}, "virtuals", "... (5000 characters): unknown keys x"),
        ({"state": "x" * 5000}, "state", "state must be present, absent or read, got 'xxx"),
    ],
)
def test_other_arguments_are_refused_with_short_messages(kwargs, key, message):
    error = refused(BASE, **kwargs)
    assert message in error.message
    assert error.key == key
    assert len(str(error)) < LONGER


@pytest.mark.parametrize("key", ["scheduler", "protocol", "load_monitor", "vip_nmask", "address", "sorry_server"])
def test_words_are_bounded_before_they_are_checked(key):
    # At most 253 characters reach the checks of _model, which quote the whole value.
    error = refused(BASE, virtual="web", options={key: "w" * 253})
    assert error.key == key
    assert len(str(error)) < LONGER
    assert "at most 253 characters, got 254" in refused(BASE, virtual="web", options={key: "w" * 254}).message


# --------------------------------------------------------------------------- serial_no

MAX_SERIAL = 2**31 - 1


@pytest.mark.parametrize(("current", "following"), [(None, 1), (0, 1), (70, 71), (MAX_SERIAL - 1, MAX_SERIAL)])
def test_next_serial_no_counts_up(current, following):
    assert lvs_cf.next_serial_no(current) == following


def test_serial_no_at_its_maximum_wraps_to_1():
    assert lvs_cf.next_serial_no(MAX_SERIAL) == 1
    text = "serial_no = %d\nkeepalive = 2\n" % MAX_SERIAL
    result = plan(text, globals_={"keepalive": 3})
    assert result.serial_no == 1
    assert result.text == "serial_no = 1\nkeepalive = 3\n"
    # What is written reads back: the module never writes a file it refuses.
    assert plan(result.text, state="read").serial_no == 1
    assert plan(text, state="read").serial_no == MAX_SERIAL  # no change, no wrap
    assert refused("serial_no = %d\n" % (MAX_SERIAL + 1)).key == "serial_no"


def test_new_text_is_read_back_before_it_is_returned():
    with pytest.raises(LvsError) as info:
        lvs_cf._check_reads_back("keepalive = 0\n", PATH, {})
    assert (info.value.path, info.value.line, info.value.key) == (PATH, 1, "keepalive")
    with pytest.raises(LvsError, match="does not read back"):
        lvs_cf._check_reads_back("keepalive = 1\n", PATH, {"globals": {}, "virtuals": [], "failovers": []})
    config = lvs_cf.to_config(lvs_cf.parse("keepalive = 1\n"))
    lvs_cf._check_reads_back("keepalive = 1\n", PATH, config)


def test_a_render_that_does_not_read_back_is_caught(monkeypatch):
    # Were render() ever to write a value that parses differently, plan() refuses rather than return it.
    real_render = lvs_cf.render
    monkeypatch.setattr(lvs_cf, "render", lambda doc: real_render(doc).replace("keepalive = 3", "keepalive = 4"))
    error = refused("serial_no = 1\n", globals_={"keepalive": 3})
    assert "does not read back" in error.message
    assert error.path == PATH


# --------------------------------------------------------------------------- check_file


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (stat.S_IFDIR | 0o755, "a directory"),
        (stat.S_IFIFO | 0o644, "a FIFO"),
        (stat.S_IFCHR | 0o666, "a character device"),
        (stat.S_IFBLK | 0o660, "a block device"),
        (stat.S_IFSOCK | 0o777, "a socket"),
        (stat.S_IFLNK | 0o777, "a symbolic link"),
        (0o644, "of an unknown type"),
    ],
)
def test_check_file_refuses_what_is_not_a_regular_file(mode, kind):
    with pytest.raises(LvsError) as info:
        lvs_cf.check_file(mode, 0)
    assert info.value.message == "it is %s, not a regular file" % kind
    assert info.value.key == "path"


def test_check_file_caps_the_size_at_16_mib():
    assert lvs_cf.MAX_FILE_SIZE == 16 * 1024 * 1024
    lvs_cf.check_file(stat.S_IFREG | 0o644, lvs_cf.MAX_FILE_SIZE)
    with pytest.raises(LvsError, match=r"it is 16777217 bytes, over the 16777216 bytes \(16 MiB\)"):
        lvs_cf.check_file(stat.S_IFREG | 0o644, lvs_cf.MAX_FILE_SIZE + 1)


# --------------------------------------------------------------------------- hostile input: only LvsError


def only_lvs_error(text, **kwargs):
    """plan() on hostile ``text``: a result, or LvsError naming the file (and the line when the file is to blame)."""
    try:
        return lvs_cf.plan(text, PATH, **(kwargs or {"state": "read"}))
    except LvsError as exc:
        assert exc.path == PATH
        assert str(exc).startswith(PATH)
        assert len(str(exc)) < 400
        if not kwargs:
            assert exc.line is not None, str(exc)
        return None


def _random_bytes(seed, size):
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for dummy in range(size)).decode("utf-8", "surrogateescape")


def _random_lines(seed):
    """Lines of lvs.cf words in random order: near-misses of the syntax."""
    rnd = random.Random(seed)
    words = ["virtual", "server", "failover", "{", "}", "=", "#", '"', "'", "\\", "port", "address", "1", "x", "\t"]
    words += ["10.0.0.1", "eth0:1", "::1", "9" * 30, "\x00", "\r", "\ufeff", "é", "serial_no", "weight", "send"]
    return "\n".join(" ".join(rnd.choice(words) for dummy in range(rnd.randrange(6))) for dummy in range(40))


HOSTILE = {
    **{"random bytes %d" % seed: _random_bytes(seed, 64 * seed) for seed in range(1, 9)},
    **{"random lines %d" % seed: _random_lines(seed) for seed in range(8)},
    "huge number": "keepalive = %s\n" % ("7" * 100000),
    "huge negative": "virtual v {\n timeout = -%s\n}\n" % ("7" * 100000),
    "huge serial": "serial_no = %s\n" % ("1" * 4301),
    "unbalanced open": "virtual a {\n server b {\n  weight = 1\n",
    "unbalanced close": "}\n}\n}\n",
    "deep nesting": "virtual a {\n" + "server s {\n" * 500 + "}\n" * 501,
    "nested virtuals": "virtual a {\n" * 500,
    "braces only": "{}" * 1000,
    "long line": "# " + "x" * 1000000 + "\nkeepalive = 1\n",
    "long value": "active_cmd = " + "y" * 1000000 + "\n",
    "long quoted": "active_cmd = '" + "y" * 1000000 + "'\n",
    "unterminated quote": "virtual v {\n send = '" + "\\'" * 100000 + "\n}\n",
    "nul everywhere": "\x00".join("serial_no = 1\n"),
    "only CRs": "\r" * 1000,
    "bom and crlf": "\ufeffserial_no = 1\r\n",
    "utf-16": "serial_no = 1\n".encode("utf-16").decode("utf-8", "surrogateescape"),
    "latin-1 value": "active_cmd = caf\udce9\n",
    "many servers on one address": "virtual v {\n"
    + "".join(" server s%d {\n  address = 10.0.0.1\n }\n" % i for i in range(300))
    + "}\n",
    "server on the vip": "virtual v {\n address = 10.0.0.1 eth0:1\n server s {\n  address = 10.0.0.1\n }\n}\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_raise_only_lvs_error(name):
    text = HOSTILE[name]
    only_lvs_error(text)
    only_lvs_error(text, globals_={"keepalive": 3})
    only_lvs_error(text, config={"globals": {}, "virtuals": [{"name": "v", "servers": [{"name": "s"}]}]})


@pytest.mark.parametrize("name", TUTORIAL_FILES)
def test_truncated_files_raise_only_lvs_error(name):
    text = fixture(name)
    for end in range(0, len(text), 3):
        only_lvs_error(text[:end])
        only_lvs_error(text[end:])


HOSTILE_VALUES = [
    None,
    True,
    1.5,
    float("nan"),
    -(10**5000),
    10**5000,
    "9" * 5000,
    "",
    " ",
    "\x00",
    "\ud800",
    "x" * 5000,
    [],
    {},
    [10**5000],
    {"a": [None]},
    "1e9",
    "0x10",
    "::1",
    "10.0.0.1 eth0:1 x",
    "'\"",
    "a\\",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=range(len(HOSTILE_VALUES)))
def test_hostile_argument_values_raise_only_lvs_error(value):
    for key in lvs_cf.GLOBAL_KEYS:
        only_lvs_error(BASE, globals_={key: value})
    for key in lvs_cf.VIRTUAL_KEYS:
        only_lvs_error(BASE, virtual="web", options={key: value})
    for key in lvs_cf.SERVER_KEYS:
        only_lvs_error(BASE, virtual="web", servers=[{"name": "s", key: value}])
    only_lvs_error(BASE, virtual="web", servers=[{"name": value}])
    only_lvs_error(BASE, virtual=value)
    only_lvs_error(BASE, config=value)
    only_lvs_error(BASE, config={"virtuals": [{"name": "v", "options": value, "servers": value}]})
    only_lvs_error(BASE, config={"failovers": [{"name": "f", "options": {"k": value}}]})
    only_lvs_error(BASE, state=value)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_lvs_error(data):
    text = data.decode("utf-8", "surrogateescape")
    result = only_lvs_error(text)
    if result is not None:
        assert result.text == text


HOSTILE_PIECES = st.sampled_from(
    [
        *("virtual v {\n", "server s {\n", "failover f {\n", "}\n", "{", "}", "\n", "\r", "\r\n", "\x00", "\ufeff"),
        *("port = ", "address = ", "weight = ", "serial_no = ", "send = ", "fwmark = ", "active = ", "= ", "# "),
        *("9" * 25, "2147483647", "2147483648", "-1", "0", "::1", "10.0.0.1", "10.0.0.1 eth0:1", "http", "'", '"'),
        *("\\", "x" * 300, "é", "\udce9", "\t"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(HOSTILE_PIECES, max_size=80).map("".join))
def test_hostile_pieces_raise_only_lvs_error(text):
    only_lvs_error(text)
    only_lvs_error(text, globals_={"keepalive": 4})


@settings(max_examples=200, deadline=None)
@given(JSONISH, st.sampled_from(sorted(set(lvs_cf.VIRTUAL_KEYS) | {"name"})))
def test_hostile_arguments_raise_only_lvs_error(value, key):
    if key == "name":
        only_lvs_error(BASE, virtual="web", servers=[{"name": value}])
    else:
        only_lvs_error(BASE, virtual="web", options={key: value})
