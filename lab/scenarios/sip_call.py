"""One SIP call with audio, run inside the client's network namespace.

python3 sip_call.py TARGET --source ADDR [--extension 200] [--port 5060]
                           [--rtp-port 40000] [--listen 4] [--timeout 10]

INVITE (SDP offer: PCMU at ADDR:rtp-port) → final reply → ACK → send and count
RTP for `listen` seconds → BYE. Prints one JSON object: the INVITE's final
status, the address the reply came from, the connection address and port of
the SDP answer, RTP packets received by source address, and the BYE's status.
Exit 0 when the call was answered (200) and RTP arrived, 1 otherwise.
Bounded in time: every wait has a timeout.
"""

import argparse
import json
import os
import pathlib
import socket
import struct
import sys
import time

# The collection's SIP message code (plugins/module_utils/_sip.py, standard library only) is
# imported as a plain module from this checkout: the lab runs this file as a script
# (python3 lab/scenarios/sip_call.py) inside a network namespace, outside any venv.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "plugins" / "module_utils"))

import _sip


def wait_reply(sock, timeout, wanted):
    """The first reply within `timeout` s for which wanted(code, headers) is true:
    (code, status line, headers, body, sender), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, sender = sock.recvfrom(65535)
        except socket.timeout:
            break
        first, headers, body = _sip.parse_message(data)
        code = _sip.status_code(first)
        if code is not None and wanted(code, headers):
            return code, first, headers, body, sender
    return None


def sdp_media(body):
    address, port = None, None
    for line in body.splitlines():
        if line.startswith("c=IN IP4 "):
            address = line.split()[2]
        elif line.startswith("m=audio "):
            port = int(line.split()[1])
    return address, port


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target")
    parser.add_argument("--source", required=True)
    parser.add_argument("--extension", default="200")
    parser.add_argument("--port", type=int, default=5060)
    parser.add_argument("--rtp-port", type=int, default=40000)
    parser.add_argument("--listen", type=float, default=4.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)

    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind((args.source, 0))
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind((args.source, args.rtp_port))
    local_port = sip.getsockname()[1]
    tag = os.urandom(4).hex()
    call_id = "%s@sipvs-call" % os.urandom(8).hex()
    uri = "sip:%s@%s:%d" % (args.extension, args.target, args.port)
    from_header = ("From", "<sip:sipvs-call@%s:%d>;tag=%s" % (args.source, local_port, tag))
    contact = ("Contact", "<sip:sipvs-call@%s:%d>" % (args.source, local_port))

    def via():
        return ("Via", "SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s" % (args.source, local_port, os.urandom(6).hex()))

    sdp = "\r\n".join(
        [
            "v=0",
            "o=sipvs 1 1 IN IP4 %s" % args.source,
            "s=sipvs",
            "c=IN IP4 %s" % args.source,
            "t=0 0",
            "m=audio %d RTP/AVP 0" % args.rtp_port,
            "a=rtpmap:0 PCMU/8000",
            "a=sendrecv",
            "",
        ]
    )
    result = {"call_id": call_id, "invite_status": None, "reply_from": None, "sdp_address": None, "sdp_port": None}
    invite_via = via()
    sip.sendto(
        _sip.build_request(
            "INVITE",
            uri,
            [
                invite_via,
                ("Max-Forwards", "70"),
                from_header,
                ("To", "<%s>" % uri),
                ("Call-ID", call_id),
                ("CSeq", "1 INVITE"),
                contact,
                ("Content-Type", "application/sdp"),
            ],
            sdp,
        ),
        (args.target, args.port),
    )
    final = wait_reply(sip, args.timeout, lambda code, headers: code >= 200 and headers.get("call-id") == call_id)
    if final is None:
        result["error"] = "no final reply to INVITE within %ss" % args.timeout
        sys.stdout.write(json.dumps(result) + "\n")
        return 1
    code, first, headers, body, sender = final
    result["invite_status"] = first
    result["reply_from"] = sender[0]
    to_header = ("To", headers.get("to", "<%s>" % uri))
    request_uri = uri
    if "contact" in headers and "<" in headers["contact"]:
        request_uri = headers["contact"].split("<", 1)[1].split(">", 1)[0]
    ack_headers = [via(), ("Max-Forwards", "70"), from_header, to_header, ("Call-ID", call_id)]
    if code >= 300:
        # A failed INVITE is acknowledged within its own transaction (same branch, same URI).
        sip.sendto(
            _sip.build_request("ACK", uri, [invite_via, *ack_headers[1:], ("CSeq", "1 ACK")]),
            (args.target, args.port),
        )
        sys.stdout.write(json.dumps(result) + "\n")
        return 1
    sip.sendto(_sip.build_request("ACK", request_uri, [*ack_headers, ("CSeq", "1 ACK")]), (args.target, args.port))
    media_address, media_port = sdp_media(body)
    result["sdp_address"], result["sdp_port"] = media_address, media_port

    # Send 20 ms PCMU frames to the answer's address (symmetric RTP) and count what comes back.
    sources = {}
    packets = 0
    seq = 0
    end = time.monotonic() + args.listen
    next_send = time.monotonic()
    rtp.setblocking(False)
    ssrc = struct.unpack("!I", os.urandom(4))[0]
    while time.monotonic() < end:
        now = time.monotonic()
        if media_address and media_port and now >= next_send:
            header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc)
            rtp.sendto(header + b"\xff" * 160, (media_address, media_port))
            seq += 1
            next_send += 0.02
        try:
            data, rtp_sender = rtp.recvfrom(2048)
        except (BlockingIOError, InterruptedError):
            time.sleep(0.002)
            continue
        if len(data) >= 12 and data[0] >> 6 == 2:
            packets += 1
            sources[rtp_sender[0]] = sources.get(rtp_sender[0], 0) + 1
    result["rtp_packets"] = packets
    result["rtp_sources"] = sources
    result["rtp_sent"] = seq

    sip.sendto(
        _sip.build_request(
            "BYE",
            request_uri,
            [via(), ("Max-Forwards", "70"), from_header, to_header, ("Call-ID", call_id), ("CSeq", "2 BYE")],
        ),
        (args.target, args.port),
    )
    bye = wait_reply(sip, args.timeout, lambda code, headers: headers.get("cseq", "").endswith("BYE"))
    if bye is not None:
        result["bye_status"] = bye[1]
    sys.stdout.write(json.dumps(result) + "\n")
    return 0 if code == 200 and packets > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
