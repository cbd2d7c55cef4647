# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The director role's piranha and static engines: the validated cluster model
(``_cluster.normalize_cluster``) turned into what the modules take.

Pure code, no I/O; errors are LvsError naming the variable.

* ``piranha_config`` - the whole-file ``config`` of ``sipvs.lvs.lvs_cf``
  (Piranha's lvs.cf: pulse, lvsd, nanny). What Piranha cannot express (the SIP
  persistence engine, one-packet scheduling, VRRPv3, quorum, ...) fails here
  instead of being dropped.
* ``static_services`` - the ``services`` of ``sipvs.lvs.ipvs_service``.
* ``static_settings`` - the ``timeouts``, ``sync_master`` and ``sync_backup``
  of ``sipvs.lvs.ipvs_settings``.
"""

from __future__ import annotations

import math

from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import director_settings
from ansible_collections.sipvs.lvs.plugins.module_utils._model import (
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
# nanny runs the SIP check as send_program; its own timeout must outlast the program's.
_PROGRAM_MARGIN = 1


def _setting(settings, key, check):
    """A setting left out or None takes its default (None: derived)."""
    value = settings.get(key)
    if value is None:
        value = PIRANHA_SETTINGS[key]
    return value if value is None else check(value, _SETTINGS_PREFIX + key)


def _settings(settings):
    settings = dict(settings or {})
    unknown = sorted(str(k) for k in settings if k not in PIRANHA_SETTINGS)
    if unknown:
        raise LvsError(
            "unknown piranha setting(s) %s (known: %s)" % (", ".join(unknown), ", ".join(PIRANHA_SETTINGS)),
            key="settings",
        )
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
    if service["scheduler"] not in PIRANHA_SCHEDULERS:
        _refuse(
            where + ".scheduler",
            "lvs.cf accepts only %s, got %r" % (", ".join(PIRANHA_SCHEDULERS), service["scheduler"]),
        )
    if service["fwmark"] is None and service["protocol"] not in ("tcp", "udp"):
        _refuse(where + ".protocol", "lvs.cf knows only tcp and udp services, got %r" % service["protocol"])
    if service["persistence_granularity"] is not None and not service["persistent"]:
        _refuse(where + ".persistence_granularity", "lvs.cf's pmask needs persistent > 0")
    sorry = service["sorry_server"]
    if sorry is not None and sorry["port"] not in (None, service["port"]):
        _refuse(
            where + ".sorry_server.port",
            "lvs.cf's sorry_server is an address only; it gets the service port %s, not %s"
            % (service["port"], sorry["port"]),
        )


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
        flags = ["--nanny", "--quiet", "--transport", check["transport"], "--port", str(check["port"])]
        flags += ["--timeout", _number_text(check["timeout"])]
        if check["codes"]:
            flags += ["--codes", ",".join(str(code) for code in check["codes"])]
        # %h: nanny puts the real server's address there. The program prints OK or FAIL and exits 0.
        options["send_program"] = " ".join([settings["sip_check_path"], *flags, "%h"])
        options["expect"] = "OK"
        options["use_regex"] = 0
        margin = _PROGRAM_MARGIN
    # nanny has one value for the check interval and the check's own timeout: the larger one, so that no
    # check is cut short, and a send_program always ends (printing FAIL) before nanny gives up on it
    # (nanny counts a program that times out as healthy).
    options["timeout"] = math.ceil(max(check["interval"], check["timeout"] + margin))
    return options


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
    aliases = {}
    virtuals = []
    what = var + ".virtual_services"
    for index, service in enumerate(model["virtual_services"]):
        alias = aliases.setdefault(service["vip"], len(aliases) + 1)
        virtuals.append(_virtual(service, alias, model["vrrp"]["interface"], settings, "%s[%d]" % (what, index)))
    return {"globals": {k: v for k, v in values.items() if v is not None}, "virtuals": virtuals}


def static_services(model):
    """The ``services`` of ``sipvs.lvs.ipvs_service`` (with ``purge: true`` the table is exactly these).

    IPVS only: health checks, quorum and sorry servers need a checker, which
    the static engine does not run; direct routing for every real server.
    """
    services = []
    for service in model["virtual_services"]:
        family = "ipv6" if service["family"] == "inet6" else "ipv4"
        if service["fwmark"] is not None:
            spec = {"fwmark": service["fwmark"], "family": family}
        else:
            spec = {"protocol": service["protocol"], "address": service["vip"], "port": service["port"]}
        spec["scheduler"] = service["scheduler"]
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


def static_settings(model, state):
    """``sipvs.lvs.ipvs_settings`` options: the model's non-zero timeouts (0 = leave the kernel's) and the
    sync daemon - master on the director whose ``state`` (director_settings) is MASTER, backup on the others;
    both stopped when the model's sync daemon is off."""
    if state not in ("MASTER", "BACKUP"):
        raise LvsError("state must be MASTER or BACKUP, got %r" % (state,), key="state")
    timeouts = {key: seconds for key, seconds in model["timeouts"].items() if seconds}
    sync = model["sync_daemon"]
    absent = {"state": "absent"}
    daemons = {"sync_master": absent, "sync_backup": absent}
    if sync["enabled"]:
        running = "sync_master" if state == "MASTER" else "sync_backup"
        daemons[running] = {"state": "present", "interface": sync["interface"], "syncid": sync["id"]}
        if sync["maxlen"] is not None:
            daemons[running]["maxlen"] = sync["maxlen"]
    return dict(timeouts=timeouts, **daemons)
