"""asterisk_problems, the filter over module_utils/_asterisk.py: the same rules, on a plain copy of what the
templating engine hands it, undefined values (top-level or inside a list or mapping) named with the engine's own
reason, an undefined password taken as a missing secret."""

import jinja2
import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.filter import asterisk as plugin
from ansible_collections.sipvs.lvs.plugins.module_utils._asterisk import asterisk_problems as rule

asterisk_problems = plugin.FilterModule().filters()["asterisk_problems"]

GOOD = {
    "asterisk_address": "172.16.11.76",
    "asterisk_media_address": "172.16.11.76",
    "asterisk_vips": ["172.16.11.211"],
    "asterisk_sip_listen": [{"protocol": "udp", "port": 5060}, {"protocol": "tcp", "port": 5060}],
    "asterisk_rtp_port_start": 10000,
    "asterisk_rtp_port_end": 20000,
    "asterisk_dialplan": [{"context": "sipp", "extensions": [{"exten": "200", "steps": ["Answer()", "Hangup()"]}]}],
    "asterisk_endpoints": [
        {"name": "777", "type": "account", "context": "sipp", "password": "Zq7-Good.Secret"},
        {"name": "sipp", "type": "peer", "context": "sipp", "match": ["172.16.11.236"]},
    ],
    "asterisk_allow_peer_networks": False,
}


def with_endpoint(index, **values):
    endpoints = [dict(endpoint) for endpoint in GOOD["asterisk_endpoints"]]
    endpoints[index].update(values)
    return dict(GOOD, asterisk_endpoints=endpoints)


@pytest.mark.parametrize(
    "settings",
    [
        GOOD,
        dict(GOOD, asterisk_vips=["172.16.11.211", "172.16.11.211"]),
        with_endpoint(1, match=["0.0.0.0/0"]),
        with_endpoint(0, password="short"),
        dict(GOOD, asterisk_rtp_port_start=30000),
    ],
)
def test_the_filter_gives_the_rule_s_answer(settings):
    assert asterisk_problems(settings) == rule(settings)


def test_a_tuple_is_read_as_a_list():
    assert asterisk_problems(dict(GOOD, asterisk_vips=("172.16.11.211",))) == []


@pytest.mark.parametrize("undefined", [jinja2.Undefined, jinja2.StrictUndefined])
def test_an_undefined_password_is_a_missing_secret_with_its_reason(undefined):
    settings = with_endpoint(0, password=undefined(name="sipvs_sip_777_password"))
    assert asterisk_problems(settings) == [
        "asterisk_endpoints[0].password (account 777) is not set ('sipvs_sip_777_password' is undefined);"
        " it is a secret with no default: supply it from a vault or extra vars"
    ]


def test_an_undefined_variable_is_named_with_its_reason():
    settings = dict(GOOD, asterisk_address=jinja2.StrictUndefined(name="lvs_adress"))
    assert asterisk_problems(settings) == ["asterisk_address has no value ('lvs_adress' is undefined)"]


def test_the_input_is_not_changed():
    settings = with_endpoint(1, match=("172.16.11.236",))
    asterisk_problems(settings)
    assert settings["asterisk_endpoints"][1]["match"] == ("172.16.11.236",)


@pytest.mark.parametrize("value", [["asterisk_address"], "asterisk_address", None])
def test_anything_but_a_mapping_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="asterisk_problems takes a mapping of the asterisk role's variables"):
        asterisk_problems(value)


def test_undefined_settings_are_refused_with_the_reason():
    with pytest.raises(AnsibleFilterError, match=r"the role's variables are undefined \('settings' is undefined\)"):
        asterisk_problems(jinja2.StrictUndefined(name="settings"))


def test_the_filter_takes_undefined_values():
    # ansible-core 2.19 hands a plugin an undefined argument, or an undefined item of a lazy list or mapping,
    # only when the plugin says it takes one.
    template = pytest.importorskip("ansible.template")
    if not hasattr(template, "accept_lazy_markers"):
        pytest.skip("ansible-core before 2.19 passes Jinja's Undefined to every filter")
    assert getattr(asterisk_problems, "accept_args_markers", False) is True
    assert getattr(asterisk_problems, "accept_lazy_markers", False) is True


# Recorded from Asterisk 20 on a lab real server during a SIPp load (core show channels concise).
CONCISE = (
    "PJSIP/sipp-00000228!sipp!200!1!Up!Answer!!sipp!!!3!0!!1796288869.552\n"
    "PJSIP/sipp-00000225!sipp!200!2!Up!MusicOnHold!default,30!sipp!!!3!1!!1796288867.549\n"
    "PJSIP/sipp-00000221!sipp!200!2!Up!MusicOnHold!default,30!sipp!!!3!24!!1796288864.545\n"
)


def test_asterisk_channel_ages_reads_each_channels_duration():
    ages = plugin.FilterModule().filters()["asterisk_channel_ages"]
    assert ages(CONCISE) == [0, 1, 24]
    assert ages("") == []
    assert ages("Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)\n") == []


def test_asterisk_channel_ages_takes_text_only():
    ages = plugin.FilterModule().filters()["asterisk_channel_ages"]
    with pytest.raises(AnsibleFilterError, match="takes the text"):
        ages(None)
