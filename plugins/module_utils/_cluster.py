# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's cluster model (``lvs_cluster``): validation and derivations.

Pure code, no I/O. ``normalize_cluster`` checks the whole model with the value
checks of ``_model`` (the ones the modules use) and returns it in one canonical
shape that the roles' templates read. Every error names the variable path, e.g.
``lvs_cluster.virtual_services[1].vip``.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.sipvs.lvs.plugins.module_utils._model import (
    HASH_FLAGS,
    HASH_SCHEDULERS,
    PERSISTENCE_ENGINES,
    LvsError,
    address_family,
    check_bool,
    check_choice,
    check_fwmark,
    check_interface,
    check_ip,
    check_port,
    check_prefix,
    check_protocol,
    check_range,
    check_scheduler,
    check_vip,
    check_weight,
    find_duplicates,
)

CHECK_TYPES = ("http", "tcp", "sip", "none")
SIP_TRANSPORTS = ("udp", "tcp")
FORWARDING = ("route",)
# Names of services and real servers end in keepalived.conf comments and lvs.cf block names.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
NAME_RULE = "1-64 of A-Z a-z 0-9 _ . -, the first a letter or digit"
# An HTTP check's URL path is one word of keepalived.conf (path) and part of a quoted lvs.cf string (send):
# no space, quote, brace, comment sign (# !), keepalived variable ($) or control character.
CHECK_PATH_RE = re.compile(r"^/[A-Za-z0-9._~&()*+,;=:@%/?-]{0,1023}\Z")
# A VRRP hook's command is an argv that keepalived.conf quotes as one string ("script", notify_*) and
# keepalived splits on blanks: an absolute program path, then words with no blank, quote, backslash,
# comment sign, keepalived variable ($) or shell metacharacter.
PROGRAM_RE = re.compile(r"^/[A-Za-z0-9_.+/-]{1,255}\Z")
ARGUMENT_RE = re.compile(r"^[A-Za-z0-9_.,:=@%+/-]{1,255}\Z")
ARGUMENT_RULE = "1-255 of A-Z a-z 0-9 _ . , : = @ % + / -"
TRACK_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}\Z")
MAX_ARGUMENTS = 32

VRRP_KEYS = (
    "virtual_router_id",
    "advert_int",
    "version",
    "interface",
    "unicast",
    "networks",
    "track_scripts",
    "track_interfaces",
    "notify",
)
TRACK_SCRIPT_KEYS = ("name", "command", "interval", "timeout", "fall", "rise", "weight")
NOTIFY_KEYS = ("master", "backup", "fault")
SYNC_KEYS = ("enabled", "interface", "id", "maxlen")
TIMEOUT_KEYS = ("tcp", "tcpfin", "udp")
CLUSTER_KEYS = ("vrrp", "sync_daemon", "timeouts", "virtual_services")
SERVICE_KEYS = (
    "name",
    "vip",
    "vip_netmask",
    "routed",
    "protocol",
    "port",
    "fwmark",
    "ports",
    "scheduler",
    "scheduler_flags",
    "forwarding",
    "persistent",
    "persistence_granularity",
    "persistence_engine",
    "one_packet",
    "quorum",
    "sorry_server",
    "check",
    "real_servers",
)
CHECK_KEYS = (
    "type",
    "path",
    "expect_status",
    "port",
    "timeout",
    "interval",
    "retry",
    "delay_before_retry",
    "transport",
    "codes",
)
REAL_SERVER_KEYS = ("host", "address", "name", "port", "weight")
PORT_KEYS = ("protocol", "port")
SORRY_SERVER_KEYS = ("address", "port")
VRRP_VERSIONS = ("2", "3")

# The fixed defaults of each level; keys not listed have none or one derived
# from other values (sync_daemon.interface, vip_netmask, port, delay_before_retry,
# ...). roles/director/meta/argument_specs.yml states the same (a unit test checks).
VRRP_DEFAULTS = {"virtual_router_id": 51, "advert_int": 1, "version": 2, "interface": "eth0", "unicast": False}
SYNC_DEFAULTS = {"enabled": False, "id": 0}
TIMEOUT_DEFAULTS = dict.fromkeys(TIMEOUT_KEYS, 0)
SERVICE_DEFAULTS = {
    "routed": False,
    "protocol": "tcp",
    "scheduler": "wlc",
    "scheduler_flags": [],
    "forwarding": "route",
    "persistent": 0,
    "one_packet": False,
}
PORT_DEFAULTS = {"protocol": "tcp"}
# type applies to a check that is given; no check at all is type none.
CHECK_DEFAULTS = {
    "type": "tcp",
    "path": "/",
    "expect_status": 200,
    "timeout": 3,
    "interval": 6,
    "retry": 1,
    "transport": "udp",
    "codes": [],
}
REAL_SERVER_DEFAULTS = {"weight": 1}
# weight 0: a failing script puts the director in VRRP's FAULT state (it gives up the VIPs).
TRACK_SCRIPT_DEFAULTS = {"interval": 2, "timeout": 5, "fall": 3, "rise": 2, "weight": 0}
# Each level of the model by its place in lvs_cluster (a dotted path, "" the top; a list's items take the list's
# path): its keys and its fixed defaults. docs/cluster.md (the table of every key) and the director role's
# argument spec are tested against it.
MODEL_LEVELS = {
    "": (CLUSTER_KEYS, {}),
    "vrrp": (VRRP_KEYS, VRRP_DEFAULTS),
    "vrrp.track_scripts": (TRACK_SCRIPT_KEYS, TRACK_SCRIPT_DEFAULTS),
    "vrrp.notify": (NOTIFY_KEYS, {}),
    "sync_daemon": (SYNC_KEYS, SYNC_DEFAULTS),
    "timeouts": (TIMEOUT_KEYS, TIMEOUT_DEFAULTS),
    "virtual_services": (SERVICE_KEYS, SERVICE_DEFAULTS),
    "virtual_services.ports": (PORT_KEYS, PORT_DEFAULTS),
    "virtual_services.sorry_server": (SORRY_SERVER_KEYS, {}),
    "virtual_services.check": (CHECK_KEYS, CHECK_DEFAULTS),
    "virtual_services.real_servers": (REAL_SERVER_KEYS, REAL_SERVER_DEFAULTS),
}


