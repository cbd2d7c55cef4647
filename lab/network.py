"""Namespaces, bridge, taps, veths and the lab namespace's firewall.

Every lab address lives inside namespaces made here. The host gets exactly one
link, the proxy veth end with a link-local /30, and no route to the lab.
"""

import pathlib

from lab import config
from lab.shell import run

NETNS_DIR = pathlib.Path("/run/netns")


def netns_exists(name):
    return (NETNS_DIR / name).exists()


def link_exists(link, netns=None):
    prefix = ["ip", "-n", netns] if netns else ["ip"]
    return run([*prefix, "link", "show", "dev", link], check=False).returncode == 0


def ensure_netns(name):
    if not netns_exists(name):
        run(["ip", "netns", "add", name])
    run(["ip", "-n", name, "link", "set", "lo", "up"])


def ns_sysctl(netns, key, value):
    run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w", "%s=%s" % (key, value)])


def firewall_rules():
    """The lab namespace forwards bridge traffic and the proxy flow, nothing else."""
    proxy = "-d %s/32 -p tcp --dport %d" % (config.PROXY_IP, config.PROXY_PORT)
    return "\n".join(
        [
            "*filter",
            ":INPUT ACCEPT [0:0]",
            ":FORWARD DROP [0:0]",
            ":OUTPUT ACCEPT [0:0]",
            "-A FORWARD -i %s -o %s -j ACCEPT" % (config.BRIDGE, config.BRIDGE),
            "-A FORWARD -i %s -o %s %s -j ACCEPT" % (config.BRIDGE, config.PROXY_NS_LINK, proxy),
            "-A FORWARD -i %s -o %s -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
            % (config.PROXY_NS_LINK, config.BRIDGE),
            "COMMIT",
            "*nat",
            ":PREROUTING ACCEPT [0:0]",
            ":INPUT ACCEPT [0:0]",
            ":OUTPUT ACCEPT [0:0]",
            ":POSTROUTING ACCEPT [0:0]",
            "-A POSTROUTING -o %s %s -j MASQUERADE" % (config.PROXY_NS_LINK, proxy),
            "COMMIT",
            "",
        ]
    )


def setup_lab_namespace():
    ns = config.LAB_NS
    ensure_netns(ns)
    if not link_exists(config.BRIDGE, ns):
        run(["ip", "-n", ns, "link", "add", config.BRIDGE, "type", "bridge"])
    run(["ip", "-n", ns, "addr", "replace", "%s/%d" % (config.GATEWAY_IP, config.SUBNET_PREFIX), "dev", config.BRIDGE])
    run(["ip", "-n", ns, "link", "set", config.BRIDGE, "up"])
    # Forwarding inside the lab namespace only (its own sysctl), for the proxy flow.
    ns_sysctl(ns, "net.ipv4.ip_forward", 1)
    run(["ip", "netns", "exec", ns, "iptables-restore"], input=firewall_rules())
    setup_proxy_link()


def setup_proxy_link():
    if not link_exists(config.PROXY_HOST_LINK):
        run(["ip", "link", "add", config.PROXY_HOST_LINK, "type", "veth", "peer", "name", config.PROXY_NS_LINK])
        run(["ip", "link", "set", config.PROXY_NS_LINK, "netns", config.LAB_NS])
    # No IPv6 chatter from the host end; the setting goes away with the link.
    run(["sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % config.PROXY_HOST_LINK], check=False)
    run(["ip", "addr", "replace", "%s/30" % config.PROXY_IP, "dev", config.PROXY_HOST_LINK])
    run(["ip", "link", "set", config.PROXY_HOST_LINK, "up"])
    ns = config.LAB_NS
    run(["ip", "-n", ns, "addr", "replace", "%s/30" % config.PROXY_NS_IP, "dev", config.PROXY_NS_LINK])
    run(["ip", "-n", ns, "link", "set", config.PROXY_NS_LINK, "up"])


def setup_tap(host):
    ns = config.LAB_NS
    if not link_exists(host.link, ns):
        run(["ip", "-n", ns, "tuntap", "add", "dev", host.link, "mode", "tap"])
    run(["ip", "-n", ns, "link", "set", host.link, "master", config.BRIDGE, "up"])


def setup_host_namespace(host):
    """A namespace of its own for a container or the client, on a veth into the bridge."""
    ns = host.netns
    ensure_netns(ns)
    if not link_exists(host.link, config.LAB_NS):
        if link_exists("eth0", ns):
            run(["ip", "-n", ns, "link", "del", "eth0"])
        run(
            [
                "ip",
                "-n",
                config.LAB_NS,
                "link",
                "add",
                host.link,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
                "address",
                host.mac,
            ]
        )
    run(["ip", "-n", config.LAB_NS, "link", "set", host.link, "master", config.BRIDGE, "up"])
    run(["ip", "-n", ns, "addr", "replace", "%s/%d" % (host.ip, config.SUBNET_PREFIX), "dev", "eth0"])
    run(["ip", "-n", ns, "link", "set", "eth0", "up"])
    run(["ip", "-n", ns, "route", "replace", "%s/32" % config.PROXY_IP, "via", config.GATEWAY_IP])


def teardown():
    """Delete every namespace the lab made; their links, taps and rules go with them."""
    for host in config.HOSTS:
        if host.kind != "vm" and netns_exists(host.netns):
            run(["ip", "netns", "del", host.netns], check=False)
    if netns_exists(config.LAB_NS):
        run(["ip", "netns", "del", config.LAB_NS], check=False)
    # After a half-failed lab-up the host end may still exist on its own.
    if link_exists(config.PROXY_HOST_LINK):
        run(["ip", "link", "del", config.PROXY_HOST_LINK], check=False)
