# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIP OPTIONS: the one builder and judge of the collection's SIP health checks.

keepalived's native UDP_CHECK sends ``options_payload``; this file is also the
check program the director role installs (``sipvs.lvs.sip_check_program``) for
keepalived's MISC_CHECK and Piranha's nanny, so both send the same request.

Sends one SIP OPTIONS request to a real server (UDP by default; Via carries
``rport`` so the answer comes back to our port) and waits for a reply whose
first line is a ``SIP/2.0 `` status line, within a timeout. By default any
status code counts as alive (Asterisk answers OPTIONS from unknown peers with
200 or 401); ``--codes`` restricts the accepted codes.

Two output modes:

* default (keepalived MISC_CHECK): exit 0 when healthy, 1 when not; one line
  on stderr says why.
* ``--nanny`` (Piranha nanny's send_program): always exit 0 and print ``OK``
  or ``FAIL`` on stdout, because nanny counts a non-zero exit as healthy.

It is also the SIP message code of the collection's own SIP clients: the lab's
probes (``lab/scenarios/sip_options.py``, ``sip_call.py``) and the asterisk
role's Molecule client build their requests with ``build_request`` and read
what comes back with ``parse_message``, as ``build_options`` and
``parse_reply`` do here.

Python 3 standard library only (it runs on the directors as a plain
program). The role installs it with a ``#!/usr/bin/python3`` line added.
"""

import argparse
import random
import socket
import sys
import time

EXIT_OK = 0
EXIT_FAIL = 1
USER_AGENT = "sipvs-sip-check"

DIGITS = frozenset("0123456789")
# RFC 3261 7.3.3: the compact forms of header names, spelled out by parse_message.
COMPACT_FORMS = {
    "c": "content-type",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "s": "subject",
    "t": "to",
    "v": "via",
}


class CheckFailed(Exception):
    pass


def build_request(method, uri, headers, body=""):
    """A SIP request as bytes: ``METHOD URI SIP/2.0``, then ``headers`` (``(name, value)`` pairs, in order),
    then ``Content-Length`` counted from the UTF-8 ``body``, an empty line and the body.

    Raises ValueError for a line break inside a part (it would start a new header) or a Content-Length
    in ``headers`` (this function counts it).
    """
    for part in [method, uri, *(text for header in headers for text in header)]:
        if "\r" in part or "\n" in part:
            raise ValueError("line break in a part of a SIP request: %r" % part)
    if any(name.strip().lower() in ("content-length", "l") for name, _value in headers):
        raise ValueError("Content-Length is counted by build_request, not given")
    payload = body.encode("utf-8")
    lines = ["%s %s SIP/2.0" % (method, uri)]
    lines.extend("%s: %s" % header for header in headers)
    lines.append("Content-Length: %d" % len(payload))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + payload


def parse_message(data):
    """``(first line, headers, body)`` of a SIP message (bytes; undecodable bytes are replaced).

    ``headers`` maps each lower-case header name, compact forms spelled out (``i`` is ``call-id``), to the
    value of its first occurrence. The head ends at the first empty line (CRLF CRLF); its lines may end in
    CRLF or LF. Lines without a colon are skipped.
    """
    text = data.decode("utf-8", "replace")
    head, _separator, body = text.partition("\r\n\r\n")
    lines = head.replace("\r\n", "\n").split("\n")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            name = name.strip().lower()
            headers.setdefault(COMPACT_FORMS.get(name, name), value.strip())
    return lines[0], headers, body


def status_code(first_line):
    """The code of a ``SIP/2.0 NNN reason`` status line as an int, or None if it is not one."""
    if not first_line.startswith("SIP/2.0 "):
        return None
    code = first_line[8:11]
    if len(code) != 3 or not set(code) <= DIGITS or first_line[11:12] not in ("", " "):
        return None
    return int(code)


def take_message(buffer):
    """Split the first whole SIP message off a stream's bytes: ``(message, rest)``, or ``(None, buffer)``
    while its head or its Content-Length of body has not all arrived (RFC 3261 18.3)."""
    head, separator, rest = buffer.partition(b"\r\n\r\n")
    if not separator:
        return None, buffer
    length = parse_message(head)[1].get("content-length", "0")
    length = int(length) if length and set(length) <= DIGITS else 0
    if len(rest) < length:
        return None, buffer
    return head + separator + rest[:length], rest[length:]


def _token(rand, length=16):
    return "".join(rand.choice("0123456789abcdef") for dummy in range(length))


def _host_part(address):
    return "[%s]" % address if ":" in address else address


def build_options(target, port, transport, local_ip, local_port, rand):
    """The OPTIONS request and its Call-ID."""
    call_id = "%s@%s" % (_token(rand), _host_part(local_ip))
    uri = "sip:%s:%d" % (_host_part(target), port)
    headers = [
        (
            "Via",
            "SIP/2.0/%s %s:%d;branch=z9hG4bK%s;rport"
            % (transport.upper(), _host_part(local_ip), local_port, _token(rand, 12)),
        ),
        ("Max-Forwards", "70"),
        ("From", "<sip:%s@%s>;tag=%s" % (USER_AGENT, _host_part(local_ip), _token(rand, 8))),
        ("To", "<%s>" % uri),
        ("Call-ID", call_id),
        ("CSeq", "1 OPTIONS"),
        ("Contact", "<sip:%s@%s:%d>" % (USER_AGENT, _host_part(local_ip), local_port)),
        ("Accept", "application/sdp"),
        ("User-Agent", USER_AGENT),
    ]
    return build_request("OPTIONS", uri, headers), call_id


def options_payload(target, port, local_ip, local_port):
    """The OPTIONS request of a UDP check from ``local_ip:local_port``, as hex (keepalived's UDP_CHECK payload).

    Its random parts (branch, tag, Call-ID) come from a generator seeded with
    the addresses: the same inputs give the same payload, so a rendered
    keepalived.conf is stable across runs.
    """
    seed = "%s:%d<-%s:%d" % (target, port, local_ip, local_port)
    request, _call_id = build_options(
        str(target), int(port), "udp", str(local_ip), int(local_port), random.Random(seed)
    )
    return request.hex()


def parse_reply(data, call_id):
    """Status code of a SIP reply to our request, or None if ``data`` is not one (a reply without Call-ID counts)."""
    first_line, headers, _body = parse_message(data)
    code = status_code(first_line)
    if code is None or headers.get("call-id", call_id) != call_id:
        return None
    return code


def _messages(sock, where, deadline, timeout, stream):
    """The messages that arrive on ``sock`` until ``deadline``: datagrams, or framed out of a stream."""
    buffer = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise CheckFailed("no SIP reply from %s within %ss" % (where, timeout))
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except socket.timeout:
            continue
        except OSError as exc:
            if stream:
                raise CheckFailed("%s: %s" % (where, exc.strerror or exc)) from None
            if isinstance(exc, ConnectionRefusedError):
                raise CheckFailed("%s refused (ICMP port unreachable)" % where) from None
            raise
        if not stream:
            yield data
            continue
        if not data:
            raise CheckFailed("%s closed the connection without a SIP reply" % where)
        message, buffer = take_message(buffer + data)
        while message is not None:
            yield message
            message, buffer = take_message(buffer)


def _connect(target, port, transport, timeout):
    if transport == "udp":
        sock = socket.socket(socket.AF_INET6 if ":" in target else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            # A connected socket turns ICMP port-unreachable into ConnectionRefusedError.
            sock.connect((target, port))
        except OSError:
            sock.close()
            raise
        return sock
    try:
        return socket.create_connection((target, port), timeout=timeout)
    except socket.timeout:
        raise CheckFailed("no TCP connection to %s:%d within %ss" % (target, port, timeout)) from None
    except OSError as exc:
        raise CheckFailed("cannot connect to %s:%d/tcp: %s" % (target, port, exc.strerror or exc)) from None


def check(target, port, transport, timeout, codes, rand):
    """Send OPTIONS to ``target:port`` over ``transport`` (udp, tcp) and wait up to ``timeout`` seconds
    for its verdict: the status code of a final reply in ``codes`` (any, when empty), or CheckFailed."""
    where = "%s:%d/%s" % (target, port, transport)
    stream = transport == "tcp"
    deadline = time.monotonic() + timeout
    with _connect(target, port, transport, timeout) as sock:
        local_ip, local_port = sock.getsockname()[:2]
        request, call_id = build_options(target, port, transport, local_ip, local_port, rand)
        sock.sendall(request)
        for message in _messages(sock, where, deadline, timeout, stream):
            code = parse_reply(message, call_id)
            if code is None:
                if stream:
                    raise CheckFailed("%s sent something that is not a SIP reply" % where)
                continue
            if not codes or code in codes:
                return code
            if code >= 200:
                raise CheckFailed("%s answered %d, not one of %s" % (where, code, codes))


def _codes(text):
    codes = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 100 <= int(part) <= 699:
            raise argparse.ArgumentTypeError("not a SIP status code: %r" % part)
        codes.append(int(part))
    return codes


def _timeout(text):
    value = float(text)
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError("timeout must be in (0, 300] seconds")
    return value


def _port(text):
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("port must be in 1-65535")
    return value


def parser():
    result = argparse.ArgumentParser(
        prog="sipvs-sip-check",
        description="Send SIP OPTIONS to a real server and judge its reply"
        " (keepalived MISC_CHECK, Piranha nanny send_program).",
        epilog="Exit status without --nanny: 0 healthy, 1 unhealthy. With --nanny: always 0; prints OK or FAIL.",
    )
    result.add_argument("host", help="real server address (nanny: %%h)")
    result.add_argument("port_arg", nargs="?", type=_port, metavar="PORT", help="port (nanny: %%p); as --port")
    result.add_argument("-p", "--port", type=_port, default=None, help="SIP port (default 5060)")
    result.add_argument("-t", "--timeout", type=_timeout, default=2.0, help="seconds to wait (default 2)")
    result.add_argument("-T", "--transport", choices=("udp", "tcp"), default="udp", help="default udp")
    result.add_argument(
        "-c",
        "--codes",
        type=_codes,
        default=[],
        help="comma-separated status codes that count as healthy (default: any SIP/2.0 status)",
    )
    result.add_argument("--nanny", action="store_true", help="always exit 0; print OK or FAIL (Piranha nanny)")
    result.add_argument("-q", "--quiet", action="store_true", help="no message on stderr")
    return result


def main(argv=None, out=None, err=None):
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    args = parser().parse_args(argv)
    port = args.port or args.port_arg or 5060
    rand = random.SystemRandom()
    try:
        target = socket.getaddrinfo(args.host, port, 0, socket.SOCK_DGRAM)[0][4][0]
        code = check(target, port, args.transport, args.timeout, args.codes, rand)
    except (CheckFailed, OSError) as exc:
        if not args.quiet:
            err.write("FAIL %s\n" % exc)
        if args.nanny:
            out.write("FAIL\n")
            return EXIT_OK
        return EXIT_FAIL
    if not args.quiet:
        err.write("OK %s:%d/%s answered %d\n" % (target, port, args.transport, code))
    if args.nanny:
        out.write("OK\n")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