def _mapping(value, what):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LvsError("%s must be a dictionary, got %r" % (what, value), key=what)
    return value


def _list(value, what, allow_empty=False):
    if not isinstance(value, (list, tuple)):
        raise LvsError("%s must be a list, got %r" % (what, value), key=what)
    if not value and not allow_empty:
        raise LvsError("%s must not be empty" % what, key=what)
    return list(value)


def _unknown(data, allowed, what):
    extra = sorted(str(k) for k in data if k not in allowed)
    if extra:
        raise LvsError(
            "%s has unknown key(s) %s (allowed: %s)" % (what, ", ".join(extra), ", ".join(allowed)),
            key=what,
        )


def _text(value, what, pattern=None):
    if value is None or isinstance(value, (dict, list, bool)):
        raise LvsError("%s must be a string, got %r" % (what, value), key=what)
    text = str(value).strip()
    if not text or (pattern is not None and not pattern.match(text)):
        rule = " (%s)" % NAME_RULE if pattern is NAME_RE else ""
        raise LvsError("%s is not a valid name%s: %r" % (what, rule, value), key=what)
    return text


def _number(value, what, low, high):
    if isinstance(value, bool):
        raise LvsError("%s must be a number, got %r" % (what, value), key=what)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LvsError("%s must be a number, got %r" % (what, value), key=what) from None
    if not low <= number <= high:
        raise LvsError("%s must be between %s and %s, got %s" % (what, low, high, value), key=what)
    return int(number) if number == int(number) else number


def _scheduler_flags(value, scheduler, where):
    """The hashing schedulers' flags (fallback, port), each once, in HASH_FLAGS order."""
    what = where + ".scheduler_flags"
    value = SERVICE_DEFAULTS["scheduler_flags"] if value is None else value
    flags = [check_choice(f, what, HASH_FLAGS) for f in _list(value, what, True)]
    if flags and scheduler not in HASH_SCHEDULERS:
        raise LvsError(
            "%s applies to the %s schedulers only, not %s" % (what, " and ".join(HASH_SCHEDULERS), scheduler),
            key=what,
        )
    return [f for f in HASH_FLAGS if f in flags]


def _vip_netmask(value, vip, what):
    """The VIP's prefix length on the director: its family's host prefix by default, never 0."""
    family = address_family(vip)
    if value is None:
        return 128 if family == "inet6" else 32
    prefix = check_prefix(value, what, family)
    if prefix == 0:
        raise LvsError("%s must not be 0 (the VIP would claim every address)" % what, key=what)
    return prefix


def _vip_not_broadcast(vip, prefix, what):
    """An IPv4 VIP is not the broadcast address of its own network (vip_netmask below 31)."""
    if address_family(vip) != "inet" or prefix >= 31:
        return
    network = ipaddress.ip_network("%s/%d" % (vip, prefix), strict=False)
    if ipaddress.ip_address(vip) == network.broadcast_address:
        raise LvsError(
            "%s %s is the broadcast address of its network %s (vip_netmask %d): a VIP must be a unicast address"
            % (what, vip, network, prefix),
            key=what,
        )


def _networks(value, what):
    """vrrp.networks: the networks (CIDR) of the VRRP interface, canonical, none of prefix 0."""
    networks = []
    for index, item in enumerate(_list(value, what, allow_empty=True)):
        where = "%s[%d]" % (what, index)
        try:
            if not isinstance(item, str) or "/" not in item:
                raise ValueError(item)
            network = ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            raise LvsError(
                "%s must be a network with its prefix length, such as 172.16.11.0/24, got %r" % (where, item),
                key=where,
            ) from None
        if network.prefixlen == 0:
            raise LvsError("%s must not have prefix length 0 (it would hold every address)" % where, key=where)
        networks.append(str(network))
    return networks


