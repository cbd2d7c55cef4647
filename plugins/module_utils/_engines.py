# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The director role's engines: the validated cluster model
(``_cluster.normalize_cluster``) turned into plain data that a module takes or
a template prints.

Pure code, no I/O; errors are LvsError naming the variable.

* ``keepalived_config`` - keepalived.conf as sections and lines of words
  (``roles/director/templates/keepalived.conf.j2`` only prints them).
* ``piranha_config`` - the whole-file ``config`` of ``sipvs.lvs.lvs_cf``
  (Piranha's lvs.cf: pulse, lvsd, nanny). What Piranha cannot express (the SIP
  persistence engine, one-packet scheduling, VRRPv3, quorum, ...) fails here
  instead of being dropped.
* ``static_services`` - the ``services`` of ``sipvs.lvs.ipvs_service``.
* ``static_settings`` - the ``timeouts``, ``sync_master`` and ``sync_backup``
  of ``sipvs.lvs.ipvs_settings``.
* ``sync_daemons`` / ``sync_daemon_starts`` - the connection sync daemons every
  director runs (static and keepalived engines), as ``ipvs_settings`` options
  and as the ``ipvsadm`` arguments that start them at boot.
"""

from __future__ import annotations

import math
import re

from ansible_collections.sipvs.lvs.plugins.module_utils import _sip
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import director_settings
from ansible_collections.sipvs.lvs.plugins.module_utils._ipvs import plan_daemon
from ansible_collections.sipvs.lvs.plugins.module_utils._model import (
    FAMILIES,
    MAX_PORT,
    PIRANHA_SCHEDULERS,
    LvsError,
    check_netmask,
    check_port,
    check_range,
)

# The piranha engine's own settings (role variables director_<key>) and their defaults.
PIRANHA_SETTINGS = {
    # None: derived from the model's VRRP advert interval (keepalive = advert_int,
    # deadtime = 3 x advert_int, when keepalived declares a silent master dead).
    "piranha_keepalive": None,
    "piranha_deadtime": None,
    "piranha_heartbeat_port": 539,
    # Seconds a failed real server must pass its checks before nanny adds it back (the tutorial's 15).
    "piranha_reentry": 15,
    "sip_check_path": "/usr/local/bin/sipvs-sip-check",
}
_SETTINGS_PREFIX = "director_"
# Real-server port that nanny checks with an HTTP GET when no send/expect is given.
_NANNY_HTTP_PORT = 80
# keepalived (misc_timeout) and nanny (timeout) give the SIP check program this
# much longer than its own timeout, so it always ends (and says why) first.
_PROGRAM_MARGIN = 1


def _setting(settings, key, check):
    """A setting left out or None takes its default (None: derived)."""
    value = settings.get(key)
    if value is None:
        value = PIRANHA_SETTINGS[key]
    return value if value is None else check(value, _SETTINGS_PREFIX + key)


def _known_settings(settings, known, engine):
    """``settings`` as a dict, refused if it has a key the engine does not know."""
    settings = dict(settings or {})
    unknown = sorted(str(k) for k in settings if k not in known)
    if unknown:
        raise LvsError(
            "unknown %s setting(s) %s (known: %s)" % (engine, ", ".join(unknown), ", ".join(known)),
            key="settings",
        )
    return settings


def _settings(settings):
    settings = _known_settings(settings, PIRANHA_SETTINGS, "piranha")
    out = {
        "piranha_keepalive": _setting(settings, "piranha_keepalive", lambda v, w: check_range(v, w, 1, 2**31 - 1)),
        "piranha_deadtime": _setting(settings, "piranha_deadtime", lambda v, w: check_range(v, w, 1, 2**31 - 1)),
        "piranha_heartbeat_port": _setting(settings, "piranha_heartbeat_port", check_port),
        "piranha_reentry": _setting(settings, "piranha_reentry", lambda v, w: check_range(v, w, 0, 2**31 - 1)),
    }
    path = settings.get("sip_check_path")
    if path is None:
        path = PIRANHA_SETTINGS["sip_check_path"]
    # nanny splits send_program on spaces and execs it without a shell.
    if not isinstance(path, str) or not path.startswith("/") or any(c.isspace() or c in "\"'%" for c in path):
        raise LvsError(
            "%ssip_check_path must be an absolute path without spaces, quotes or %%, got %r" % (_SETTINGS_PREFIX, path),
            key=_SETTINGS_PREFIX + "sip_check_path",
        )
    out["sip_check_path"] = path
    return out


def _refuse(what, message):
    raise LvsError("%s: %s (director_engine piranha)" % (what, message), key=what)


def vrrp_hooks(vrrp):
    """The VRRP hook keys the model's ``vrrp`` sets: only the keepalived engine runs them."""
    hooks = [key for key in ("track_scripts", "track_interfaces") if vrrp[key]]
    return hooks + (["notify"] if any(vrrp["notify"].values()) else [])


