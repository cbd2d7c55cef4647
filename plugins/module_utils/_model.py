# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LVS cluster model shared by every module and role: value checks and
the virtual-service / real-server records.

Pure code: no I/O. Functions raise LvsError; only modules turn it into
fail_json, and the roles' controller-side validation reuses the same checks.
"""

from __future__ import annotations

import ipaddress
import re

# Every scheduler the Linux IPVS code ships (ipvsadm(8)).
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos")
# The hashing schedulers' flags: the model's names, and their ipvsadm / keepalived names (SCHED-FLAG;
# the kernel calls them flag-1 and flag-2): fallback to another server when the hashed one is unavailable,
# and hash the source port too.
HASH_SCHEDULERS = ("sh", "mh")
HASH_FLAGS = ("fallback", "port")
SCHEDULER_FLAGS = ("flag-1", "flag-2", "flag-3", *("%s-%s" % (s, f) for s in HASH_SCHEDULERS for f in HASH_FLAGS))
# What Piranha's lvs.cf accepts (a subset of the above).
PIRANHA_SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh")
PROTOCOLS = ("tcp", "udp", "sctp")
PERSISTENCE_ENGINES = ("sip",)
# Forwarding method name -> ipvsadm flag.
FORWARDING_FLAGS = {"route": "-g", "masq": "-m", "tunnel": "-i"}
# Address families: the model's names (keepalived's and iproute2's) -> the ipvs modules' option values.
FAMILIES = {"inet": "ipv4", "inet6": "ipv6"}
# A Linux network interface name (at most IFNAMSIZ - 1 = 15 characters), as keepalived and ipvsadm take it.
INTERFACE_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")
# An iptables user-defined chain name: a letter, then letters, digits, _ and -, at most 28 characters (iptables'
# limit, XT_EXTENSION_MAXNAMELEN - 1). Nothing a shell, iptables-restore or an option parser reads as syntax.
IPTABLES_CHAIN_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,27}$")
# What a user chain cannot be called: the built-in chains of every table and the verdicts (iptables -N refuses
# these; a rule that jumps to one would not reach the role's chain).
IPTABLES_RESERVED_CHAINS = (
    "PREROUTING",
    "INPUT",
    "FORWARD",
    "OUTPUT",
    "POSTROUTING",
    "ACCEPT",
    "DROP",
    "QUEUE",
    "RETURN",
)
MAX_PORT = 65535
MAX_WEIGHT = 65535
MAX_FWMARK = 2**32 - 1


class LvsError(Exception):
    """A problem with the LVS model or a file describing it.

    ``path`` and ``line`` locate it in a file when there is one; ``key`` names
    the setting. ``str()`` gives one sentence with all of them.
    """

    def __init__(self, message, path=None, line=None, key=None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.key = key

    def __str__(self):
        where = ""
        if self.path and self.line:
            where = "%s:%s: " % (self.path, self.line)
        elif self.path:
            where = "%s: " % self.path
        elif self.line:
            where = "line %s: " % self.line
        return where + self.message


def _int(value, what):
    if isinstance(value, bool):
        raise LvsError("%s must be an integer, got %r" % (what, value), key=what)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    digits = text[1:] if text.startswith("-") else text
    # isdigit() alone also accepts "²" and other non-ASCII digits that int() refuses.
    if digits.isascii() and digits.isdigit():
        return int(text)
    raise LvsError("%s must be an integer, got %r" % (what, value), key=what)


def check_range(value, what, low, high):
    """Return ``value`` as an int within [low, high] or raise LvsError."""
    number = _int(value, what)
    if not low <= number <= high:
        raise LvsError("%s must be between %d and %d, got %d" % (what, low, high, number), key=what)
    return number


def check_port(value, what="port"):
    return check_range(value, what, 1, MAX_PORT)


def check_weight(value, what="weight"):
    return check_range(value, what, 0, MAX_WEIGHT)


def check_fwmark(value, what="fwmark"):
    return check_range(value, what, 1, MAX_FWMARK)


def check_ip(value, what="address"):
    """Return the canonical text of an IPv4 or IPv6 address."""
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise LvsError("%s must be an IP address, got %r" % (what, value), key=what) from None


# What a VIP cannot be, in the order the checks name it: (test, what the address is).
_NOT_A_VIP = (
    (lambda ip: ip.is_unspecified or (ip.version == 4 and ip in _THIS_NETWORK), "unspecified (0.0.0.0/8 or ::)"),
    (lambda ip: ip.is_loopback, "a loopback address"),
    (lambda ip: ip.is_multicast, "a multicast address"),
    (lambda ip: ip == _LIMITED_BROADCAST, "the broadcast address"),
    (lambda ip: ip.is_link_local, "a link-local address"),
    (lambda ip: ip.is_reserved, "a reserved address"),
)
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_LIMITED_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


def check_vip(value, what="vip"):
    """The canonical text of an address a virtual service can listen on: a unicast address
    (not unspecified, loopback, multicast, the broadcast address, link-local or reserved)."""
    address = check_ip(value, what)
    ip = ipaddress.ip_address(address)
    for test, kind in _NOT_A_VIP:
        if test(ip):
            raise LvsError(
                "%s %s is %s: a VIP must be a unicast address the clients can reach" % (what, address, kind), key=what
            )
    return address


def check_listen_address(address, port, what_address="address", what_port="port"):
    """Where an unauthenticated endpoint (a metrics exporter) listens: the canonical ``address``, the ``port``
    and both as ``listen``, ``address:port`` (``[address]:port`` for IPv6).

    One address of the host, chosen: never every address (0.0.0.0 or ::, which would also answer on a VIP and on
    whatever network the host faces) nor a multicast one. Loopback is allowed (a local agent or a tunnel)."""
    text = check_ip(address, what_address)
    ip = ipaddress.ip_address(text)
    if ip.is_unspecified or ip.is_multicast:
        raise LvsError(
            "%s %s would listen on %s: choose one address of the host (metrics have no authentication)"
            % (what_address, text, "every address" if ip.is_unspecified else "a multicast group"),
            key=what_address,
        )
    number = check_port(port, what_port)
    return {"address": text, "port": number, "listen": ("[%s]:%d" if ip.version == 6 else "%s:%d") % (text, number)}


def address_family(address):
    """``inet`` or ``inet6``: the model's name of the family of an address (canonical text)."""
    return "inet6" if ":" in str(address) else "inet"