def _command(value, what):
    """A VRRP hook's argv: an absolute program path, then arguments of ARGUMENT_RE (numbers allowed)."""
    words = _list(value, what)
    if len(words) > MAX_ARGUMENTS:
        raise LvsError("%s has %d words, more than %d" % (what, len(words), MAX_ARGUMENTS), key=what)
    command = []
    for index, word in enumerate(words):
        if isinstance(word, bool) or not isinstance(word, (str, int)):
            raise LvsError("%s[%d] must be a string, got %r" % (what, index, word), key=what)
        word = str(word)
        if index == 0 and not PROGRAM_RE.match(word):
            raise LvsError("%s[0] must be the program's absolute path, got %r" % (what, word), key=what)
        if index and not ARGUMENT_RE.match(word):
            raise LvsError("%s[%d] must be %s, got %r" % (what, index, ARGUMENT_RULE, word), key=what)
        command.append(word)
    return command


def _track_scripts(value, what):
    """keepalived's vrrp_script/track_script: each named command's exit status, every interval."""
    scripts = []
    for index, data in enumerate(_list(value, what, True)):
        where = "%s[%d]" % (what, index)
        data = _mapping(data, where)
        _unknown(data, TRACK_SCRIPT_KEYS, where)
        if data.get("name") is None or data.get("command") is None:
            raise LvsError("%s needs a name and a command" % where, key=where)
        name = str(data["name"])
        if not TRACK_NAME_RE.match(name):
            raise LvsError(
                "%s.name must be 1-32 of A-Z a-z 0-9 _, the first a letter, got %r" % (where, data["name"]),
                key=where + ".name",
            )
        defaults = TRACK_SCRIPT_DEFAULTS
        script = {
            "name": name,
            "command": _command(data["command"], where + ".command"),
            "interval": check_range(data.get("interval", defaults["interval"]), where + ".interval", 1, 3600),
            "timeout": check_range(data.get("timeout", defaults["timeout"]), where + ".timeout", 1, 3600),
            "fall": check_range(data.get("fall", defaults["fall"]), where + ".fall", 1, 255),
            "rise": check_range(data.get("rise", defaults["rise"]), where + ".rise", 1, 255),
            "weight": check_range(data.get("weight", defaults["weight"]), where + ".weight", -253, 253),
        }
        scripts.append(script)
    for dup in find_duplicates(script["name"] for script in scripts):
        raise LvsError("%s: the name %r is used by more than one script" % (what, dup), key=what)
    return scripts


def _notify(value, what):
    """keepalived's notify_master/backup/fault: a command run when the director enters the state."""
    data = _mapping(value, what)
    _unknown(data, NOTIFY_KEYS, what)
    return {
        key: _command(data[key], "%s.%s" % (what, key)) if data.get(key) is not None else None for key in NOTIFY_KEYS
    }


def _vrrp(data, what):
    data = _mapping(data, what)
    _unknown(data, VRRP_KEYS, what)
    version = check_choice(str(data.get("version", VRRP_DEFAULTS["version"])), what + ".version", VRRP_VERSIONS)
    advert = _number(data.get("advert_int", VRRP_DEFAULTS["advert_int"]), what + ".advert_int", 0.01, 255)
    if version == "2" and not isinstance(advert, int):
        raise LvsError(
            "%s.advert_int must be a whole number of seconds with VRRP version 2 (use version: 3 for %s)"
            % (what, advert),
            key=what + ".advert_int",
        )
    return {
        "virtual_router_id": check_range(
            data.get("virtual_router_id", VRRP_DEFAULTS["virtual_router_id"]), what + ".virtual_router_id", 1, 255
        ),
        "advert_int": advert,
        "version": int(version),
        "interface": check_interface(data.get("interface", VRRP_DEFAULTS["interface"]), what + ".interface"),
        "unicast": check_bool(data.get("unicast", VRRP_DEFAULTS["unicast"]), what + ".unicast"),
        # Optional: the networks the VRRP interface has; each VIP that is not routed must lie in one.
        "networks": _networks(data["networks"], what + ".networks") if data.get("networks") is not None else [],
        # Hooks: scripts and interfaces whose failure gives up the VIPs (or lowers the priority), and
        # commands run on a change of state; run by keepalived as the unprivileged check user.
        "track_scripts": _track_scripts(data.get("track_scripts") or [], what + ".track_scripts"),
        "track_interfaces": _track_interfaces(
            data.get("track_interfaces") or [],
            data.get("interface", VRRP_DEFAULTS["interface"]),
            what + ".track_interfaces",
        ),
        "notify": _notify(data.get("notify"), what + ".notify"),
    }


def _track_interfaces(value, own, what):
    """Interfaces whose loss puts the director in FAULT: each once, not the VRRP interface itself
    (keepalived tracks that anyway, and warns)."""
    names = _list(value, what, True)
    interfaces = [check_interface(name, "%s[%d]" % (what, index)) for index, name in enumerate(names)]
    for dup in find_duplicates(interfaces):
        raise LvsError("%s lists %s more than once" % (what, dup), key=what)
    if own in interfaces:
        raise LvsError("%s lists %s, the VRRP interface, which keepalived tracks anyway" % (what, own), key=what)
    return interfaces