def _number_text(value):
    return str(int(value)) if float(value) == int(value) else str(value)


def _heartbeat(vrrp, settings, var):
    """keepalive and deadtime of pulse: explicit, or derived from the VRRP timing."""
    if vrrp["version"] != 2:
        _refuse(
            var + ".vrrp.version",
            "is %s; Piranha's pulse heartbeat is not VRRP and has no VRRPv3 sub-second adverts:"
            " set version 2 (whole-second advert_int) or use director_engine keepalived" % vrrp["version"],
        )
    keepalive = settings["piranha_keepalive"]
    if keepalive is None:
        keepalive = int(vrrp["advert_int"])
    deadtime = settings["piranha_deadtime"]
    if deadtime is None:
        deadtime = 3 * keepalive
    if deadtime <= keepalive:
        raise LvsError(
            "%spiranha_deadtime (%d s) must be longer than the keepalive interval (%d s), or the backup takes"
            " over between two heartbeats" % (_SETTINGS_PREFIX, deadtime, keepalive),
            key=_SETTINGS_PREFIX + "piranha_deadtime",
        )
    return keepalive, deadtime


def _directors(directors, address_of, priorities):
    """(primary, backup or None) addresses: the MASTER of director_settings is pulse's primary."""
    directors = list(directors or [])
    if len(directors) > 2:
        raise LvsError(
            "directors %s: Piranha's pulse has one primary and one backup, not %d directors (director_group)"
            % (directors, len(directors)),
            key="director_group",
        )
    primary, backup = None, None
    for host in directors:
        me = director_settings(directors, host, address_of, priorities)
        if me["state"] == "MASTER":
            primary = me["address"]
        else:
            backup = me["address"]
    return primary, backup


def _service_restrictions(service, where):
    """Refuse what lvs.cf has no key for, naming the model variable."""
    if service["family"] != "inet":
        _refuse(where + ".vip", "%s is IPv6; lvs.cf brings a VIP up as an IPv4 interface alias" % service["vip"])
    if service["persistence_engine"] is not None:
        _refuse(where + ".persistence_engine", "lvs.cf has no persistence engine (IPVS --pe sip)")
    if service["one_packet"]:
        _refuse(where + ".one_packet", "lvs.cf has no one-packet scheduling (IPVS -o)")
    if service["quorum"] is not None:
        _refuse(where + ".quorum", "lvs.cf has no quorum")
    if service["scheduler_flags"]:
        _refuse(where + ".scheduler_flags", "lvs.cf has no scheduler flags")
    if service["scheduler"] not in PIRANHA_SCHEDULERS:
        _refuse(
            where + ".scheduler",
            "lvs.cf accepts only %s, got %r" % (", ".join(PIRANHA_SCHEDULERS), service["scheduler"]),
        )
    if service["fwmark"] is None and service["protocol"] not in ("tcp", "udp"):
        _refuse(where + ".protocol", "lvs.cf knows only tcp and udp services, got %r" % service["protocol"])
    if service["persistence_granularity"] is not None and not service["persistent"]:
        _refuse(where + ".persistence_granularity", "lvs.cf's pmask needs persistent > 0")


