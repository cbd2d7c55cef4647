"""sip_options_payload: the OPTIONS request of keepalived's native SIP check."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.filter.sip import FilterModule
from ansible_collections.sipvs.lvs.plugins.module_utils import _sip

payload = FilterModule().filters()["sip_options_payload"]


def request(*args):
    return bytes.fromhex(payload(*args)).decode("ascii")


def test_payload_is_an_options_request_with_rport_from_the_director():
    text = request("172.16.11.76", 5060, "172.16.11.74", 5070)
    lines = text.split("\r\n")
    assert lines[0] == "OPTIONS sip:172.16.11.76:5060 SIP/2.0"
    assert lines[1].startswith("Via: SIP/2.0/UDP 172.16.11.74:5070;branch=z9hG4bK")
    assert lines[1].endswith(";rport")
    assert "Content-Length: 0" in lines
    assert text.endswith("\r\n\r\n")


def test_payload_is_the_same_for_the_same_inputs_and_differs_per_real_server():
    first = payload("172.16.11.76", 5060, "172.16.11.74", 5070)
    assert payload("172.16.11.76", "5060", "172.16.11.74", "5070") == first
    assert payload("172.16.11.77", 5060, "172.16.11.74", 5071) != first


def test_a_reply_to_the_payload_is_judged_as_the_check_program_judges_it():
    text = request("172.16.11.76", 5060, "172.16.11.74", 5070)
    call_id = next(line for line in text.split("\r\n") if line.startswith("Call-ID: "))[len("Call-ID: ") :]
    reply = "SIP/2.0 401 Unauthorized\r\nCall-ID: %s\r\nContent-Length: 0\r\n\r\n" % call_id
    assert _sip.parse_reply(reply.encode(), call_id) == 401
    # keepalived's require_reply in the template: the first bytes of any SIP status line.
    assert reply.encode().startswith(bytes.fromhex("5349502f322e3020"))


def test_payload_fits_a_keepalived_configuration_line():
    # keepalived reads its configuration in lines of at most 1024 characters (MAXBUF).
    assert len("payload " + payload("255.255.255.255", 65535, "255.255.255.254", 65535)) < 1024


@pytest.mark.parametrize("ports", [("x", 5070), (5060, None)])
def test_bad_ports_are_a_filter_error(ports):
    with pytest.raises(AnsibleFilterError, match="ports must be integers"):
        payload("172.16.11.76", ports[0], "172.16.11.74", ports[1])


def test_payload_is_unchanged_byte_for_byte():
    # Recorded before the request builder moved into _sip.build_request (issue 17): a rendered
    # keepalived.conf must not change when the code that builds its payload does.
    assert request("172.16.11.76", 5060, "172.16.11.74", 5070) == (
        "OPTIONS sip:172.16.11.76:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 172.16.11.74:5070;branch=z9hG4bK36b4fce0e1bb;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:sipvs-sip-check@172.16.11.74>;tag=dfbeac4d\r\n"
        "To: <sip:172.16.11.76:5060>\r\n"
        "Call-ID: 5d575f1055505c69@172.16.11.74\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Contact: <sip:sipvs-sip-check@172.16.11.74:5070>\r\n"
        "Accept: application/sdp\r\n"
        "User-Agent: sipvs-sip-check\r\n"
        "Content-Length: 0\r\n"
        "\r\n"
    )