def _sync(data, vrrp, what):
    data = _mapping(data, what)
    _unknown(data, SYNC_KEYS, what)
    return {
        "enabled": check_bool(data.get("enabled", SYNC_DEFAULTS["enabled"]), what + ".enabled"),
        "interface": check_interface(data.get("interface", vrrp["interface"]), what + ".interface"),
        "id": check_range(data.get("id", SYNC_DEFAULTS["id"]), what + ".id", 0, 255),
        # Largest sync message; None leaves the kernel's (from the MTU). A partly
        # filled message waits up to 2-3 s for more connections before it is sent.
        "maxlen": None if data.get("maxlen") is None else check_range(data["maxlen"], what + ".maxlen", 1, 65507),
    }


def _timeouts(data, what):
    data = _mapping(data, what)
    _unknown(data, TIMEOUT_KEYS, what)
    return {
        key: check_range(data.get(key, TIMEOUT_DEFAULTS[key]), "%s.%s" % (what, key), 0, 2**31 - 1)
        for key in TIMEOUT_KEYS
    }


def _check(data, service, what):
    data = _mapping(data, what)
    _unknown(data, CHECK_KEYS, what)
    default_type = CHECK_DEFAULTS["type"] if data else "none"
    kind = check_choice(data.get("type", default_type), what + ".type", CHECK_TYPES)
    timeout = _number(data.get("timeout", CHECK_DEFAULTS["timeout"]), what + ".timeout", 0.1, 3600)
    interval = _number(data.get("interval", CHECK_DEFAULTS["interval"]), what + ".interval", 1, 86400)
    check = {
        "type": kind,
        "timeout": timeout,
        "interval": interval,
        "retry": check_range(data.get("retry", CHECK_DEFAULTS["retry"]), what + ".retry", 0, 100),
        "delay_before_retry": _number(data.get("delay_before_retry", interval), what + ".delay_before_retry", 0, 86400),
        "port": None,
    }
    if data.get("port") is not None:
        check["port"] = check_port(data["port"], what + ".port")
    if kind == "http":
        path = data.get("path", CHECK_DEFAULTS["path"])
        if not isinstance(path, str) or not CHECK_PATH_RE.match(path):
            raise LvsError(
                "%s.path must be an absolute URL path of at most 1024 characters from A-Z a-z 0-9 and"
                " ._~&()*+,;=:@%%/?- (no space, quote, brace, #, !, $ or control character), got %r" % (what, path),
                key=what + ".path",
            )
        statuses = data.get("expect_status", CHECK_DEFAULTS["expect_status"])
        if not isinstance(statuses, (list, tuple)):
            statuses = [statuses]
        check["path"] = path
        check["expect_status"] = [check_range(s, what + ".expect_status", 100, 599) for s in statuses]
        if not check["expect_status"]:
            raise LvsError("%s.expect_status must not be empty" % what, key=what + ".expect_status")
    if kind == "sip":
        check["transport"] = check_choice(
            data.get("transport", CHECK_DEFAULTS["transport"]), what + ".transport", SIP_TRANSPORTS
        )
        codes = data.get("codes") or CHECK_DEFAULTS["codes"]
        check["codes"] = [check_range(c, what + ".codes", 100, 699) for c in _list(codes, what + ".codes", True)]
        if check["port"] is None:
            check["port"] = 5060 if service["fwmark"] else service["port"]
    if kind != "none" and service["fwmark"] and check["port"] is None:
        raise LvsError(
            "%s.port is required: service %r uses a firewall mark, so it has no single port to check"
            % (what, service["name"]),
            key=what + ".port",
        )
    _tcp_check_has_a_tcp_port(kind, check, service, what)
    return check


def _ports_text(ports):
    return ", ".join("%d/%s" % (p["port"], p["protocol"]) for p in ports)


def _tcp_check_has_a_tcp_port(kind, check, service, what):
    """An HTTP or TCP check connects over TCP: on a service whose ports are all UDP it would check a port the
    real servers do not serve over TCP, unless check.port names the TCP port to check."""
    if kind not in ("http", "tcp") or check["port"] is not None:
        return
    if all(p["protocol"] == "udp" for p in service["ports"]):
        raise LvsError(
            "%s.type %s connects over TCP, but the service's ports are all UDP (%s): use a sip check, no check,"
            " or give check.port, a TCP port the real servers listen on" % (what, kind, _ports_text(service["ports"])),
            key=what + ".type",
        )


def _routed_port(value, service, what):
    """A real or sorry server's port: direct routing forwards packets unchanged, so it is the service's own."""
    if value is None:
        return service["port"]
    port = check_port(value, what)
    if port != service["port"]:
        raise LvsError(
            "%s is %d: direct routing cannot change the destination port, so it must be the service's port %d"
            % (what, port, service["port"]),
            key=what,
        )
    return port