def _check_options(service, settings, where):
    """nanny's keys for the service's check: port, protocol, send/expect or send_program, timeout."""
    check = service["check"]
    kind = check["type"]
    what = where + ".check"
    if kind == "none":
        _refuse(what + ".type", "nanny always checks the real servers; give an http, tcp or sip check")
    options = {}
    if service["fwmark"] is not None:
        # For a fwmark service, port and protocol tell nanny what to check; the mark selects the traffic.
        options["port"] = check["port"]
        options["protocol"] = check["transport"] if kind == "sip" else "tcp"
    else:
        options["port"] = service["port"]
        options["protocol"] = service["protocol"]
        if kind != "sip" and check["port"] not in (None, service["port"]):
            _refuse(
                what + ".port",
                "nanny checks the port it balances (%s), not %s" % (service["port"], check["port"]),
            )
        if kind != "sip" and service["protocol"] != "tcp":
            _refuse(what + ".type", "nanny's %s check of a UDP service would go over UDP: use a sip check" % kind)
    margin = 0
    if kind == "http":
        codes = "|".join(str(code) for code in check["expect_status"])
        options["send"] = "GET %s HTTP/1.0\r\n\r\n" % check["path"]
        # Any HTTP reply would do for "HTTP" (the tutorial's expect); the model names the status codes.
        options["expect"] = "^HTTP/1\\.[01] (%s) " % codes
        options["use_regex"] = 1
    elif kind == "tcp":
        if options["port"] == _NANNY_HTTP_PORT:
            _refuse(
                what + ".type",
                "nanny sends an HTTP GET to port 80 when no send/expect is given, so a plain TCP check of"
                " port 80 cannot be written: use an http check",
            )
        options["use_regex"] = 0
    else:
        # %h: nanny puts the real server's address there. The program prints OK or FAIL and exits 0.
        options["send_program"] = " ".join(sip_check_argv(settings["sip_check_path"], check, "%h", nanny=True))
        options["expect"] = "OK"
        options["use_regex"] = 0
        margin = _PROGRAM_MARGIN
    # nanny has one value for the check interval and the check's own timeout: the larger one, so that no
    # check is cut short, and a send_program always ends (printing FAIL) before nanny gives up on it
    # (nanny counts a program that times out as healthy).
    options["timeout"] = math.ceil(max(check["interval"], check["timeout"] + margin))
    return options


def vip_aliases(model):
    """VIP -> its interface alias number (1, 2, ... in the order the services first name them).

    Both lvs.cf (``address VIP eth0:N``) and keepalived (``label eth0:N``) bring
    each VIP up as one alias of the VRRP interface."""
    aliases = {}
    for service in model["virtual_services"]:
        aliases.setdefault(service["vip"], len(aliases) + 1)
    return aliases


def sip_check_argv(program, check, target, nanny=False):
    """The SIP check program's command line for a model ``check`` of ``target``
    (keepalived's MISC_CHECK; with ``nanny``, Piranha's send_program)."""
    argv = [program] + (["--nanny"] if nanny else [])
    argv += ["--quiet", "--transport", check["transport"], "--port", str(check["port"])]
    argv += ["--timeout", _number_text(check["timeout"])]
    if check["codes"]:
        argv += ["--codes", ",".join(str(code) for code in check["codes"])]
    return [*argv, target]


