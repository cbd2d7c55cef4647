# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIP health check for LVS real servers (installed by the sipvs.lvs director role).

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

Python 3 standard library only. The role installs it with a
``#!/usr/bin/python3`` line added.
"""

import argparse
import random
import socket
import sys
import time

EXIT_OK = 0
EXIT_FAIL = 1
USER_AGENT = "sipvs-sip-check"


class CheckFailed(Exception):
    pass


def _token(rand, length=16):
    return "".join(rand.choice("0123456789abcdef") for dummy in range(length))


def _host_part(address):
    return "[%s]" % address if ":" in address else address


def build_options(target, port, transport, local_ip, local_port, rand):
    """The OPTIONS request and its Call-ID."""
    call_id = "%s@%s" % (_token(rand), _host_part(local_ip))
    lines = [
        "OPTIONS sip:%s:%d SIP/2.0" % (_host_part(target), port),
        "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s;rport"
        % (transport.upper(), _host_part(local_ip), local_port, _token(rand, 12)),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=%s" % (USER_AGENT, _host_part(local_ip), _token(rand, 8)),
        "To: <sip:%s:%d>" % (_host_part(target), port),
        "Call-ID: %s" % call_id,
        "CSeq: 1 OPTIONS",
        "Contact: <sip:%s@%s:%d>" % (USER_AGENT, _host_part(local_ip), local_port),
        "Accept: application/sdp",
        "User-Agent: %s" % USER_AGENT,
        "Content-Length: 0",
        "",
        "",
    ]
    return "\r\n".join(lines).encode("ascii"), call_id


def parse_reply(data, call_id):
    """Status code of a SIP reply to our request, or None if ``data`` is not one."""
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0].replace("\r\n", "\n")
    lines = head.split("\n")
    status = lines[0]
    if not status.startswith("SIP/2.0 "):
        return None
    code = status[8:11]
    if len(code) != 3 or not code.isdigit() or (len(status) > 11 and status[11] != " "):
        return None
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() in ("call-id", "i") and value.strip() != call_id:
            return None
    return int(code)


def _judge(code, codes):
    if not codes:
        return True
    return code in codes


def check_udp(target, port, timeout, codes, rand):
    family = socket.AF_INET6 if ":" in target else socket.AF_INET
    deadline = time.monotonic() + timeout
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        # A connected socket turns ICMP port-unreachable into ConnectionRefusedError.
        sock.connect((target, port))
        local_ip, local_port = sock.getsockname()[:2]
        request, call_id = build_options(target, port, "udp", local_ip, local_port, rand)
        sock.send(request)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckFailed("no SIP reply from %s:%d/udp within %ss" % (target, port, timeout))
            sock.settimeout(left)
            try:
                data = sock.recv(65535)
            except socket.timeout:
                continue
            except ConnectionRefusedError:
                raise CheckFailed("%s:%d/udp refused (ICMP port unreachable)" % (target, port)) from None
            code = parse_reply(data, call_id)
            if code is None:
                continue
            if _judge(code, codes):
                return code
            if code >= 200:
                raise CheckFailed("%s:%d/udp answered %d, not one of %s" % (target, port, code, codes))


def check_tcp(target, port, timeout, codes, rand):
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((target, port), timeout=timeout)
    except socket.timeout:
        raise CheckFailed("no TCP connection to %s:%d within %ss" % (target, port, timeout)) from None
    except OSError as exc:
        raise CheckFailed("cannot connect to %s:%d/tcp: %s" % (target, port, exc.strerror or exc)) from None
    with sock:
        local_ip, local_port = sock.getsockname()[:2]
        request, call_id = build_options(target, port, "tcp", local_ip, local_port, rand)
        sock.sendall(request)
        buffer = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckFailed("no SIP reply from %s:%d/tcp within %ss" % (target, port, timeout))
            sock.settimeout(left)
            try:
                chunk = sock.recv(65535)
            except socket.timeout:
                continue
            except OSError as exc:
                raise CheckFailed("%s:%d/tcp: %s" % (target, port, exc.strerror or exc)) from None
            if not chunk:
                raise CheckFailed("%s:%d/tcp closed the connection without a SIP reply" % (target, port))
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                message, buffer = buffer.split(b"\r\n\r\n", 1)
                code = parse_reply(message + b"\r\n\r\n", call_id)
                if code is None:
                    raise CheckFailed("%s:%d/tcp sent something that is not a SIP reply" % (target, port))
                if _judge(code, codes):
                    return code
                if code >= 200:
                    raise CheckFailed("%s:%d/tcp answered %d, not one of %s" % (target, port, code, codes))


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
        if args.transport == "udp":
            code = check_udp(target, port, args.timeout, args.codes, rand)
        else:
            code = check_tcp(target, port, args.timeout, args.codes, rand)
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
    sys.exit(main())