def _real_servers(data, service, address_of, what):
    servers = []
    for index, item in enumerate(_list(data, what)):
        where = "%s[%d]" % (what, index)
        item = _mapping(item, where)
        _unknown(item, REAL_SERVER_KEYS, where)
        host = item.get("host")
        if host is not None and item.get("address") is not None:
            raise LvsError("%s: give host or address, not both" % where, key=where)
        if host is not None:
            host = _text(host, where + ".host")
            if item.get("name") is None and not NAME_RE.match(host):
                raise LvsError(
                    "%s.host %r cannot name the real server in keepalived.conf and lvs.cf: give it a name (%s)"
                    % (where, host, NAME_RULE),
                    key=where + ".host",
                )
            address = None
            if address_of is not None:
                found = address_of(host)
                if found is None:
                    raise LvsError("%s.host %r is not a host in the inventory" % (where, host), key=where + ".host")
                address = check_ip(found, "%s.host %r: its address (lvs_address or ansible_host)" % (where, host))
            name = host
        elif item.get("address") is not None:
            address = check_ip(item["address"], where + ".address")
            name = address
        else:
            raise LvsError("%s needs host (an inventory hostname) or address" % where, key=where)
        if item.get("name") is not None:
            name = _text(item["name"], where + ".name", NAME_RE)
        port = None
        if service["fwmark"]:
            if item.get("port") is not None:
                raise LvsError(
                    "%s.port: service %r uses a firewall mark; its real servers take no port"
                    % (where, service["name"]),
                    key=where + ".port",
                )
        else:
            port = _routed_port(item.get("port"), service, where + ".port")
        servers.append(
            {
                "name": name,
                "host": host,
                "address": address,
                "port": port,
                "weight": check_weight(item.get("weight", REAL_SERVER_DEFAULTS["weight"]), where + ".weight"),
            }
        )
    for dup in find_duplicates([(s["address"] or s["host"], s["port"]) for s in servers]):
        raise LvsError("%s lists real server %s more than once" % (what, dup[0]), key=what)
    for dup in find_duplicates([s["name"] for s in servers]):
        raise LvsError("%s uses the name %r more than once" % (what, dup), key=what)
    return servers


def _sip_engine_udp_only(service, where):
    """IPVS's SIP persistence engine reads the Call-ID of UDP packets only (ip_vs_pe_sip)."""
    if service["persistence_engine"] != "sip":
        return
    other = [p for p in service["ports"] if p["protocol"] != "udp"]
    if other:
        raise LvsError(
            "%s.persistence_engine sip: IPVS's SIP engine parses SIP over UDP only, but the service also has %s:"
            " put those ports in a service of their own" % (where, _ports_text(other)),
            key=where + ".persistence_engine",
        )


def _quorum_reachable(service, where):
    """keepalived brings a service up when its healthy real servers' weights add up to quorum."""
    total = sum(rs["weight"] for rs in service["real_servers"])
    if service["quorum"] is not None and service["quorum"] > total:
        raise LvsError(
            "%s.quorum %d is above the sum of the weights of its real servers (%d): the service could never be up"
            % (where, service["quorum"], total),
            key=where + ".quorum",
        )


