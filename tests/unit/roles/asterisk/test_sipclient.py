"""The asterisk role's Molecule SIP client (roles/asterisk/molecule/default/tests/sipclient.py), uploaded and
run by that scenario's own sip() helper, against a fake SIP peer on 127.0.0.1.

sip() runs its upload command through testinfra's local backend here instead of podman exec: the same
command with the same quoting, by /bin/sh, into a temporary directory instead of the container's. So
these tests show that the upload puts _sip.py beside sipclient.py, and that the client's requests and
JSON results are what the Molecule tests expect.
"""

import hashlib
import importlib.util
import pathlib
import re

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils import _sip

testinfra = pytest.importorskip("testinfra")

TESTS = pathlib.Path(__file__).resolve().parents[4] / "roles" / "asterisk" / "molecule" / "default" / "tests"


@pytest.fixture
def sip(tmp_path, monkeypatch):
    """The Molecule scenario's sip(**request), run on this machine with CLIENT_DIR in tmp_path."""
    spec = importlib.util.spec_from_file_location("asterisk_molecule_tests", TESTS / "test_default.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    client_dir = tmp_path / "sipclient"
    monkeypatch.setattr(module, "CLIENT_DIR", str(client_dir))
    host = testinfra.get_host("local://")

    def run(**request):
        result = module.sip(host, **request)
        # Nothing but the two uploaded files: the client finds _sip beside itself.
        assert sorted(path.name for path in client_dir.iterdir() if path.is_file()) == ["_sip.py", "sipclient.py"]
        return result

    return run


def lines_of(request):
    return request.split("\r\n")


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_options(sip, sip_peer, sip_reply, proto):
    peer = sip_peer(lambda request, source: [sip_reply(request, 200, "OK")], transport=proto)
    result = sip(do="options", proto=proto, target="127.0.0.1", port=peer.port, bind="127.0.0.1")
    assert result == {"status": "SIP/2.0 200 OK", "source": "127.0.0.1"}
    [(request, source)] = peer.requests
    assert re.fullmatch(
        rf"OPTIONS sip:127\.0\.0\.1:{peer.port} SIP/2\.0\r\n"
        rf"Via: SIP/2\.0/{proto.upper()} 127\.0\.0\.1:{source[1]};branch=z9hG4bK[0-9a-f]{{8}};rport\r\n"
        r"Max-Forwards: 70\r\n"
        r"From: <sip:probe@127\.0\.0\.1>;tag=t1\r\n"
        rf"To: <sip:127\.0\.0\.1:{peer.port}>\r\n"
        r"Call-ID: opt-[0-9a-f]+\r\n"
        r"CSeq: 1 OPTIONS\r\n"
        rf"Contact: <sip:probe@127\.0\.0\.1:{source[1]};transport={proto}>\r\n"
        r"User-Agent: sipvs-molecule\r\n"
        r"Content-Length: 0\r\n\r\n",
        request,
    )


def digest_response(authorization, method, uri, password):
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', authorization))
    ha1 = hashlib.md5(("%s:%s:%s" % (params["username"], params["realm"], password)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    text = "%s:%s:%s:%s:%s:%s" % (ha1, params["nonce"], params["nc"], params["cnonce"], params["qop"], ha2)
    return params["response"] == hashlib.md5(text.encode()).hexdigest()


@pytest.mark.parametrize("password,final", [("secret", "SIP/2.0 200 OK"), ("wrong", "SIP/2.0 403 Forbidden")])
def test_register_answers_the_digest_challenge_as_the_account(sip, sip_peer, sip_reply, password, final):
    challenge = ("WWW-Authenticate", 'Digest realm="asterisk",nonce="1a2b3c",opaque="x",algorithm=MD5,qop="auth"')

    def registrar(request, source):
        headers = _sip.parse_message(request.encode())[1]
        if "authorization" not in headers:
            return [sip_reply(request, 401, "Unauthorized", [challenge])]
        if digest_response(headers["authorization"], "REGISTER", "sip:127.0.0.1", "secret"):
            return [sip_reply(request, 200, "OK")]
        return [sip_reply(request, 403, "Forbidden")]

    peer = sip_peer(registrar, count=2)
    result = sip(do="register", target="127.0.0.1", port=peer.port, bind="127.0.0.1", user="777", password=password)
    assert result == {"statuses": ["SIP/2.0 401 Unauthorized", final]}
    (first, source), (second, _source) = peer.requests
    sport = source[1]
    assert lines_of(first)[0] == "REGISTER sip:127.0.0.1 SIP/2.0"
    assert lines_of(first)[3:] == [
        "From: <sip:probe@127.0.0.1>;tag=r1",
        "To: <sip:127.0.0.1>",
        lines_of(first)[5],
        "CSeq: 1 REGISTER",
        "Contact: <sip:probe@127.0.0.1:%d;transport=udp>" % sport,
        "User-Agent: sipvs-molecule",
        "Expires: 60",
        "Content-Length: 0",
        "",
        "",
    ]
    # The From/To user is the account; Call-ID kept, CSeq up by one.
    assert lines_of(second)[3:9] == [
        "From: <sip:777@127.0.0.1>;tag=r1",
        "To: <sip:777@127.0.0.1>",
        lines_of(first)[5],
        "CSeq: 2 REGISTER",
        "Contact: <sip:777@127.0.0.1:%d;transport=udp>" % sport,
        "User-Agent: sipvs-molecule",
    ]
    assert lines_of(second)[9] == "Expires: 60"
    assert lines_of(second)[10].startswith('Authorization: Digest username="777", realm="asterisk", nonce="1a2b3c"')
    assert lines_of(second)[11:] == ["Content-Length: 0", "", ""]


def test_invite_then_bye(sip, sip_peer, sip_reply):
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

    def pbx(request, source):
        if request.startswith("INVITE "):
            answer = sip_reply(request, 200, "OK", [("Content-Type", "application/sdp")], sdp)
            return [sip_reply(request, 100, "Trying"), answer]
        if request.startswith("BYE "):
            return [sip_reply(request, 200, "OK")]
        return []

    peer = sip_peer(pbx, count=3)
    result = sip(do="invite", target="127.0.0.1", port=peer.port, bind="127.0.0.1", exten="200")
    assert result == {
        "status": "SIP/2.0 200 OK",
        "source": "127.0.0.1",
        "sdp_c": ["127.0.0.1"],
        "bye": "SIP/2.0 200 OK",
    }
    invite, ack, bye = (request for request, _source in peer.requests)
    uri = "sip:200@127.0.0.1:%d" % peer.port
    offer = _sip.parse_message(invite.encode())
    assert offer[0] == "INVITE %s SIP/2.0" % uri
    assert (offer[1]["content-type"], offer[1]["content-length"]) == ("application/sdp", str(len(offer[2])))
    assert offer[2] == (
        "v=0\r\no=probe 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    for request, cseq in ((ack, "1 ACK"), (bye, "2 BYE")):
        first, headers, body = _sip.parse_message(request.encode())
        assert first == "%s %s SIP/2.0" % (cseq.split()[1], uri)
        assert (headers["to"], headers["cseq"], headers["content-length"], body) == (
            "<%s>;tag=as1" % uri,
            cseq,
            "0",
            "",
        )


def test_no_answer_is_a_timeout(sip, sip_peer):
    peer = sip_peer(lambda request, source: [])
    assert sip(do="options", proto="udp", target="127.0.0.1", port=peer.port, bind="127.0.0.1") == {"error": "timeout"}
