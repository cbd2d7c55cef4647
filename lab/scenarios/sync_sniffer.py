"""IPVS sync latency seen on the lab bridge, run inside the lab namespace.

python3 sync_sniffer.py BRIDGE VIP SECONDS

Listens on BRIDGE (AF_PACKET, passive) for SECONDS and prints one JSON line per
packet of interest, timed by one clock:
  {"t", "kind": "request", "client", "cport"}   a UDP datagram to VIP:5060
  {"t", "kind": "sync", "conns": [[client, cport], ...]}   an IPVS sync message
    (UDP to 224.0.0.81:8848, protocol version 1) and the connections in it.
Standard library only; bounded by SECONDS.
"""

import json
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET, PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC = 263, 1, 1
SYNC_GROUP, SYNC_PORT = "224.0.0.81", 8848


def udp(frame):
    """(src, dst, sport, dport, payload) of an IPv4 UDP frame, or None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 0x0F) * 4
    src, dst = socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
    sport, dport = struct.unpack("!HH", frame[14 + ihl : 18 + ihl])
    return src, dst, sport, dport, frame[22 + ihl :]


def sync_conns(message):
    """The (client, cport) of each connection in a version 1 sync message."""
    if len(message) < 8 or message[0] != 0 or message[5] != 1:
        return []
    count, offset, conns = message[4], 8, []
    for _index in range(count):
        if offset + 36 > len(message):
            break
        size = struct.unpack("!H", message[offset + 2 : offset + 4])[0] & 0x0FFF
        cport = struct.unpack("!H", message[offset + 10 : offset + 12])[0]
        conns.append([socket.inet_ntoa(message[offset + 24 : offset + 28]), cport])
        offset += max(36, (size + 3) & ~3)
    return conns


def main(bridge, vip, seconds):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((bridge, 0))
    # Frames forwarded between two bridge ports reach the bridge's own device
    # only in promiscuous mode (for as long as this socket is open).
    membership = struct.pack("iHH8s", socket.if_nametoindex(bridge), PACKET_MR_PROMISC, 0, b"")
    sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, membership)
    sock.settimeout(0.2)
    end = time.monotonic() + seconds
    print(json.dumps({"t": time.monotonic(), "kind": "start"}), flush=True)
    seen = set()
    while time.monotonic() < end:
        try:
            frame = sock.recv(65535)
        except socket.timeout:
            continue
        now = time.monotonic()
        parsed = udp(frame)
        if parsed is None:
            continue
        src, dst, sport, dport, payload = parsed
        if dst == vip and dport == 5060:
            # A bridge may show a frame once per port it crosses: the first sighting counts.
            if (src, sport) not in seen:
                seen.add((src, sport))
                print(json.dumps({"t": now, "kind": "request", "client": src, "cport": sport}), flush=True)
        elif dst == SYNC_GROUP and dport == SYNC_PORT:
            print(json.dumps({"t": now, "kind": "sync", "conns": sync_conns(payload)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