def _service(data, index, address_of, what):
    where = "%s[%d]" % (what, index)
    data = _mapping(data, where)
    _unknown(data, SERVICE_KEYS, where)
    name = _text(data.get("name"), where + ".name", NAME_RE)
    vip = check_vip(data.get("vip"), where + ".vip")
    service = {
        "name": name,
        "vip": vip,
        "vip_netmask": _vip_netmask(data.get("vip_netmask"), vip, where + ".vip_netmask"),
        "routed": check_bool(data.get("routed", SERVICE_DEFAULTS["routed"]), where + ".routed"),
        "family": address_family(vip),
        "fwmark": None,
        "protocol": None,
        "port": None,
        "ports": [],
    }
    _vip_not_broadcast(vip, service["vip_netmask"], where + ".vip")
    if data.get("fwmark") is not None:
        for key in ("port", "protocol"):
            if data.get(key) is not None:
                raise LvsError(
                    "%s.%s: a firewall-mark service lists its ports under ports, not %s" % (where, key, key),
                    key=where + "." + key,
                )
        service["fwmark"] = check_fwmark(data["fwmark"], where + ".fwmark")
        ports = []
        for pindex, item in enumerate(_list(data.get("ports"), where + ".ports")):
            pwhere = "%s.ports[%d]" % (where, pindex)
            item = _mapping(item, pwhere)
            _unknown(item, PORT_KEYS, pwhere)
            ports.append(
                {
                    "protocol": check_protocol(item.get("protocol", PORT_DEFAULTS["protocol"]), pwhere + ".protocol"),
                    "port": check_port(item.get("port"), pwhere + ".port"),
                }
            )
        for dup in find_duplicates([(p["protocol"], p["port"]) for p in ports]):
            raise LvsError("%s.ports lists %s/%s more than once" % (where, dup[1], dup[0]), key=where + ".ports")
        service["ports"] = ports
    else:
        if data.get("ports"):
            raise LvsError("%s.ports needs fwmark (one mark for many ports)" % where, key=where + ".ports")
        service["protocol"] = check_protocol(data.get("protocol", SERVICE_DEFAULTS["protocol"]), where + ".protocol")
        service["port"] = check_port(data.get("port"), where + ".port")
        service["ports"] = [{"protocol": service["protocol"], "port": service["port"]}]
    service["scheduler"] = check_scheduler(data.get("scheduler", SERVICE_DEFAULTS["scheduler"]), where + ".scheduler")
    service["scheduler_flags"] = _scheduler_flags(data.get("scheduler_flags"), service["scheduler"], where)
    service["forwarding"] = check_choice(
        data.get("forwarding", SERVICE_DEFAULTS["forwarding"]), where + ".forwarding", FORWARDING
    )
    service["persistent"] = check_range(
        data.get("persistent", SERVICE_DEFAULTS["persistent"]), where + ".persistent", 0, 2**31 - 1
    )
    service["persistence_granularity"] = None
    if data.get("persistence_granularity") is not None:
        service["persistence_granularity"] = check_prefix(
            data["persistence_granularity"], where + ".persistence_granularity", service["family"]
        )
    service["persistence_engine"] = None
    if data.get("persistence_engine") is not None:
        service["persistence_engine"] = check_choice(
            data["persistence_engine"], where + ".persistence_engine", PERSISTENCE_ENGINES
        )
        if not service["persistent"]:
            raise LvsError(
                "%s.persistence_engine needs persistent > 0 (IPVS applies an engine only to persistent services)"
                % where,
                key=where + ".persistence_engine",
            )
        _sip_engine_udp_only(service, where)
    service["one_packet"] = check_bool(data.get("one_packet", SERVICE_DEFAULTS["one_packet"]), where + ".one_packet")
    if service["one_packet"] and not any(p["protocol"] == "udp" for p in service["ports"]):
        raise LvsError("%s.one_packet applies only to UDP services" % where, key=where + ".one_packet")
    service["quorum"] = None
    if data.get("quorum") is not None:
        service["quorum"] = check_range(data["quorum"], where + ".quorum", 1, 2**31 - 1)
    service["sorry_server"] = None
    if data.get("sorry_server") is not None:
        sorry = _mapping(data["sorry_server"], where + ".sorry_server")
        _unknown(sorry, SORRY_SERVER_KEYS, where + ".sorry_server")
        sorry_port = None
        if not service["fwmark"]:
            sorry_port = _routed_port(sorry.get("port"), service, where + ".sorry_server.port")
        service["sorry_server"] = {
            "address": check_ip(sorry.get("address"), where + ".sorry_server.address"),
            "port": sorry_port,
        }
    service["check"] = _check(data.get("check"), service, where + ".check")
    service["real_servers"] = _real_servers(data.get("real_servers"), service, address_of, where + ".real_servers")
    _quorum_reachable(service, where)
    return service


def _director_addresses(directors, address_of):
    """(host, address) of each director, resolved like the real servers; none without ``directors``."""
    if directors is None:
        return []
    if not isinstance(directors, (list, tuple)):
        raise LvsError("directors must be a list of inventory hostnames, got %r" % (directors,), key="directors")
    if address_of is None:
        raise LvsError("directors can be checked only with the inventory's addresses (hostvars)", key="directors")
    found = []
    for host in directors:
        address = address_of(host)
        if address is None:
            raise LvsError("director %r is not a host in the inventory" % (host,), key="directors")
        found.append((host, check_ip(address, "lvs_address of director %s" % host)))
    return found


def _servers_are_not_vips(services, what):
    """No real server or sorry server has the address of a VIP of the model: its own service's (then the VIP is
    the mistake) or another's (then the server is)."""
    vips = {}
    for index, service in enumerate(services):
        vips.setdefault(service["vip"], index)
    for index, service in enumerate(services):
        where = "%s[%d]" % (what, index)
        servers = [("%s.real_servers[%d]" % (where, n), rs["address"]) for n, rs in enumerate(service["real_servers"])]
        if service["sorry_server"] is not None:
            servers.append((where + ".sorry_server", service["sorry_server"]["address"]))
        for server, address in servers:
            if address == service["vip"]:
                raise LvsError(
                    "%s.vip %s is also the address of %s: a VIP must not be a real or sorry server's address"
                    % (where, address, server),
                    key=where + ".vip",
                )
            if address in vips:
                other = "%s[%d]" % (what, vips[address])
                raise LvsError(
                    "%s is %s, the VIP of %s (%s.vip): a real or sorry server must not have a VIP's address"
                    % (server, address, services[vips[address]]["name"], other),
                    key=server,
                )


def _vips_are_not_directors(services, directors, what):
    """A VIP moves between the directors: it is no director's own address."""
    owners = dict((address, host) for host, address in directors)
    for index, service in enumerate(services):
        if service["vip"] in owners:
            where = "%s[%d].vip" % (what, index)
            raise LvsError(
                "%s %s is the address of director %s: a VIP moves between the directors, it cannot be one's own"
                % (where, service["vip"], owners[service["vip"]]),
                key=where,
            )


