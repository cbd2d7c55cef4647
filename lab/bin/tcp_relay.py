"""ssh ProxyCommand: join stdin/stdout to HOST PORT. Run inside the lab namespace:
ProxyCommand nsenter --net=/run/netns/sipvs-lab python3 lab/bin/tcp_relay.py %h %p"""

import os
import selectors
import socket
import sys


def main(host, port):
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.settimeout(None)
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
    selector.register(sock, selectors.EVENT_READ, "sock")
    while True:
        for key, _events in selector.select():
            if key.data == "stdin":
                data = os.read(sys.stdin.fileno(), 65536)
                if not data:
                    # ssh closed its end: nothing more to carry, and the guest may be gone.
                    return 0
                sock.sendall(data)
            else:
                data = sock.recv(65536)
                if not data:
                    return 0
                os.write(sys.stdout.fileno(), data)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: tcp-relay HOST PORT")
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except OSError as error:
        sys.exit("tcp-relay: %s:%s: %s" % (sys.argv[1], sys.argv[2], error))
