"""module_utils/_sip.py, the director's SIP health check, against real sockets on 127.0.0.1."""

import io
import pathlib
import socket
import subprocess
import sys
import time

import pytest
from ansible_collections.sipvs.lvs.plugins.module_utils import _sip as sipcheck

PROGRAM = pathlib.Path(sipcheck.__file__)


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


def test_build_request_counts_the_body_in_bytes_and_keeps_the_header_order():
    body = "v=0\r\ns=caf\u00e9\r\n"  # 13 characters, 14 bytes
    data = sipcheck.build_request("INVITE", "sip:200@10.0.0.1", [("Call-ID", "a@b"), ("Via", "SIP/2.0/UDP x")], body)
    assert data == (
        b"INVITE sip:200@10.0.0.1 SIP/2.0\r\nCall-ID: a@b\r\nVia: SIP/2.0/UDP x\r\nContent-Length: 14\r\n\r\n"
        + body.encode("utf-8")
    )
    assert sipcheck.build_request("OPTIONS", "sip:x", []) == b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize(
    "method,uri,headers",
    [
        ("OPTIONS", "sip:x\r\nX-Evil: 1", []),
        ("OPTIONS", "sip:x", [("To", "<sip:x>\nX-Evil: 1")]),
        ("OPTIONS", "sip:x", [("Content-Length", "5")]),
        ("OPTIONS", "sip:x", [("l", "5")]),
    ],
)
def test_build_request_refuses_line_breaks_and_a_given_content_length(method, uri, headers):
    with pytest.raises(ValueError):
        sipcheck.build_request(method, uri, headers)


def test_parse_message_lower_cases_names_spells_out_compact_forms_and_keeps_the_first_value():
    first, headers, body = sipcheck.parse_message(
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a\r\nv: SIP/2.0/UDP b\r\ni: abc@h\r\nCSEQ: 2 BYE\r\n"
        b"no colon here\r\nl: 4\r\n\r\nv=0\n"
    )
    assert first == "SIP/2.0 200 OK"
    assert headers == {"via": "SIP/2.0/UDP a", "call-id": "abc@h", "cseq": "2 BYE", "content-length": "4"}
    assert body == "v=0\n"
    # Bare LF line ends in the head; bytes that are not UTF-8 are replaced, not an error.
    assert sipcheck.parse_message(b"SIP/2.0 100 Trying\nCall-ID: \xff\n") == (
        "SIP/2.0 100 Trying",
        {"call-id": "\ufffd"},
        "",
    )


@pytest.mark.parametrize(
    "line,code",
    [
        ("SIP/2.0 200 OK", 200),
        ("SIP/2.0 401", 401),
        ("SIP/2.0 2000 OK", None),
        ("SIP/2.0 abc OK", None),
        ("SIP/2.0 \u00b200 OK", None),
        ("SIP/2.0  200 OK", None),
        ("OPTIONS sip:x SIP/2.0", None),
        ("", None),
    ],
)
def test_status_code(line, code):
    assert sipcheck.status_code(line) == code


def test_take_message_frames_a_stream_by_content_length():
    first = b"SIP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    second = b"SIP/2.0 100 Trying\r\n\r\n"
    assert sipcheck.take_message(first[:-1]) == (None, first[:-1])
    assert sipcheck.take_message(first + second + b"SIP/2.0") == (first, second + b"SIP/2.0")
    assert sipcheck.take_message(second) == (second, b"")
    assert sipcheck.take_message(b"SIP/2.0 200 OK\r\n") == (None, b"SIP/2.0 200 OK\r\n")