def _vips_on_director_networks(services, networks, directors, what, var):
    """A VIP that is not ``routed`` lies on the directors' network: in one of ``vrrp.networks`` when given, else
    (when its vip_netmask is not a host prefix) in the network of every director of its address family under
    its vip_netmask. With neither, the inventory does not say the directors' networks: nothing is checked."""
    networks = [ipaddress.ip_network(n) for n in networks]
    for index, service in enumerate(services):
        if service["routed"]:
            continue
        where = "%s[%d]" % (what, index)
        vip = ipaddress.ip_address(service["vip"])
        if networks:
            if not any(vip.version == n.version and vip in n for n in networks):
                raise LvsError(
                    "%s.vip %s is in none of %s.vrrp.networks (%s), the networks of the directors' VRRP interface:"
                    " give it an address in one of them, or set %s.routed: true if it is routed to the directors"
                    % (where, vip, var, ", ".join(map(str, networks)), where),
                    key=where + ".vip",
                )
            continue
        if service["vip_netmask"] == vip.max_prefixlen:
            continue
        network = ipaddress.ip_network("%s/%d" % (vip, service["vip_netmask"]), strict=False)
        outside = [
            "%s (%s)" % (host, address)
            for host, address in directors
            if ipaddress.ip_address(address).version == vip.version and ipaddress.ip_address(address) not in network
        ]
        if outside:
            raise LvsError(
                "%s.vip %s/%d: its network %s does not hold director %s: give the VIP an address of the directors'"
                " network, or set %s.routed: true if it is routed to the directors"
                % (where, vip, service["vip_netmask"], network, ", ".join(outside), where),
                key=where + ".vip",
            )


def _drain(services, drained_of, what):
    """Each real server named by ``host`` gets ``drained`` from ``drained_of(host)`` (its lvs_drain host
    variable, None when unset), and a drained one weight 0: it takes no new connection while its
    connections in progress go on, in every service that lists it. A drain that would leave a
    service with no real server taking calls is refused."""
    for index, service in enumerate(services):
        for rs in service["real_servers"]:
            value = drained_of(rs["host"]) if drained_of is not None and rs["host"] is not None else None
            rs["drained"] = value is not None and check_bool(value, "lvs_drain of host %s" % rs["host"])
            if rs["drained"]:
                rs["weight"] = 0
        if service["real_servers"] and all(rs["drained"] for rs in service["real_servers"]):
            raise LvsError(
                "%s[%d] (%s): every real server is drained (lvs_drain: %s), so it would take no call:"
                " undrain one first"
                % (what, index, service["name"], ", ".join(rs["host"] for rs in service["real_servers"])),
                key="%s[%d].real_servers" % (what, index),
            )


def normalize_cluster(cluster, address_of, var="lvs_cluster", directors=None, drained_of=None):
    """Validate ``cluster`` (the inventory's ``lvs_cluster``) and return it in canonical form.

    ``address_of(host)`` returns the address of an inventory host (its
    ``lvs_address`` or ``ansible_host``) or None for a name the inventory lacks.
    With ``address_of=None`` real servers named by ``host`` are not resolved
    (their ``address`` stays None): enough to match them by name.
    ``directors`` (inventory hostnames, resolved with ``address_of``) adds the
    checks that need the directors' addresses: no VIP is a director's, and a VIP
    with a network vip_netmask is on the directors' network.
    ``drained_of(host)`` returns a real server's ``lvs_drain`` host variable
    (None when unset): a drained real server has weight 0 (see ``_drain``).
    Raises LvsError naming the offending variable path.
    """
    if cluster is None:
        raise LvsError("%s is not defined" % var, key=var)
    cluster = _mapping(cluster, var)
    _unknown(cluster, CLUSTER_KEYS, var)
    vrrp = _vrrp(cluster.get("vrrp"), var + ".vrrp")
    model = {
        "vrrp": vrrp,
        "sync_daemon": _sync(cluster.get("sync_daemon"), vrrp, var + ".sync_daemon"),
        "timeouts": _timeouts(cluster.get("timeouts"), var + ".timeouts"),
        "virtual_services": [],
    }
    what = var + ".virtual_services"
    for index, data in enumerate(_list(cluster.get("virtual_services"), what)):
        model["virtual_services"].append(_service(data, index, address_of, what))
    services = model["virtual_services"]
    for dup in find_duplicates([s["name"] for s in services]):
        raise LvsError("%s: the name %r is used by more than one service" % (what, dup), key=what)
    for dup in find_duplicates([s["fwmark"] for s in services if s["fwmark"] is not None]):
        raise LvsError("%s: fwmark %s is used by more than one service" % (what, dup), key=what)
    for dup in find_duplicates([(s["vip"], p["protocol"], p["port"]) for s in services for p in s["ports"]]):
        raise LvsError("%s: %s %s/%s is claimed by more than one service" % (what, dup[0], dup[2], dup[1]), key=what)
    _servers_are_not_vips(services, what)
    addresses = _director_addresses(directors, address_of)
    _vips_are_not_directors(services, addresses, what)
    _vips_on_director_networks(services, vrrp["networks"], addresses, what, var)
    _drain(services, drained_of, what)
    return model