def check_interface(value, what="interface"):
    """Return a network interface name, or raise LvsError."""
    if isinstance(value, str) and INTERFACE_RE.match(value.strip()):
        return value.strip()
    raise LvsError("%s must be a network interface name, got %r" % (what, value), key=what)


def check_iptables_chain(value, what="chain"):
    """Return an iptables user-defined chain name (IPTABLES_CHAIN_RE, not a built-in chain), or raise LvsError.

    The name goes into root shell scripts and iptables-restore input as it is: nothing is stripped."""
    if not isinstance(value, str) or not IPTABLES_CHAIN_RE.fullmatch(value):
        raise LvsError(
            "%s must be an iptables chain name (%s: a letter, then letters, digits, _ or -, at most 28"
            " characters), got %r" % (what, IPTABLES_CHAIN_RE.pattern, value),
            key=what,
        )
    if value in IPTABLES_RESERVED_CHAINS:
        raise LvsError(
            "%s must name a chain of its own, not %s, which iptables reserves (the built-in chains and verdicts"
            " %s)" % (what, value, ", ".join(IPTABLES_RESERVED_CHAINS)),
            key=what,
        )
    return value


def check_prefix(value, what, family="inet"):
    """A netmask as a prefix length: ``24`` or, for ``inet``, ``255.255.255.0``."""
    text = str(value).strip()
    if not isinstance(value, bool) and text.isascii() and text.isdigit():
        return check_range(text, what, 0, 128 if family == "inet6" else 32)
    if family == "inet" and not isinstance(value, bool):
        try:
            return ipaddress.IPv4Network("0.0.0.0/%s" % text).prefixlen
        except ValueError:
            pass
    raise LvsError("%s must be a prefix length or a dotted netmask, got %r" % (what, value), key=what)


def check_netmask(value, what="netmask"):
    """Return a dotted IPv4 netmask (``255.255.255.0``); accepts a prefix length."""
    text = str(value).strip()
    try:
        # IPv4Network accepts both "24" and "255.255.255.0" after the slash.
        return str(ipaddress.IPv4Network("0.0.0.0/%s" % text).netmask)
    except ValueError:
        raise LvsError("%s must be an IPv4 netmask, got %r" % (what, value), key=what) from None


def check_bool(value, what):
    """Return ``value`` as a bool: a YAML boolean, or the text an inventory or ``-e k=v`` gives for one."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise LvsError("%s must be a boolean, got %r" % (what, value), key=what)


def check_choice(value, what, choices):
    text = str(value).strip()
    if text not in choices:
        raise LvsError("%s must be one of %s, got %r" % (what, ", ".join(choices), value), key=what)
    return text


def check_scheduler(value, what="scheduler", choices=SCHEDULERS):
    return check_choice(value, what, choices)


def check_protocol(value, what="protocol"):
    return check_choice(str(value).lower(), what, PROTOCOLS)


def find_duplicates(values):
    """Return the values that occur more than once, in first-seen order."""
    seen, dups = set(), []
    for value in values:
        if value in seen and value not in dups:
            dups.append(value)
        seen.add(value)
    return dups
