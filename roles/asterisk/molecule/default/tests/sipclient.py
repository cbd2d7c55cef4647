"""A tiny SIP client, run inside the container by the Molecule verify.

Usage: python3 sipclient.py JSON_REQUEST; prints a JSON result. Standard
library only: the test container has nothing but python3.

It builds and reads its messages with the collection's SIP code,
plugins/module_utils/_sip.py, which test_default.py uploads into the same
directory as this file: python3 puts a script's own directory first on
sys.path, so ``import _sip`` finds it there.
"""

import hashlib
import json
import random
import re
import socket
import sys

import _sip

TIMEOUT = 3.0


def branch():
    return "z9hG4bK%08x" % random.getrandbits(32)


def build(method, uri, local, proto, cseq, call_id, tag, extra=(), body="", to_tag="", user="probe", to_uri=None):
    """A request from ``user`` at ``local`` (address, port) to ``uri`` (To: ``to_uri``, by default ``uri``);
    ``extra``: more (name, value) headers after User-Agent."""
    headers = [
        ("Via", "SIP/2.0/%s %s:%d;branch=%s;rport" % (proto.upper(), local[0], local[1], branch())),
        ("Max-Forwards", "70"),
        ("From", "<sip:%s@%s>;tag=%s" % (user, local[0], tag)),
        ("To", "<%s>%s" % (to_uri or uri, (";tag=" + to_tag) if to_tag else "")),
        ("Call-ID", call_id),
        ("CSeq", "%d %s" % (cseq, method)),
        ("Contact", "<sip:%s@%s:%d;transport=%s>" % (user, local[0], local[1], proto)),
        ("User-Agent", "sipvs-molecule"),
        *extra,
    ]
    if body:
        headers.append(("Content-Type", "application/sdp"))
    return _sip.build_request(method, uri, headers, body)


class Client:
    def __init__(self, proto, target, port, bind):
        self.proto = proto
        self.target = (target, port)
        if proto == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((bind, 0))
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind((bind, 0))
            self.sock.settimeout(TIMEOUT)
            self.sock.connect(self.target)
        self.sock.settimeout(TIMEOUT)
        self.local = self.sock.getsockname()
        self.buffer = b""

    def send(self, data):
        if self.proto == "udp":
            self.sock.sendto(data, self.target)
        else:
            self.sock.sendall(data)

    def recv(self):
        """One SIP message: (first line, headers dict, body, source address)."""
        if self.proto == "udp":
            data, source = self.sock.recvfrom(65535)
        else:
            source = self.sock.getpeername()
            data, self.buffer = _sip.take_message(self.buffer)
            while data is None:
                chunk = self.sock.recv(65535)
                if not chunk:
                    raise ValueError("connection closed in the middle of a SIP message: %r" % self.buffer[:200])
                data, self.buffer = _sip.take_message(self.buffer + chunk)
        if b"\r\n\r\n" not in data:
            raise ValueError("not a SIP message: %r" % data[:200])
        first, headers, body = _sip.parse_message(data)
        return first, headers, body, source[0]

    def final(self):
        """Skip provisional replies (and anything that is not a reply); return the first final one."""
        while True:
            reply = self.recv()
            code = _sip.status_code(reply[0])
            if code is not None and code >= 200:
                return reply


def digest(challenge, method, uri, user, password):
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    ha1 = hashlib.md5(("%s:%s:%s" % (user, params["realm"], password)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    if "qop" in params:
        cnonce = "%08x" % random.getrandbits(32)
        response = hashlib.md5(("%s:%s:00000001:%s:auth:%s" % (ha1, params["nonce"], cnonce, ha2)).encode()).hexdigest()
        return (
            "Authorization",
            'Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"'
            % (user, params["realm"], params["nonce"], uri, response, cnonce),
        )
    response = hashlib.md5(("%s:%s:%s" % (ha1, params["nonce"], ha2)).encode()).hexdigest()
    return (
        "Authorization",
        'Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5'
        % (user, params["realm"], params["nonce"], uri, response),
    )


def options(req):
    client = Client(req["proto"], req["target"], req["port"], req["bind"])
    client.send(
        build(
            "OPTIONS",
            "sip:%s:%d" % (req["target"], req["port"]),
            client.local,
            req["proto"],
            1,
            "opt-%x" % random.getrandbits(32),
            "t1",
        )
    )
    status, source = client.recv()[0::3]
    return {"status": status, "source": source}


def register(req):
    client = Client("udp", req["target"], req["port"], req["bind"])
    uri = "sip:%s" % req["target"]
    call_id, statuses = "reg-%x" % random.getrandbits(32), []
    expires = ("Expires", "60")
    client.send(build("REGISTER", uri, client.local, "udp", 1, call_id, "r1", [expires]))
    status, headers = client.final()[:2]
    statuses.append(status)
    if status.split()[1] == "401":
        auth = digest(headers["www-authenticate"], "REGISTER", uri, req["user"], req["password"])
        # The From/To user must be the account for PJSIP to match it.
        to_uri = "sip:%s@%s" % (req["user"], req["target"])
        client.send(
            build(
                "REGISTER", uri, client.local, "udp", 2, call_id, "r1", [expires, auth], user=req["user"], to_uri=to_uri
            )
        )
        status, headers = client.final()[:2]
        statuses.append(status)
    return {"statuses": statuses}


def invite(req):
    client = Client("udp", req["target"], req["port"], req["bind"])
    uri = "sip:%s@%s:%d" % (req["exten"], req["target"], req["port"])
    call_id = "inv-%x" % random.getrandbits(32)
    sdp = (
        "v=0\r\no=probe 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    ).format(ip=client.local[0])
    client.send(build("INVITE", uri, client.local, "udp", 1, call_id, "i1", body=sdp))
    status, headers, body, source = client.final()
    result = {"status": status, "source": source, "sdp_c": re.findall(r"(?m)^c=IN IP4 (\S+)", body)}
    to_tag = (re.search(r";tag=([^;>\s]+)", headers.get("to", "")) or [None, ""])[1]
    client.send(build("ACK", uri, client.local, "udp", 1, call_id, "i1", to_tag=to_tag))
    if status.split()[1] == "200":
        client.send(build("BYE", uri, client.local, "udp", 2, call_id, "i1", to_tag=to_tag))
        result["bye"] = client.final()[0]
    return result


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    try:
        sys.stdout.write(json.dumps(globals()[request["do"]](request)) + "\n")
    except socket.timeout:
        sys.stdout.write(json.dumps({"error": "timeout"}) + "\n")