def test_parse_reply_matches_the_call_id_in_either_form():
    assert sipcheck.parse_reply(b"SIP/2.0 200 OK\r\ni: abc\r\n\r\n", "abc") == 200
    assert sipcheck.parse_reply(b"SIP/2.0 200 OK\r\nCall-ID: other\r\n\r\n", "abc") is None
    assert sipcheck.parse_reply(b"SIP/2.0 180 Ringing\r\n\r\n", "abc") == 180


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    rc = sipcheck.main([str(a) for a in args], out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def test_asterisk_200_is_healthy_in_both_modes(sip_peer):
    server = sip_peer(lambda req, src: [asterisk_reply(req, source=src)])
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
    server2 = sip_peer(lambda req, src: [asterisk_reply(req, source=src)])
    # nanny's form: positional %h %p, always exit 0, OK on stdout.
    assert run("--nanny", "127.0.0.1", server2.port)[:2] == (0, "OK\n")


def test_401_counts_as_alive_unless_codes_say_otherwise(sip_peer):
    server = sip_peer(lambda req, src: [asterisk_reply(req, 401, "Unauthorized", source=src)])
    assert run("127.0.0.1", "-p", server.port)[0] == 0
    server = sip_peer(lambda req, src: [asterisk_reply(req, 401, "Unauthorized", source=src)])
    rc, out, err = run("127.0.0.1", "-p", server.port, "--codes", "200,404")
    assert (rc, out) == (1, "")
    assert "answered 401, not one of [200, 404]" in err
    server = sip_peer(lambda req, src: [asterisk_reply(req, 401, "Unauthorized", source=src)])
    assert run("--nanny", "127.0.0.1", "-p", server.port, "-c", "200")[:2] == (0, "FAIL\n")


def test_provisional_then_final(sip_peer):
    server = sip_peer(
        lambda req, src: [asterisk_reply(req, 100, "Trying", source=src), asterisk_reply(req, 200, source=src)]
    )
    assert run("127.0.0.1", "-p", server.port, "-c", "200")[0] == 0


def test_no_reply_times_out(sip_peer):
    server = sip_peer(lambda req, src: [])
    started = time.monotonic()
    rc, out, err = run("127.0.0.1", "-p", server.port, "-t", "0.4")
    elapsed = time.monotonic() - started
    assert (rc, out) == (1, "")
    assert err == "FAIL no SIP reply from 127.0.0.1:%d/udp within 0.4s\n" % server.port
    assert 0.35 <= elapsed < 2
    server = sip_peer(lambda req, src: [])
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
def test_garbage_is_not_a_reply(sip_peer, reply):
    server = sip_peer(lambda req, src: [reply])
    rc, out, err = run("127.0.0.1", "-p", server.port, "-t", "0.3")
    assert (rc, out) == (1, "")
    assert "no SIP reply" in err


def test_reply_to_another_call_is_ignored(sip_peer):
    server = sip_peer(lambda req, src: [asterisk_reply(req, call_id="someone-else@10.0.0.1", source=src)])
    assert run("127.0.0.1", "-p", server.port, "-t", "0.3")[0] == 1


def test_tcp_transport(sip_peer):
    server = sip_peer(lambda req, src: [asterisk_reply(req, source=src)], transport="tcp")
    assert run("127.0.0.1", "-p", server.port, "-T", "tcp")[0] == 0
    assert server.requests[0][0].split("\r\n")[1].startswith("Via: SIP/2.0/TCP 127.0.0.1:")
    server = sip_peer(lambda req, src: [b"HTTP/1.0 400 Bad Request\r\n\r\n"], transport="tcp")
    rc, out, err = run("127.0.0.1", "-p", server.port, "-T", "tcp")
    assert (rc, out) == (1, "")
    assert "not a SIP reply" in err
    # A reply with a body is read whole (Content-Length) before the next message.
    server = sip_peer(
        lambda req, src: [
            asterisk_reply(req, 100, "Trying", source=src).replace(b"Content-Length: 0", b"Content-Length: 5")
            + b"v=0\r\n",
            asterisk_reply(req, source=src),
        ],
        transport="tcp",
    )
    assert run("127.0.0.1", "-p", server.port, "-T", "tcp", "-c", "200")[0] == 0
    server = sip_peer(lambda req, src: [], transport="tcp")
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


def test_as_a_program(sip_peer):
    """The installed form: a process, its exit code and output."""
    help_run = subprocess.run(
        [sys.executable, str(PROGRAM), "--help"], check=False, capture_output=True, text=True, timeout=30
    )
    assert help_run.returncode == 0
    assert "usage: sipvs-sip-check" in help_run.stdout
    server = sip_peer(lambda req, src: [asterisk_reply(req, source=src)])
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
