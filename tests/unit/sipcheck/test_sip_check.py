"""The director's SIP health check against real sockets on 127.0.0.1."""

import importlib.util
import io
import pathlib
import socket
import subprocess
import sys
import threading
import time

import pytest

PROGRAM = pathlib.Path(__file__).resolve().parents[3] / "roles/director/files/sipvs_sip_check.py"
_spec = importlib.util.spec_from_file_location("sipvs_sip_check", PROGRAM)
sipcheck = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sipcheck)


def header(request, name):
    for line in request.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no %s header in %r" % (name, request))


def asterisk_reply(request, code=200, reason="OK", call_id=None, source=("127.0.0.1", 0)):
    """What Asterisk sends back to an OPTIONS: Via with received/rport filled in."""
    via = header(request, "Via").replace(";rport", ";rport=%d;received=%s" % (source[1], source[0]))
    return (
        "SIP/2.0 %d %s\r\n"
        "Via: %s\r\n"
        "Call-ID: %s\r\n"
        "From: %s\r\n"
        "To: %s;tag=as123\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Accept: application/sdp\r\n"
        "Allow: OPTIONS, INVITE, ACK, BYE, CANCEL\r\n"
        "Server: Asterisk PBX 22.0.0\r\n"
        "Content-Length: 0\r\n\r\n"
        % (code, reason, via, call_id or header(request, "Call-ID"), header(request, "From"), header(request, "To"))
    ).encode()


class UdpServer:
    """A UDP SIP peer on 127.0.0.1 that answers with ``replies(request, source)`` -> list of datagrams."""

    def __init__(self, replies):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.replies = replies
        self.requests = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            data, source = self.sock.recvfrom(65535)
        except OSError:
            return
        request = data.decode()
        self.requests.append((request, source))
        for reply in self.replies(request, source):
            self.sock.sendto(reply, source)

    def close(self):
        self.thread.join(6)
        self.sock.close()


class TcpServer:
    def __init__(self, replies):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.replies = replies
        self.requests = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, source = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65535)
                if not chunk:
                    return
                data += chunk
            request = data.decode()
            self.requests.append((request, source))
            for reply in self.replies(request, source):
                conn.sendall(reply)
            time.sleep(0.2)

    def close(self):
        self.thread.join(6)
        self.sock.close()