def _virtual(service, alias, interface, settings, where):
    _service_restrictions(service, where)
    options = {
        "active": 1,
        "address": "%s %s:%d" % (service["vip"], interface, alias),
        "vip_nmask": check_netmask(service["vip_netmask"], where + ".vip_netmask"),
    }
    if service["fwmark"] is not None:
        options["fwmark"] = service["fwmark"]
    if service["persistent"]:
        options["persistent"] = service["persistent"]
        if service["persistence_granularity"] is not None:
            options["pmask"] = check_netmask(service["persistence_granularity"], where + ".persistence_granularity")
    if service["sorry_server"] is not None:
        options["sorry_server"] = service["sorry_server"]["address"]
    options.update(_check_options(service, settings, where))
    # No load_monitor: nanny would rewrite the weights from rup/ruptime load averages.
    options.update(load_monitor="none", scheduler=service["scheduler"])
    options.update(reentry=settings["piranha_reentry"], quiesce_server=0)
    servers = []
    for rs in service["real_servers"]:
        server = {"name": rs["name"], "address": rs["address"], "active": 1}
        if rs["port"] is not None:
            server["port"] = rs["port"]
        server["weight"] = rs["weight"]
        servers.append(server)
    return {"name": service["name"], "options": options, "servers": servers}


def piranha_config(model, directors, address_of, priorities=None, settings=None, var="lvs_cluster"):
    """The lvs.cf of the cluster as ``sipvs.lvs.lvs_cf``'s whole-file ``config``.

    ``directors`` are the inventory hostnames of the directors (at most two; the
    VRRP MASTER of ``director_settings`` is pulse's primary), ``address_of`` and
    ``priorities`` as for ``director_settings``; ``settings`` holds the
    PIRANHA_SETTINGS keys (role variables ``director_<key>``). The result is the
    same on both directors. ``serial_no`` is left to the module, which bumps it
    on every change. Raises LvsError, naming the variable, for what lvs.cf
    cannot express.

    Not expressed, by design: VRRP virtual_router_id and unicast (pulse
    heartbeats go to the partner's address), and check retries (nanny removes
    a server on its first failed check and adds it back after reentry).
    """
    settings = _settings(settings)
    for hook in vrrp_hooks(model["vrrp"]):
        _refuse(
            "%s.vrrp.%s" % (var, hook),
            "pulse runs no VRRP hooks (keepalived's track_script, track_interface, notify_*)",
        )
    keepalive, deadtime = _heartbeat(model["vrrp"], settings, var)
    primary, backup = _directors(directors, address_of, priorities)
    values = {
        "primary": primary,
        "service": "lvs",
        "backup_active": 1 if backup else 0,
        "backup": backup,
        "heartbeat": 1,
        "heartbeat_port": settings["piranha_heartbeat_port"],
        "keepalive": keepalive,
        "deadtime": deadtime,
        "network": "direct",
        "debug_level": "NONE",
        "monitor_links": 0,
        "syncdaemon": 1 if model["sync_daemon"]["enabled"] else 0,
    }
    if model["sync_daemon"]["maxlen"] is not None:
        _refuse(var + ".sync_daemon.maxlen", "lvs.cf has no sync message length")
    if model["sync_daemon"]["enabled"]:
        values.update(syncd_iface=model["sync_daemon"]["interface"], syncd_id=model["sync_daemon"]["id"])
    for key, seconds in model["timeouts"].items():
        if seconds:
            values[key + "_timeout"] = seconds
    aliases = vip_aliases(model)
    virtuals = []
    what = var + ".virtual_services"
    for index, service in enumerate(model["virtual_services"]):
        alias = aliases[service["vip"]]
        virtuals.append(_virtual(service, alias, model["vrrp"]["interface"], settings, "%s[%d]" % (what, index)))
    return {"globals": {k: v for k, v in values.items() if v is not None}, "virtuals": virtuals}


