"""lab/scenarios/sip_options.py and sip_call.py, run as the lab runs them (python3 FILE ...), against a
fake SIP peer on 127.0.0.1: the requests they send and the JSON lines they print (lab/proof.py, bench/
and molecule/cluster read them) stay as they were when each had its own SIP code."""

import json
import pathlib
import re
import socket
import subprocess
import sys
import threading
import time

SCENARIOS = pathlib.Path(__file__).resolve().parents[3] / "lab" / "scenarios"


def run(script, args):
    """(exit code, JSON lines) of `python3 lab/scenarios/SCRIPT ARGS...`, read as lab/proof.py reads them."""
    result = subprocess.run(
        [sys.executable, str(SCENARIOS / script), *args.split()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stderr == ""
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def method(request):
    return request.split(" ", 1)[0]


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ sip_options.py

PROBE_KEYS = ["seq", "sent", "call_id", "answered", "rtt", "from", "status"]


def test_sip_options_prints_one_line_per_probe_and_sends_the_same_request(sip_peer, sip_reply):
    # Probe 1 gets no answer; the others a provisional, then a final reply.
    def answer(request, source):
        if "-1@sipvs-probe" in request:
            return []
        return [sip_reply(request, 100, "Trying"), sip_reply(request, 200, "OK")]

    peer = sip_peer(answer, count=3)
    rc, probes = run(
        "sip_options.py",
        "127.0.0.1 --port %d --source 127.0.0.1 --count 3 --interval 0.05 --timeout 1.5 --deadline 10" % peer.port,
    )
    assert rc == 0
    assert [list(probe) for probe in probes] == [PROBE_KEYS] * 3
    by_seq = {probe["seq"]: probe for probe in probes}
    assert sorted(by_seq) == [0, 1, 2]
    for seq in (0, 2):
        assert by_seq[seq]["answered"] is True
        assert (by_seq[seq]["from"], by_seq[seq]["status"]) == ("127.0.0.1", "SIP/2.0 200 OK")
        assert 0 <= by_seq[seq]["rtt"] < 1.5
    assert {key: by_seq[1][key] for key in PROBE_KEYS[3:]} == {
        "answered": False,
        "rtt": None,
        "from": None,
        "status": None,
    }
    assert by_seq[0]["sent"] < by_seq[1]["sent"] < by_seq[2]["sent"]
    prefix = by_seq[0]["call_id"].split("-", 1)[0]
    assert re.fullmatch(r"[0-9a-f]{8}", prefix)
    # Each probe from a new socket, each request as it always was.
    assert len({source for _request, source in peer.requests}) == 3
    for request, source in peer.requests:
        seq = int(re.search(r"Call-ID: [0-9a-f]{8}-(\d+)@sipvs-probe", request).group(1))
        assert by_seq[seq]["call_id"] == "%s-%d@sipvs-probe" % (prefix, seq)
        assert request == (
            f"OPTIONS sip:127.0.0.1:{peer.port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{source[1]};rport;branch=z9hG4bK{prefix}{seq}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@127.0.0.1>;tag={prefix}\r\n"
            f"To: <sip:127.0.0.1:{peer.port}>\r\n"
            f"Call-ID: {prefix}-{seq}@sipvs-probe\r\n"
            "CSeq: 1 OPTIONS\r\n"
            f"Contact: <sip:probe@127.0.0.1:{source[1]}>\r\n"
            "Accept: application/sdp\r\n"
            "User-Agent: sipvs-probe\r\n"
            "Content-Length: 0\r\n"
            "\r\n"
        )


def test_sip_options_ignores_other_calls_and_exits_1_when_nothing_answered(sip_peer, sip_reply):
    peer = sip_peer(lambda request, source: [sip_reply(request.replace("@sipvs-probe", "@other"), 200, "OK")])
    rc, probes = run("sip_options.py", "127.0.0.1 --port %d --source 127.0.0.1 --timeout 0.3" % peer.port)
    assert rc == 1
    assert len(probes) == 1
    assert (list(probes[0]), probes[0]["answered"], probes[0]["status"]) == (PROBE_KEYS, False, None)


# ------------------------------------------------------------------ sip_call.py

CALL_KEYS = ["call_id", "invite_status", "reply_from", "sdp_address", "sdp_port"]


class RtpEcho:
    """Sends every datagram back to its sender, for at most 20 s."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.echo, daemon=True)
        self.thread.start()

    def echo(self):
        deadline = time.monotonic() + 20
        while not self.stopped.is_set() and time.monotonic() < deadline:
            try:
                data, source = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            self.sock.sendto(data, source)

    def close(self):
        self.stopped.set()
        self.thread.join(20)
        self.sock.close()


CONTACT = "sip:asterisk@127.0.0.2:5099"


def pbx(sip_reply, invite_code, invite_reason, media_port=0):
    """A peer's replies: INVITE -> 100 then the given final reply (200: SDP answer, Contact); BYE -> 200."""

    def answer(request, source):
        if method(request) == "INVITE" and invite_code == 200:
            sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n"
            extra = [("Contact", "<%s>" % CONTACT), ("Content-Type", "application/sdp")]
            return [sip_reply(request, 100, "Trying"), sip_reply(request, 200, "OK", extra, sdp % media_port)]
        if method(request) == "INVITE":
            return [sip_reply(request, 100, "Trying"), sip_reply(request, invite_code, invite_reason)]
        if method(request) == "BYE":
            return [sip_reply(request, 200, "OK")]
        return []

    return answer


def branch(request):
    """The branch of the request's Via, without the magic cookie: 12 hex digits."""
    value = re.search(r"^Via: .*;branch=z9hG4bK(\w+)", request, re.M).group(1)
    assert re.fullmatch(r"[0-9a-f]{12}", value), request
    return value


def invite_expected(request, port, rtp_port, call_id):
    """The INVITE sip_call.py sends (its random branch and tag taken from `request`), and its (port, tag)."""
    sport = int(re.search(r"^Via: SIP/2.0/UDP 127\.0\.0\.1:(\d+);", request, re.M).group(1))
    tag = re.search(r"^From: .*;tag=([0-9a-f]{8})\r$", request, re.M).group(1)
    sdp = (
        "v=0\r\no=sipvs 1 1 IN IP4 127.0.0.1\r\ns=sipvs\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n" % rtp_port
    )
    text = (
        f"INVITE sip:200@127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{sport};rport;branch=z9hG4bK{branch(request)}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:sipvs-call@127.0.0.1:{sport}>;tag={tag}\r\n"
        f"To: <sip:200@127.0.0.1:{port}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 INVITE\r\n"
        f"Contact: <sip:sipvs-call@127.0.0.1:{sport}>\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n"
        "\r\n"
        f"{sdp}"
    )
    return text, (sport, tag)


def in_dialog_expected(name, uri, via_branch, sport, tag, to, call_id, cseq):
    """An ACK or BYE as sip_call.py sends it."""
    return (
        f"{name} {uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{sport};rport;branch=z9hG4bK{via_branch}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:sipvs-call@127.0.0.1:{sport}>;tag={tag}\r\n"
        f"To: {to}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq}\r\n"
        "Content-Length: 0\r\n"
        "\r\n"
    )


def test_sip_call_answered_call_with_media(sip_peer, sip_reply):
    echo = RtpEcho()
    try:
        peer = sip_peer(pbx(sip_reply, 200, "OK", echo.port), count=3)
        rtp_port = free_udp_port()
        rc, lines = run(
            "sip_call.py",
            "127.0.0.1 --source 127.0.0.1 --port %d --rtp-port %d --listen 0.5 --timeout 3" % (peer.port, rtp_port),
        )
    finally:
        echo.close()
    assert rc == 0
    [result] = lines
    assert list(result) == [*CALL_KEYS, "rtp_packets", "rtp_sources", "rtp_sent", "bye_status"]
    assert result["invite_status"] == "SIP/2.0 200 OK"
    assert (result["reply_from"], result["sdp_address"], result["sdp_port"]) == ("127.0.0.1", "127.0.0.1", echo.port)
    assert result["rtp_sources"] == {"127.0.0.1": result["rtp_packets"]}
    assert 0 < result["rtp_packets"] <= result["rtp_sent"]
    assert result["bye_status"] == "SIP/2.0 200 OK"
    assert re.fullmatch(r"[0-9a-f]{16}@sipvs-call", result["call_id"])
    invite, ack, bye = (request for request, _source in peer.requests)
    expected, (sport, tag) = invite_expected(invite, peer.port, rtp_port, result["call_id"])
    assert invite == expected
    # ACK and BYE go to the answer's Contact, with its To tag, each in a new transaction (branch).
    to = "<sip:200@127.0.0.1:%d>;tag=as1" % peer.port
    assert ack == in_dialog_expected("ACK", CONTACT, branch(ack), sport, tag, to, result["call_id"], "1 ACK")
    assert bye == in_dialog_expected("BYE", CONTACT, branch(bye), sport, tag, to, result["call_id"], "2 BYE")
    assert len({branch(invite), branch(ack), branch(bye)}) == 3


def test_sip_call_refused_call_is_acknowledged_in_its_transaction(sip_peer, sip_reply):
    peer = sip_peer(pbx(sip_reply, 486, "Busy Here"), count=2)
    rtp_port = free_udp_port()
    rc, lines = run(
        "sip_call.py", "127.0.0.1 --source 127.0.0.1 --port %d --rtp-port %d --timeout 3" % (peer.port, rtp_port)
    )
    assert rc == 1
    [result] = lines
    assert list(result) == CALL_KEYS
    assert (result["invite_status"], result["reply_from"], result["sdp_address"], result["sdp_port"]) == (
        "SIP/2.0 486 Busy Here",
        "127.0.0.1",
        None,
        None,
    )
    invite, ack = (request for request, _source in peer.requests)
    expected, (sport, tag) = invite_expected(invite, peer.port, rtp_port, result["call_id"])
    assert invite == expected
    uri, to = "sip:200@127.0.0.1:%d" % peer.port, "<sip:200@127.0.0.1:%d>;tag=as1" % peer.port
    assert ack == in_dialog_expected("ACK", uri, branch(invite), sport, tag, to, result["call_id"], "1 ACK")


def test_sip_call_without_a_final_reply(sip_peer, sip_reply):
    peer = sip_peer(lambda request, source: [sip_reply(request, 100, "Trying")])
    started = time.monotonic()
    rc, lines = run(
        "sip_call.py",
        "127.0.0.1 --source 127.0.0.1 --port %d --rtp-port %d --timeout 0.5" % (peer.port, free_udp_port()),
    )
    assert time.monotonic() - started < 10
    assert rc == 1
    [result] = lines
    assert list(result) == [*CALL_KEYS, "error"]
    assert {key: result[key] for key in CALL_KEYS[1:]} == dict.fromkeys(CALL_KEYS[1:])
    assert result["error"] == "no final reply to INVITE within 0.5s"
