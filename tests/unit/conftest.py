"""Fixtures shared by the unit tests: a fake SIP peer on 127.0.0.1 for the collection's SIP code and clients."""

import socket
import threading
import time

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils import _sip

# No peer outlives this many seconds, whatever its client does.
PEER_LIFETIME = 20.0


class SipPeer:
    """A SIP peer on 127.0.0.1 that answers each request with ``replies(request, source)``, a list of messages (bytes).

    ``udp``: each datagram is a request. ``tcp``: each connection carries one request (read up to its empty
    line); the peer sends the replies, waits 0.2 s and closes it. It serves at most ``count`` requests,
    within ``PEER_LIFETIME`` seconds, and records them as ``(text, source)`` in ``requests``.
    """

    def __init__(self, replies, transport="udp", count=1):
        self.stream = transport == "tcp"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if self.stream else socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        if self.stream:
            self.sock.listen(1)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.replies = replies
        self.count = count
        self.requests = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        deadline = time.monotonic() + PEER_LIFETIME
        while len(self.requests) < self.count and not self.stopped.is_set() and time.monotonic() < deadline:
            try:
                if self.stream:
                    self.serve_connection()
                else:
                    data, source = self.sock.recvfrom(65535)
                    for reply in self.answer(data, source):
                        self.sock.sendto(reply, source)
            except socket.timeout:
                continue
            except OSError:
                return

    def serve_connection(self):
        conn, source = self.sock.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65535)
                if not chunk:
                    return
                data += chunk
            for reply in self.answer(data, source):
                conn.sendall(reply)
            time.sleep(0.2)

    def answer(self, data, source):
        request = data.decode()
        self.requests.append((request, source))
        return self.replies(request, source)

    def close(self):
        self.stopped.set()
        self.thread.join(PEER_LIFETIME)
        self.sock.close()


@pytest.fixture
def sip_peer():
    """Start SipPeer(replies, transport="udp", count=1) peers; all are closed after the test."""
    peers = []

    def start(replies, transport="udp", count=1):
        peer = SipPeer(replies, transport, count)
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.close()


def reply(request, code, reason, extra=(), body="", to_tag="as1"):
    """An Asterisk-like reply to ``request`` (text): its Via, From, Call-ID and CSeq, To with ``to_tag``, then
    the ``extra`` (name, value) headers, Content-Length and ``body``."""
    _first, headers, _body = _sip.parse_message(request.encode())
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    lines += ["%s: %s" % (name, headers[name.lower()]) for name in ("Via", "From")]
    lines.append("To: %s;tag=%s" % (headers["to"], to_tag))
    lines += ["%s: %s" % (name, headers[name.lower()]) for name in ("Call-ID", "CSeq")]
    lines += ["%s: %s" % header for header in extra]
    lines.append("Content-Length: %d" % len(body.encode()))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


@pytest.fixture
def sip_reply():
    """reply(request, code, reason, extra=(), body="", to_tag="as1") -> bytes, for a SipPeer's replies."""
    return reply
