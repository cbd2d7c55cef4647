"""SIP OPTIONS prober, run inside the client's network namespace.

python3 sip_options.py TARGET [--port 5060] [--count N] [--interval S] [--timeout S]
                              [--source ADDR] [--deadline S]

Sends `count` OPTIONS requests, one every `interval` seconds, each from a new
UDP socket (a new IPVS connection, so the director schedules every probe), and
prints one JSON line per probe as soon as it is settled:
{"seq", "sent" (monotonic s), "answered", "rtt", "from", "status"}.
A probe is answered when a reply carrying its Call-ID and a `SIP/2.0 ` status
line arrives within `timeout`. Bounded: at most `count` probes and `deadline`
seconds in all. Exit 0 when at least one probe was answered, 1 otherwise.
"""

import argparse
import json
import os
import pathlib
import selectors
import socket
import sys
import time

# The collection's SIP message code (plugins/module_utils/_sip.py, standard library only) is
# imported as a plain module from this checkout: the lab runs this file as a script
# (python3 lab/scenarios/sip_options.py) inside a network namespace, outside any venv.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "plugins" / "module_utils"))

import _sip


def options_request(target, port, source, source_port, call_id, branch, tag):
    uri = "sip:%s:%d" % (target, port)
    headers = [
        ("Via", "SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s" % (source, source_port, branch)),
        ("Max-Forwards", "70"),
        ("From", "<sip:probe@%s>;tag=%s" % (source, tag)),
        ("To", "<%s>" % uri),
        ("Call-ID", call_id),
        ("CSeq", "1 OPTIONS"),
        ("Contact", "<sip:probe@%s:%d>" % (source, source_port)),
        ("Accept", "application/sdp"),
        ("User-Agent", "sipvs-probe"),
    ]
    return _sip.build_request("OPTIONS", uri, headers)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target")
    parser.add_argument("--port", type=int, default=5060)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--source", default="0.0.0.0")
    parser.add_argument("--deadline", type=float, default=600.0)
    args = parser.parse_args(argv)
    if args.count < 1 or args.interval <= 0 or args.timeout <= 0:
        parser.error("count, interval and timeout must be positive")

    selector = selectors.DefaultSelector()
    pending = {}  # socket -> probe
    started = time.monotonic()
    next_send = started
    sent = 0
    answered = 0
    prefix = os.urandom(4).hex()

    def settle(probe, reply_from=None, status=None):
        probe["answered"] = status is not None
        probe["rtt"] = round(time.monotonic() - probe["sent"], 4) if status is not None else None
        probe["from"] = reply_from
        probe["status"] = status
        sys.stdout.write(json.dumps(probe) + "\n")
        sys.stdout.flush()

    while (sent < args.count or pending) and time.monotonic() - started < args.deadline:
        now = time.monotonic()
        if sent < args.count and now >= next_send:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((args.source, 0))
            sock.setblocking(False)
            local = sock.getsockname()
            source = args.source if args.source != "0.0.0.0" else local[0]
            call_id = "%s-%d@sipvs-probe" % (prefix, sent)
            probe = {"seq": sent, "sent": round(now, 4), "call_id": call_id}
            request = options_request(
                args.target, args.port, source, local[1], call_id, "%s%d" % (prefix, sent), prefix
            )
            try:
                sock.sendto(request, (args.target, args.port))
            except OSError as error:
                probe["error"] = str(error)
                sock.close()
                settle(probe)
            else:
                pending[sock] = probe
                selector.register(sock, selectors.EVENT_READ)
            sent += 1
            next_send += args.interval
            continue
        wait = args.timeout
        if sent < args.count:
            wait = min(wait, max(0.0, next_send - now))
        for key, _events in selector.select(timeout=wait):
            sock = key.fileobj
            probe = pending.get(sock)
            try:
                data, sender = sock.recvfrom(65535)
            except OSError:
                continue  # ICMP unreachable: the probe stays pending until its timeout
            status, headers, _body = _sip.parse_message(data)
            code = _sip.status_code(status)
            if code is None or headers.get("call-id") != probe["call_id"]:
                continue
            if code < 200:
                continue  # provisional: wait for the final reply
            selector.unregister(sock)
            sock.close()
            del pending[sock]
            answered += 1
            settle(probe, sender[0], status)
        now = time.monotonic()
        for sock, probe in list(pending.items()):
            if now - probe["sent"] > args.timeout:
                selector.unregister(sock)
                sock.close()
                del pending[sock]
                settle(probe)
    for sock, probe in list(pending.items()):
        sock.close()
        settle(probe)
    return 0 if answered else 1


if __name__ == "__main__":
    sys.exit(main())