def fwmark_rules(model):
    """The iptables mangle rules that mark the packets of every fwmark service."""
    rules = []
    for service in model["virtual_services"]:
        if service["fwmark"] is None:
            continue
        for port in service["ports"]:
            rules.append(
                {
                    "service": service["name"],
                    "family": service["family"],
                    "vip": service["vip"],
                    "protocol": port["protocol"],
                    "port": port["port"],
                    "mark": service["fwmark"],
                    # As iptables -S prints them: the VIP as a host network, the mark in hex.
                    "destination": "%s/%d" % (service["vip"], 128 if service["family"] == "inet6" else 32),
                    "set_mark": "0x%x/0xffffffff" % service["fwmark"],
                }
            )
    return rules


def vips_served_by(model, names, port=None, protocol=None):
    """The VIPs of the services whose real servers include one of ``names``
    (inventory hostnames or addresses), optionally only services that listen
    on ``port`` (and ``protocol``). In the model's order, without repeats."""
    wanted = {str(n) for n in names if n not in (None, "")}
    vips = []
    for service in model["virtual_services"]:
        if port is not None and not any(
            p["port"] == int(port) and (protocol is None or p["protocol"] == protocol) for p in service["ports"]
        ):
            continue
        served = any(rs["host"] in wanted or rs["address"] in wanted for rs in service["real_servers"])
        if served and service["vip"] not in vips:
            vips.append(service["vip"])
    return vips


IPVS_FAMILY = {"inet": "ipv4", "inet6": "ipv6"}


def _table_service(service, table):
    """The service of an IPVS table (ipvs_info's services) that is the model's ``service``, or None."""
    for entry in table:
        if entry.get("family", "ipv4") != IPVS_FAMILY[service["family"]]:
            continue
        if service["fwmark"] is not None:
            if entry.get("fwmark") == service["fwmark"]:
                return entry
        elif (
            not entry.get("fwmark")
            and entry.get("protocol") == service["protocol"]
            and entry.get("port") == service["port"]
            and ipaddress.ip_address(entry["address"]) == ipaddress.ip_address(service["vip"])
        ):
            return entry
    return None


def leaving_real_servers(model, table):
    """The real servers that a director's IPVS table (ipvs_info's ``services``) still has in a service of
    the model that no longer lists them (removed in the inventory): they must finish their calls before
    they leave (``hold_leaving``). Each is {service, address, port (None under a fwmark), flows}: flows
    are its active and inactive connection entries on that director, 0 once its last call and the
    flows IPVS keeps for it have ended."""
    leaving = []
    for service in model["virtual_services"]:
        entry = _table_service(service, table)
        if entry is None:
            continue
        listed = {(ipaddress.ip_address(rs["address"]), rs["port"] or 0) for rs in service["real_servers"]}
        for dest in entry.get("real_servers", []):
            if (ipaddress.ip_address(dest["address"]), dest.get("port") or 0) in listed:
                continue
            leaving.append(
                {
                    "service": service["name"],
                    "address": dest["address"],
                    "port": None if service["fwmark"] is not None else dest.get("port"),
                    "flows": dest.get("active_connections", 0) + dest.get("inactive_connections", 0),
                }
            )
    return leaving


def hold_leaving(model, leaving):
    """The model with each of ``leaving`` (from ``leaving_real_servers``) back in its service, drained
    (weight 0, named by its address): what a director runs while their calls end."""
    held = {**model, "virtual_services": []}
    for service in model["virtual_services"]:
        servers = list(service["real_servers"])
        for rs in leaving:
            if rs["service"] == service["name"]:
                servers.append(
                    {
                        "name": rs["address"],
                        "host": None,
                        "address": rs["address"],
                        "port": rs["port"],
                        "weight": 0,
                        "drained": True,
                    }
                )
        held["virtual_services"].append({**service, "real_servers": servers})
    return held


def director_settings(directors, me, address_of, priorities=None):
    """VRRP role of ``me`` among ``directors`` (inventory order; the first is
    the primary). ``priorities`` maps hosts to an explicit priority.

    Returns state, priority, own address and the peers' addresses."""
    directors = list(directors or [])
    if me not in directors:
        raise LvsError("host %r is not in the directors group %s" % (me, directors), key="directors")
    priorities = priorities or {}
    computed = {}
    for index, host in enumerate(directors):
        if priorities.get(host) not in (None, ""):
            computed[host] = check_range(priorities[host], "lvs_director_priority of %s" % host, 1, 254)
        else:
            computed[host] = max(1, 150 - 50 * index) if index < 2 else max(1, 100 - 10 * index)
    for dup in find_duplicates(list(computed.values())):
        raise LvsError(
            "directors %s share VRRP priority %s: set lvs_director_priority" % (directors, dup),
            key="lvs_director_priority",
        )
    addresses = {}
    for host in directors:
        found = address_of(host)
        if found is None:
            raise LvsError("director %r has no address" % host, key="lvs_address")
        addresses[host] = check_ip(found, "lvs_address of director %s" % host)
    top = max(computed.values())
    return {
        "state": "MASTER" if computed[me] == top else "BACKUP",
        "priority": computed[me],
        "address": addresses[me],
        "peers": [addresses[h] for h in directors if h != me],
    }