@pytest.fixture
def serve():
    servers = []

    def start(replies, kind=UdpServer):
        server = kind(replies)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    rc = sipcheck.main([str(a) for a in args], out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def test_asterisk_200_is_healthy_in_both_modes(serve):
    server = serve(lambda req, src: [asterisk_reply(req, source=src)])
    assert run("127.0.0.1", "--port", server.port, "--timeout", 2) == (
        0,
        "",
        "OK 127.0.0.1:%d/udp answered 200\n" % server.port,
    )
    request, source = server.requests[0]
    assert request.startswith("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n" % server.port)
    via = header(request, "Via")
    assert via.startswith("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK" % source[1])
    assert via.endswith(";rport")
    assert header(request, "CSeq") == "1 OPTIONS"
    assert header(request, "Content-Length") == "0"
    assert request.endswith("\r\n\r\n")
    server2 = serve(lambda req, src: [asterisk_reply(req, source=src)])
    # nanny's form: positional %h %p, always exit 0, OK on stdout.
    assert run("--nanny", "127.0.0.1", server2.port)[:2] == (0, "OK\n")


def test_401_counts_as_alive_unless_codes_say_otherwise(serve):
    server = serve(lambda req, src: [asterisk_reply(req, 401, "Unauthorized", source=src)])
    assert run("127.0.0.1", "-p", server.port)[0] == 0
    server = serve(lambda req, src: [asterisk_reply(req, 401, "Unauthorized", source=src)])
    rc, out, err = run("127.0.0.1", "-p", server.port, "--codes", "200,404")
    assert (rc, out) == (1, "")
    assert "answered 401, not one of [200, 404]" in err
    server = serve(lambda req, src: [asterisk_reply(req, 401, "Unauthorized", source=src)])
    assert run("--nanny", "127.0.0.1", "-p", server.port, "-c", "200")[:2] == (0, "FAIL\n")


def test_provisional_then_final(serve):
    server = serve(
        lambda req, src: [asterisk_reply(req, 100, "Trying", source=src), asterisk_reply(req, 200, source=src)]
    )
    assert run("127.0.0.1", "-p", server.port, "-c", "200")[0] == 0


def test_no_reply_times_out(serve):
    server = serve(lambda req, src: [])
    started = time.monotonic()
    rc, out, err = run("127.0.0.1", "-p", server.port, "-t", "0.4")
    elapsed = time.monotonic() - started
    assert (rc, out) == (1, "")
    assert err == "FAIL no SIP reply from 127.0.0.1:%d/udp within 0.4s\n" % server.port
    assert 0.35 <= elapsed < 2
    server = serve(lambda req, src: [])
    assert run("--nanny", "127.0.0.1", "-p", server.port, "-t", "0.3")[:2] == (0, "FAIL\n")


def closed_udp_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_icmp_port_unreachable_fails_fast():
    port = closed_udp_port()
    started = time.monotonic()
    rc, out, err = run("127.0.0.1", "-p", port, "-t", "5")
    assert (rc, out) == (1, "")
    assert "refused (ICMP port unreachable)" in err
    assert time.monotonic() - started < 2
    assert run("--nanny", "-q", "127.0.0.1", port, "-t", "5") == (0, "FAIL\n", "")


@pytest.mark.parametrize(
    "reply",
    [
        b"\x00\xff garbage \x13\x37",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"SIP/2.0 2000 OK\r\n\r\n",
        b"SIP/2.0 abc OK\r\n\r\n",
        b"OPTIONS sip:x SIP/2.0\r\n\r\n",
    ],
)
def test_garbage_is_not_a_reply(serve, reply):
    server = serve(lambda req, src: [reply])
    rc, out, err = run("127.0.0.1", "-p", server.port, "-t", "0.3")
    assert (rc, out) == (1, "")
    assert "no SIP reply" in err


def test_reply_to_another_call_is_ignored(serve):
    server = serve(lambda req, src: [asterisk_reply(req, call_id="someone-else@10.0.0.1", source=src)])
    assert run("127.0.0.1", "-p", server.port, "-t", "0.3")[0] == 1


def test_tcp_transport(serve):
    server = serve(lambda req, src: [asterisk_reply(req, source=src)], kind=TcpServer)
    assert run("127.0.0.1", "-p", server.port, "-T", "tcp")[0] == 0
    assert server.requests[0][0].split("\r\n")[1].startswith("Via: SIP/2.0/TCP 127.0.0.1:")
    server = serve(lambda req, src: [b"HTTP/1.0 400 Bad Request\r\n\r\n"], kind=TcpServer)
    rc, out, err = run("127.0.0.1", "-p", server.port, "-T", "tcp")
    assert (rc, out) == (1, "")
    assert "not a SIP reply" in err
    server = serve(lambda req, src: [], kind=TcpServer)
    result = run("127.0.0.1", "-p", server.port, "-T", "tcp", "-t", "5")
    assert result[0] == 1
    assert "closed the connection without a SIP reply" in result[2]


def test_tcp_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    rc, out, err = run("--nanny", "-T", "tcp", "127.0.0.1", port)
    assert (rc, out) == (0, "FAIL\n")
    assert "cannot connect to 127.0.0.1:%d/tcp" % port in err


@pytest.mark.parametrize(
    "args",
    [["--codes", "99", "127.0.0.1"], ["-t", "0", "127.0.0.1"], ["-p", "70000", "127.0.0.1"], ["-T", "sctp", "x"], []],
)
def test_bad_arguments_exit_2(args):
    with pytest.raises(SystemExit) as exc:
        sipcheck.main(args, out=io.StringIO(), err=io.StringIO())
    assert exc.value.code == 2


def test_as_a_program(serve):
    """The installed form: a process, its exit code and output."""
    help_run = subprocess.run(
        [sys.executable, str(PROGRAM), "--help"], check=False, capture_output=True, text=True, timeout=30
    )
    assert help_run.returncode == 0
    assert "usage: sipvs-sip-check" in help_run.stdout
    server = serve(lambda req, src: [asterisk_reply(req, source=src)])
    ok = subprocess.run(
        [sys.executable, str(PROGRAM), "127.0.0.1", "-p", str(server.port)],
        check=False,
        capture_output=True,
        timeout=30,
    )
    assert ok.returncode == 0
    port = closed_udp_port()
    down = subprocess.run(
        [sys.executable, str(PROGRAM), "127.0.0.1", "-p", str(port)], check=False, capture_output=True, timeout=30
    )
    assert down.returncode == 1
    nanny = subprocess.run(
        [sys.executable, str(PROGRAM), "--nanny", "127.0.0.1", str(port)],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (nanny.returncode, nanny.stdout) == (0, "FAIL\n")