def static_services(model):
    """The ``services`` of ``sipvs.lvs.ipvs_service`` (with ``purge: true`` the table is exactly these).

    IPVS only: health checks, quorum and sorry servers need a checker, which
    the static engine does not run; direct routing for every real server.
    """
    services = []
    for service in model["virtual_services"]:
        family = FAMILIES[service["family"]]
        if service["fwmark"] is not None:
            spec = {"fwmark": service["fwmark"], "family": family}
        else:
            spec = {"protocol": service["protocol"], "address": service["vip"], "port": service["port"]}
        spec["scheduler"] = service["scheduler"]
        if service["scheduler_flags"]:
            spec["scheduler_flags"] = ["%s-%s" % (service["scheduler"], flag) for flag in service["scheduler_flags"]]
        spec["persistent"] = service["persistent"]
        if service["persistent"] and service["persistence_granularity"] is not None:
            prefix = service["persistence_granularity"]
            spec["persistence_netmask"] = str(prefix) if family == "ipv6" else check_netmask(prefix)
        if service["persistence_engine"] is not None:
            spec["persistence_engine"] = service["persistence_engine"]
        spec["one_packet"] = service["one_packet"]
        spec["real_servers"] = []
        for rs in service["real_servers"]:
            real_server = {"address": rs["address"], "forwarding": "route", "weight": rs["weight"]}
            if rs["port"] is not None:
                real_server["port"] = rs["port"]
            spec["real_servers"].append(real_server)
        services.append(spec)
    return services


def sync_daemons(model):
    """``sipvs.lvs.ipvs_settings``' ``sync_master`` and ``sync_backup``: with the model's sync daemon on,
    every director runs both, whatever its VRRP state; with it off, both are stopped.

    Both, always: a director that has just taken the VIPs - after a failover, or
    in a split brain when VRRP between the pair is cut and both hold them - must
    already know every connection the other one forwards, or the next packet of a
    call in progress (its BYE) is scheduled afresh, to another Asterisk (481).
    keepalived's own ``lvs_sync_daemon`` runs only the daemon of its state, so in
    a split brain neither director listened (measured on the lab, bench/partition.py).
    The kernel does not loop its own multicast back, so a director never reads its
    own messages."""
    sync = model["sync_daemon"]
    if not sync["enabled"]:
        return {"sync_master": {"state": "absent"}, "sync_backup": {"state": "absent"}}
    daemon = {"state": "present", "interface": sync["interface"], "syncid": sync["id"]}
    if sync["maxlen"] is not None:
        daemon["maxlen"] = sync["maxlen"]
    return {"sync_master": dict(daemon), "sync_backup": dict(daemon)}


def sync_daemon_starts(model):
    """The ``ipvsadm`` arguments that start the model's sync daemons (sync_daemons) on a director where
    none runs - at boot, before keepalived - or [] when the model has none."""
    daemons = sync_daemons(model)
    return [argv for name in ("master", "backup") for argv in plan_daemon(name, None, daemons["sync_" + name])]


def static_settings(model, var="lvs_cluster"):
    """``sipvs.lvs.ipvs_settings`` options: the model's non-zero timeouts (0 = leave the kernel's) and the
    sync daemons (sync_daemons). A VRRP hook is refused: the static engine runs no VRRP."""
    for hook in vrrp_hooks(model["vrrp"]):
        what = "%s.vrrp.%s" % (var, hook)
        raise LvsError(
            "%s: the static engine runs no VRRP: no hook would run (director_engine static)" % what, key=what
        )
    timeouts = {key: seconds for key, seconds in model["timeouts"].items() if seconds}
    return dict(timeouts=timeouts, **sync_daemons(model))


# The keepalived engine's own settings (role variables director_<key>): default and the pattern a value must match.
# Each ends up in keepalived.conf as one word, so none may carry a space, a quote, a brace or a comment sign.
_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
KEEPALIVED_SETTINGS = {
    "router_id": (None, _WORD),
    "vrrp_instance": ("VI_SIPVS", _WORD),
    "check_user": ("keepalived_script", re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")),
    # VRRPv2 PASS authentication: at most 8 characters (keepalived's limit); empty for none.
    "vrrp_auth_pass": ("", re.compile(r"^[!$%&()*+,./0-9:<=>?@A-Z\[\]^_`a-z|~-]{0,8}$")),
    "sip_check_path": (PIRANHA_SETTINGS["sip_check_path"], re.compile(r"^/[A-Za-z0-9_./+-]{1,254}$")),
    "sip_check_source_port": (5070, None),
}
_SECRET_SETTINGS = ("vrrp_auth_pass",)
# keepalived's require_reply for a SIP check: the first bytes of any SIP status line, "SIP/2.0 ".
_SIP_STATUS_PREFIX = b"SIP/2.0 ".hex()


def _keepalived_settings(settings, vrrp):
    settings = _known_settings(settings, KEEPALIVED_SETTINGS, "keepalived")
    out = {}
    for key, (default, pattern) in KEEPALIVED_SETTINGS.items():
        value = settings.get(key)
        value = default if value is None else value
        what = _SETTINGS_PREFIX + key
        if pattern is None:
            out[key] = check_port(value, what)
        elif not isinstance(value, str) or not pattern.fullmatch(value):
            # A secret's value is never part of a message.
            got = "" if key in _SECRET_SETTINGS else ", got %r" % (value,)
            raise LvsError("%s must match %s%s" % (what, pattern.pattern, got), key=what)
        else:
            out[key] = value
    if out["check_user"] == "root":
        raise LvsError("%scheck_user must not be root: the check programs run unprivileged" % _SETTINGS_PREFIX)
    if out["vrrp_auth_pass"] and vrrp["version"] != 2:
        raise LvsError(
            "%svrrp_auth_pass works only with VRRP version 2 (VRRPv3 has no authentication)" % _SETTINGS_PREFIX,
            key=_SETTINGS_PREFIX + "vrrp_auth_pass",
        )
    return out


def _words(*words):
    """One keepalived.conf line: a keyword and its values, as text."""
    return [str(word) for word in words]


def _retries(check):
    return [_words("retry", check["retry"]), _words("delay_before_retry", check["delay_before_retry"])]


def _checker(check, server, director, settings, udp_port):
    """The checker section of one real server: keyword, sub-sections, lines (None for no check)."""
    kind = check["type"]
    port = [_words("connect_port", check["port"])] if check["port"] else []
    if kind == "http":
        url = _section("url", [_words("path", check["path"]), _words("status_code", *check["expect_status"])])
        lines = [*port, _words("connect_timeout", check["timeout"]), *_retries(check)]
        return _section("HTTP_GET", lines, [url])
    if kind == "tcp":
        return _section("TCP_CHECK", [*port, _words("connect_timeout", check["timeout"]), *_retries(check)])
    if kind == "sip" and udp_port is not None:
        # keepalived sends the OPTIONS itself (no process per check) from a fixed source port per real
        # server: the request never changes, and the SIP stack answers a repeat of it (a retransmission,
        # to its transaction) at the port the first came from. Any "SIP/2.0 " reply counts.
        lines = [
            *port,
            _words("bindto", director["address"]),
            _words("bind_port", udp_port),
            _words("connect_timeout", check["timeout"]),
            _words("payload", _sip.options_payload(server["address"], check["port"], director["address"], udp_port)),
            _words("require_reply", _SIP_STATUS_PREFIX),
            # keepalived's default (255) would cut every SIP reply short and fail it.
            _words("max_reply_length", 65535),
            *_retries(check),
        ]
        return _section("UDP_CHECK", lines)
    if kind == "sip":
        command = '"%s"' % " ".join(sip_check_argv(settings["sip_check_path"], check, server["address"]))
        lines = [_words("misc_path", command), _words("misc_timeout", math.ceil(check["timeout"] + _PROGRAM_MARGIN))]
        return _section("MISC_CHECK", lines + _retries(check))
    return None


def _section(keyword, lines, sections=(), comment=None):
    return {"keyword": keyword, "comment": comment, "lines": lines, "sections": list(sections)}


def _native_sip_check(check):
    """keepalived's UDP_CHECK can send the OPTIONS itself; TCP, or required status codes, need the program."""
    return check["type"] == "sip" and check["transport"] == "udp" and not check["codes"]


def _same_family(first, second):
    return (":" in first) == (":" in second)


def _virtual_server(service, where, director, settings, next_udp_port):
    if service["fwmark"] is not None:
        keyword = "virtual_server fwmark %d" % service["fwmark"]
        lines = [_words("ip_family", "inet6")] if service["family"] == "inet6" else []
    else:
        keyword = "virtual_server %s %d" % (service["vip"], service["port"])
        lines = [_words("protocol", service["protocol"].upper())]
    lines.append(_words("lvs_sched", service["scheduler"]))
    lines += [_words("%s-%s" % (service["scheduler"], flag)) for flag in service["scheduler_flags"]]
    lines.append(_words("lvs_method", "DR"))
    lines.append(_words("delay_loop", service["check"]["interval"]))
    if service["persistent"]:
        lines.append(_words("persistence_timeout", service["persistent"]))
    if service["persistence_granularity"] is not None:
        lines.append(_words("persistence_granularity", service["persistence_granularity"]))
    if service["persistence_engine"]:
        lines.append(_words("persistence_engine", service["persistence_engine"]))
    if service["one_packet"]:
        lines.append(_words("ops"))
    if service["quorum"]:
        lines.append(_words("quorum", service["quorum"]))
    sorry = service["sorry_server"]
    if sorry:
        lines.append(_words("sorry_server", sorry["address"], *([sorry["port"]] if sorry["port"] else [])))
    servers = []
    for rs in service["real_servers"]:
        udp_port = None
        if _native_sip_check(service["check"]):
            if not _same_family(rs["address"], director["address"]):
                raise LvsError(
                    "%s.check: keepalived cannot send the SIP check of %s from the director's %s (another address"
                    " family); give the director an address of that family (lvs_address)"
                    % (where, rs["address"], director["address"]),
                    key=where + ".check",
                )
            udp_port = next_udp_port()
        checker = _checker(service["check"], rs, director, settings, udp_port)
        address = rs["address"] if rs["port"] is None else "%s %d" % (rs["address"], rs["port"])
        servers.append(
            _section(
                "real_server " + address, [_words("weight", rs["weight"])], [checker] if checker else [], rs["name"]
            )
        )
    ports = ", ".join("%d/%s" % (p["port"], p["protocol"]) for p in service["ports"])
    return _section(keyword, lines, servers, "%s: %s" % (service["name"], ports))


def _quoted(command):
    """A hook's argv as the one quoted string keepalived splits on blanks (its words have none, and no quote)."""
    return '"%s"' % " ".join(command)


def _track_script_name(script):
    return "sipvs_" + script["name"]


def _vrrp_scripts(vrrp):
    """One vrrp_script section per track script of the model."""
    return [
        _section(
            "vrrp_script " + _track_script_name(script),
            [_words("script", _quoted(script["command"]))]
            + [_words(key, script[key]) for key in ("interval", "timeout", "fall", "rise", "weight")],
        )
        for script in vrrp["track_scripts"]
    ]


def _vrrp_hook_lines(vrrp):
    """The vrrp_instance's notify_* lines and track_script / track_interface sections."""
    lines = [_words("notify_" + state, _quoted(command)) for state, command in vrrp["notify"].items() if command]
    sections = []
    if vrrp["track_scripts"]:
        sections.append(_section("track_script", [_words(_track_script_name(s)) for s in vrrp["track_scripts"]]))
    if vrrp["track_interfaces"]:
        sections.append(_section("track_interface", [_words(name) for name in vrrp["track_interfaces"]]))
    return lines, sections


def _virtual_addresses(model, interface):
    """virtual_ipaddress and, for VIPs of the other family, virtual_ipaddress_excluded.

    A VRRP instance speaks one address family (keepalived ignores the addresses of another in
    virtual_ipaddress): IPv4 when there is an IPv4 VIP. The excluded ones move with the instance
    but are not in its adverts."""
    netmasks = {}
    for service in model["virtual_services"]:
        netmasks.setdefault(service["vip"], (service["vip_netmask"], service["family"]))
    instance_family = "inet" if any(family == "inet" for dummy, family in netmasks.values()) else "inet6"
    advertised, excluded = [], []
    for vip, alias in vip_aliases(model).items():
        netmask, family = netmasks[vip]
        label = ["label", "%s:%d" % (interface, alias)] if family == "inet" else []
        line = _words("%s/%d" % (vip, netmask), "dev", interface, *label)
        (advertised if family == instance_family else excluded).append(line)
    sections = [_section("virtual_ipaddress", advertised)]
    if excluded:
        sections.append(_section("virtual_ipaddress_excluded", excluded))
    return sections


def keepalived_config(model, director, settings, var="lvs_cluster"):
    """keepalived.conf of one director as sections of lines of words.

    ``director`` is this director's place (``director_settings``: state,
    priority, address, peers); ``settings`` holds the KEEPALIVED_SETTINGS keys
    (role variables ``director_<key>``). Returns ``global_defs`` (lines),
    ``vrrp_scripts``, ``vrrp_instance`` and ``virtual_servers`` (sections: ``keyword``,
    ``comment``, ``lines``, ``sections``), each line a list of words; and the
    sync daemons the director runs beside keepalived: ``sync_daemons``
    (ipvs_settings options) and ``sync_daemon_starts`` (ipvsadm arguments for
    the unit's drop-in).
    """
    vrrp = model["vrrp"]
    settings = _keepalived_settings(settings, vrrp)
    global_defs = [
        _words("router_id", settings["router_id"]),
        _words("enable_script_security"),
        _words("script_user", settings["check_user"]),
    ]
    # No lvs_sync_daemon: keepalived would run only the daemon of its VRRP state;
    # the role runs both (sync_daemons), and the unit's drop-in starts them at boot.
    timeouts = [word for key, seconds in model["timeouts"].items() if seconds for word in (key, seconds)]
    if timeouts:
        global_defs.append(_words("lvs_timeouts", *timeouts))

    lines = [
        _words("state", director["state"]),
        _words("interface", vrrp["interface"]),
        _words("virtual_router_id", vrrp["virtual_router_id"]),
        _words("priority", director["priority"]),
        _words("advert_int", vrrp["advert_int"]),
        _words("version", vrrp["version"]),
    ]
    sections = []
    if vrrp["unicast"]:
        lines.append(_words("unicast_src_ip", director["address"]))
        sections.append(_section("unicast_peer", [_words(peer) for peer in director["peers"]]))
    if settings["vrrp_auth_pass"]:
        auth = [_words("auth_type", "PASS"), _words("auth_pass", settings["vrrp_auth_pass"])]
        sections.append(_section("authentication", auth))
    sections += _virtual_addresses(model, vrrp["interface"])
    hook_lines, hook_sections = _vrrp_hook_lines(vrrp)
    vrrp_instance = _section("vrrp_instance " + settings["vrrp_instance"], lines + hook_lines, sections + hook_sections)

    first_port = settings["sip_check_source_port"]
    udp_ports = iter(range(first_port, MAX_PORT + 1))

    def next_udp_port():
        port = next(udp_ports, None)
        if port is None:
            raise LvsError(
                "%ssip_check_source_port %d leaves too few source ports for the SIP checks"
                % (_SETTINGS_PREFIX, first_port),
                key=_SETTINGS_PREFIX + "sip_check_source_port",
            )
        return port

    what = var + ".virtual_services"
    servers = [
        _virtual_server(service, "%s[%d]" % (what, index), director, settings, next_udp_port)
        for index, service in enumerate(model["virtual_services"])
    ]
    return {
        "global_defs": global_defs,
        "vrrp_scripts": _vrrp_scripts(vrrp),
        "vrrp_instance": vrrp_instance,
        "virtual_servers": servers,
        "sync_daemons": sync_daemons(model),
        "sync_daemon_starts": sync_daemon_starts(model),
    }
