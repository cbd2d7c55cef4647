# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Piranha's lvs.cf as the cluster model: the inverse of ``_engines.piranha_config``.

Pure code, no I/O. Errors are LvsError naming the source (the file's name as
the caller gives it) and the lvs.cf line where there is one.

Public API::

    result = cluster_from_lvs_cf(config, mangle_rules=None, source="lvs.cf")
    rules, notes = parse_mangle_rules(text)
    to_yaml(data)        # YAML text (sequences indented, strings quoted where YAML would misread them)

``config`` is the lvs.cf text (parsed here with ``_lvs_cf.parse`` and
``validate``: line numbers in the notes and errors) or the ``config`` dict that
``sipvs.lvs.lvs_cf`` returns (``_lvs_cf.to_config``; no line numbers).
``mangle_rules`` is the output of ``iptables -t mangle -S`` or the
``iptables -t mangle -A PREROUTING ...`` commands that mark the packets of the
fwmark services (text, or a list of lines): they give a fwmark service its
ports. The result::

    {"lvs_cluster": {...},      # the model in its raw inventory form, minimal: keys equal to the model's
                                # defaults are left out
     "hosts": {"directors": {"director1": "172.16.11.74", ...},   # inventory name -> address
               "realservers": {"server-01": "172.16.11.76", ...},
               "asterisk": {...}},  # the real servers of the services with a SIP check
     "notes": [{"key": "virtual web01 / server server-01 / weight", "line": 32,
                "to": "virtual_services[0].real_servers[0].weight", "how": "..."}, ...],
     "table": ["line  lvs.cf key ...", ...],   # the notes as text columns
     "cluster_yml": "---\\n..."}               # group_vars/all/cluster.yml: the model and the notes

Every lvs.cf key gets a note (where it went, how it was translated, or why it
was dropped), and so does every block, every repeated key (the last one
counts, as in Piranha), every mangle rule used or left out, and what the model
takes by default because lvs.cf has no word for it (``key`` empty). The model
passes ``_cluster.normalize_cluster`` with the hosts as its addresses; it is
checked before it is returned.

Translations: primary and backup (only with ``backup_active = 1``) become the
directors director1 (the VRRP MASTER) and director2; keepalive becomes
``vrrp.advert_int`` (version 2, faithful; the notes recommend version 3 with
0.2 s adverts); the VIP's interface comes from its alias (``eth0:1`` ->
``vrrp.interface`` eth0); a server's ``server NAME`` names its host (one host
per address, over all virtuals), ``active = 0`` drains it (weight 0) and
omits a virtual; nanny's ``timeout`` (the check interval and the connect
timeout in one) becomes ``check.interval`` and, for HTTP and TCP checks,
``check.timeout``; send/expect become an HTTP check (GET PATH, the status
codes of the expect) or a TCP check; a send_program that probes SIP (``sip``
in its name or arguments) becomes the SIP OPTIONS check; fwmark services take
their ports from the MARK rules, else from ``port`` and ``protocol``.

Refused, naming the line: NAT and tunnel clusters (``network = nat|tunnel``,
or no ``network`` key: Piranha's default is nat), ``service = fos``, a virtual
without an address, without an interface alias in it or without servers, VIPs
on more than one interface, a service name for a port that the table below
does not know, and what ``_lvs_cf`` refuses (syntax and values, with their
line).
"""

from __future__ import annotations

import json
import re
import shlex
import textwrap
from collections.abc import Mapping

from ansible_collections.sipvs.lvs.plugins.module_utils import _lvs_cf
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import (
    CHECK_DEFAULTS,
    CLUSTER_KEYS,
    NAME_RE,
    SERVICE_KEYS,
    VRRP_DEFAULTS,
    normalize_cluster,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError, check_prefix

# Piranha's defaults for keys a file leaves out (lvsconfig.c).
PIRANHA_DEFAULTS = {"keepalive": 2, "deadtime": 5, "port": 80, "protocol": "tcp", "scheduler": "wlc", "timeout": 10}
# Service names a port may be given as (Piranha looks them up as tcp in /etc/services); others are refused.
PORT_NAMES = {
    "ftp": 21,
    "ssh": 22,
    "telnet": 23,
    "smtp": 25,
    "domain": 53,
    "http": 80,
    "www": 80,
    "pop3": 110,
    "imap": 143,
    "https": 443,
    "smtps": 465,
    "submission": 587,
    "imaps": 993,
    "pop3s": 995,
    "mysql": 3306,
    "sip": 5060,
    "sip-tls": 5061,
    "sips": 5061,
    "http-alt": 8080,
}
# What the notes recommend for the VRRP timing (the lab's failover bench: 0.7 s outage against 18.9 s with
# the tutorial's keepalive 6 / deadtime 18).
RECOMMENDED_VERSION = 3
RECOMMENDED_ADVERT = 0.2
MAX_ADVERT = 255
# A UDP connection entry must outlive the longest silence inside a call.
RECOMMENDED_UDP_TIMEOUT = 60
# The longest port range of a MARK rule that is listed port by port.
MAX_RANGE = 256
DIRECTOR_NAMES = ("director1", "director2")
_OWN_SIP_PROGRAM = "sipvs-sip-check"
_HTTP_SEND_RE = re.compile(r"(GET|HEAD) (\S+) HTTP/1\.[01]\r?\n")
# The expect piranha_config writes for an http check (use_regex = 1).
_ENGINE_EXPECT_RE = re.compile(r"\^HTTP/1\\\.\[01\] \(([0-9]{3}(?:\|[0-9]{3})*)\) ")
_STATUS_EXPECT_RE = re.compile(r"HTTP/1\.[01] ([1-5][0-9]{2})(?![0-9])")
_SIP_SEND_RE = re.compile(r"(OPTIONS|INVITE|REGISTER|INFO) sips?:", re.IGNORECASE)
_HOST_CHARS_RE = re.compile(r"[^A-Za-z0-9_.-]+")
# Names of services and real servers end in keepalived.conf comments and lvs.cf block names.
MAX_NAME = 64
# An HTTP check's path as keepalived.conf and lvs.cf can carry it: one word, no quote, brace, #, ! or $.
_CHECK_PATH_RE = re.compile(r"/[A-Za-z0-9._~&()*+,;=:@%/?-]{0,1023}")
_IPV4_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
# The notes table's width: the yaml result format of ansible-playbook folds longer strings.
TABLE_WIDTH = 76


def _lines(block):
    return block.effective()


def _lineno(lines, key):
    line = lines.get(key)
    return line.lineno if line is not None else None


def _show(value):
    """A value as a note shows it: strings quoted (send, expect and programs read back as they were written)."""
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _number_text(value):
    return str(int(value)) if float(value) == int(value) else str(value)


_HEARTBEAT_PORT_NOTE = (
    "dropped: VRRP is IP protocol 112 to 224.0.0.18 (or to the peers with vrrp.unicast), not UDP port %s:"
    " let it through the directors' firewalls"
)
_NETWORK_NOTE = "direct: route, the model's only forwarding method (keepalived lvs_method DR), its default"


class _Notes:
    def __init__(self):
        self.items = []

    def add(self, key, line, to, how):
        self.items.append({"key": key, "line": line, "to": to, "how": how})


# ---------------------------------------------------------------------------
# mangle rules


def _mark_of(text):
    """``3``, ``0x3`` or ``0x3/0xffffffff`` -> (mark, mask or None)."""
    value, _sep, mask = text.partition("/")
    return int(value, 0), (int(mask, 0) if mask else None)


def _port_list(text, what):
    """``5060``, ``5060:5061`` or (multiport) ``5060,5061,6000:6010`` -> a list of ports."""
    ports = []
    for part in text.split(","):
        low, sep, high = part.partition(":")
        first = int(low) if low else 0
        last = (int(high) if high else 65535) if sep else first
        if last - first >= MAX_RANGE:
            raise ValueError("%s %s spans %d ports (more than %d)" % (what, part, last - first + 1, MAX_RANGE))
        if not 1 <= first <= last <= 65535:
            raise ValueError("%s %s is not a port or port range" % (what, part))
        ports.extend(range(first, last + 1))
    return ports


_RULE_OPTIONS = {
    "-t": "table",
    "--table": "table",
    "-A": "chain",
    "--append": "chain",
    "-I": "chain",
    "--insert": "chain",
    "-p": "protocol",
    "--protocol": "protocol",
    "-d": "destination",
    "--destination": "destination",
    "--dst": "destination",
    "--dport": "dport",
    "--destination-port": "dport",
    "--dports": "dports",
    "--destination-ports": "dports",
    "-j": "jump",
    "--jump": "jump",
    "--set-mark": "mark",
    "--set-xmark": "mark",
    "-m": "match",
    "--match": "match",
}
# Options that narrow a rule in a way the model's MARK rules (VIP, protocol, port) do not: kept in the note.
_NARROWING = ("-s", "--source", "--src", "-i", "--in-interface", "--sport", "--source-port", "--sports")


def _rule(tokens):
    """The options of one rule -> dict (values of the options above), list of narrowing options, negated."""
    rule = {"extra": [], "negated": False}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "!":
            rule["negated"] = True
            index += 1
            continue
        value = tokens[index + 1] if index + 1 < len(tokens) else None
        name = _RULE_OPTIONS.get(token)
        if name is not None:
            if value is None or (value.startswith("-") and not value[1:].isdigit()):
                raise ValueError("%s has no value" % token)
            if name == "match":
                pass
            elif name in rule and name != "chain":
                raise ValueError("%s given twice" % token)
            else:
                rule[name] = value
            index += 2
            if name == "chain" and token in ("-I", "--insert") and index < len(tokens) and tokens[index].isdigit():
                index += 1
            continue
        if token in _NARROWING and value is not None:
            rule["extra"].append("%s %s" % (token, value))
            index += 2
            continue
        if token.startswith("-"):
            # An option of a match (-m state --state NEW, -m comment --comment ...): kept in the note.
            if value is not None and not value.startswith("-"):
                rule["extra"].append("%s %s" % (token, value))
                index += 2
            else:
                rule["extra"].append(token)
                index += 1
            continue
        raise ValueError("unexpected word %r" % token)
    return rule


def parse_mangle_rules(text):
    """The MARK rules of ``iptables -t mangle -S`` output or ``iptables -t mangle -A ...`` commands.

    Returns (rules, notes): each rule {"line", "text", "chain", "mark", "mask", "protocol", "ports",
    "vip" (None: any destination), "extra" (narrowing options, as written)}; notes (line, text, why) for the
    MARK rules that cannot be used. Blank lines, comments, policies (-P), chains (-N) and rules that are not
    MARK rules are skipped without a note (``iptables -S`` lists every rule of the table).
    """
    if text is None:
        return [], []
    lines = text if isinstance(text, (list, tuple)) else str(text).split("\n")
    rules, notes = [], []
    for number, raw in enumerate(lines, 1):
        line = str(raw).strip()
        if not line or line.startswith("#"):
            continue
        try:
            tokens = shlex.split(line)
        except ValueError:
            tokens = line.split()
        if tokens and tokens[0] == "sudo":
            tokens = tokens[1:]
        if tokens and tokens[0].rsplit("/", 1)[-1] in ("iptables", "iptables-legacy", "iptables-nft"):
            tokens = tokens[1:]
        if not tokens or tokens[0] not in ("-A", "--append", "-I", "--insert", "-t", "--table"):
            continue
        if "MARK" not in tokens:
            continue
        try:
            rule = _rule(tokens)
        except ValueError as exc:
            notes.append((number, line, "not understood (%s): not used" % exc))
            continue
        if rule.get("jump") != "MARK" or "mark" not in rule:
            continue
        if rule.get("table", "mangle") != "mangle":
            notes.append((number, line, "not in the mangle table: not used"))
            continue
        if rule["negated"]:
            notes.append((number, line, "a negated match (!) the model's MARK rules cannot express: not used"))
            continue
        try:
            mark, mask = _mark_of(rule["mark"])
            ports = []
            if "dport" in rule:
                ports = _port_list(rule["dport"], "--dport")
            elif "dports" in rule:
                ports = _port_list(rule["dports"], "--dports")
        except ValueError as exc:
            notes.append((number, line, "%s: not used" % exc))
            continue
        protocol = rule.get("protocol", "").lower()
        if not ports or protocol not in ("tcp", "udp", "sctp"):
            notes.append((number, line, "marks no single tcp, udp or sctp port: the model lists each port, not used"))
            continue
        vip = rule.get("destination")
        if vip is not None:
            address, _sep, prefix = vip.partition("/")
            if prefix not in ("", "32", "255.255.255.255") or not _IPV4_RE.fullmatch(address):
                notes.append((number, line, "marks a network (%s), not one VIP: not used" % vip))
                continue
            vip = address
        rules.append(
            {
                "line": number,
                "text": line,
                "chain": rule.get("chain"),
                "mark": mark,
                "mask": mask,
                "protocol": protocol,
                "ports": ports,
                "vip": vip,
                "extra": rule["extra"],
            }
        )
    return rules, notes


# ---------------------------------------------------------------------------
# the document


def _check_alias(value, where, source, line):
    """A virtual's address must carry its interface alias: it says which interface the VIP goes up on."""
    if isinstance(value, str) and len(value.split()) == 1:
        raise LvsError(
            "%s: address = %s has no interface alias (for example '%s eth0:1'): the VIP's interface"
            " (vrrp.interface) cannot be known" % (where, value.strip(), value.strip()),
            source,
            line,
            "address",
        )


def _document(config, source):
    """(Document, whether it is the file's text): the lvs.cf parsed and validated."""
    if isinstance(config, str):
        doc = _lvs_cf.parse(config, source)
        for block in doc.virtuals():
            lines = _lines(block)
            if "address" in lines:
                _check_alias(lines["address"].value, block.label(), source, lines["address"].lineno)
        _lvs_cf.validate(doc)
        return doc, True
    if isinstance(config, Mapping):
        for virtual in config.get("virtuals") or []:
            if isinstance(virtual, Mapping) and isinstance(virtual.get("options"), Mapping):
                _check_alias(virtual["options"].get("address"), "virtual %s" % virtual.get("name"), source, None)
        doc = _lvs_cf.parse("", source)
        try:
            _lvs_cf.apply_config(doc, dict(config))
        except LvsError as exc:
            exc.path = source
            raise
        _lvs_cf.validate(doc)
        return doc, False
    raise LvsError(
        "the lvs.cf to migrate must be its text or the config dict of sipvs.lvs.lvs_cf, got %s" % type(config).__name__,
        source,
    )


def _minimal(data, defaults):
    return {key: value for key, value in data.items() if key not in defaults or defaults[key] != value}


def _host_name(name, index):
    """An inventory host name from a ``server NAME``: letters, digits and ``_.-``, starting with a letter or
    digit, at most MAX_NAME characters (room left for a suffix that makes it unique)."""
    text = _HOST_CHARS_RE.sub("-", name).strip("-._")[: MAX_NAME - 4].rstrip("-._")
    return text if text and NAME_RE.match(text) else "rs%d" % index


class _Migration:
    def __init__(self, doc, source, serial_no=None):
        self.doc = doc
        self.source = source
        self.notes = _Notes()
        self.directors = {}
        self.realservers = {}
        self.host_of = {}  # address -> real server host name
        self.asterisk = []
        self.vrrp = {}
        self.sync = {}
        self.timeouts = {}
        self.services = []
        self.interface = None
        self.interface_line = None
        self.aliases = {}  # VIP -> the alias number keepalived gives it
        self.serial_no = serial_no

    def refuse(self, message, line=None, key=None):
        raise LvsError(message, self.source, line, key)

    def repeats(self, block, prefix):
        """A note for each key line that a later line of the same key overrides."""
        effective = _lines(block)
        for line in block.key_lines():
            last = effective[line.key]
            if line is not last:
                self.notes.add(
                    prefix + line.key,
                    line.lineno,
                    "",
                    "repeated: line %s counts (the last one, as in Piranha); this %s is ignored"
                    % (last.lineno, _show(line.value)),
                )

    # -- globals ----------------------------------------------------------

    def globals_(self):
        root = self.doc.root
        values, lines = root.values(), _lines(root)
        self.repeats(root, "")

        def line(key):
            return _lineno(lines, key)

        if values.get("service") == "fos":
            self.refuse(
                "service = fos: Piranha runs its failover services (fos), not LVS: there is no LVS cluster to migrate",
                line("service"),
                "service",
            )
        network = values.get("network")
        if network is None:
            self.refuse(
                "no network key: Piranha's default is nat, and the model is direct routing only; add"
                " network = direct if this cluster routes directly",
                None,
                "network",
            )
        if network != "direct":
            self.refuse(
                "network = %s: %s forwarding; the model is direct routing only (keepalived lvs_method DR),"
                " so this cluster cannot be migrated as it is"
                % (network, "NAT (masquerading)" if network == "nat" else "IP tunnel"),
                line("network"),
                "network",
            )
        if "serial_no" not in values and self.serial_no is not None:
            self.notes.add("serial_no", None, "", "dropped: the Piranha GUI's save counter (%s)" % self.serial_no)
        keepalive = values.get("keepalive", PIRANHA_DEFAULTS["keepalive"])
        if keepalive > MAX_ADVERT:
            self.refuse(
                "keepalive = %d: VRRP adverts at most every %d s (vrrp.advert_int)" % (keepalive, MAX_ADVERT),
                line("keepalive"),
                "keepalive",
            )
        self.vrrp["advert_int"] = keepalive
        for key in sorted(lines, key=lambda k: lines[k].lineno or 0):
            self.global_key(key, values[key], values, line(key))
        if "primary" not in values:
            self.notes.add(
                "", None, "hosts.directors", "lvs.cf names no primary: add the directors to hosts.yml yourself"
            )
        if "keepalive" not in values:
            self.notes.add(
                "",
                None,
                "vrrp.advert_int",
                "%d: no keepalive key, Piranha's default (%d s); %s" % (keepalive, keepalive, self.advice(keepalive)),
            )
        if values.get("syncdaemon") == 1 and "syncd_iface" not in values:
            self.sync["interface"] = "eth0"
            self.notes.add("", None, "sync_daemon.interface", "eth0: no syncd_iface key, Piranha's default (eth0)")

    def advice(self, keepalive):
        return (
            "keepalived declares a silent master dead after about 3 x advert_int (%s s). Recommended:"
            " vrrp.version %d with advert_int %s, a takeover well under a second (the lab's failover bench"
            " measured a 0.7 s outage against 18.9 s with the tutorial's keepalive 6 / deadtime 18)"
            % (_number_text(3 * keepalive), RECOMMENDED_VERSION, RECOMMENDED_ADVERT)
        )

    def global_key(self, key, value, values, line):
        add = self.notes.add
        dropped = {
            "serial_no": "dropped: the Piranha GUI's save counter",
            "service": "lvs: Piranha's LVS mode (pulse, lvsd and nanny); keepalived does all three",
            "rsh_command": "dropped: the GUI copied lvs.cf to the other director with rsh/ssh (sync = 1); Ansible"
            " configures both directors",
            "sync": "dropped: the GUI's copy of lvs.cf to the other director; Ansible configures both directors",
            "debug_level": "dropped: Piranha's log level (keepalived logs to syslog)",
            "hard_shutdown": "dropped: a pulse setting with no keepalived counterpart in the model",
            "ipvsadm": "dropped: the path of ipvsadm; keepalived programs IPVS itself",
            "primary_private": "dropped: a private heartbeat address; VRRP runs on vrrp.interface (vrrp.unicast"
            " sends its adverts to the peers' addresses)",
            "backup_private": "dropped: a private heartbeat address; VRRP runs on vrrp.interface (vrrp.unicast"
            " sends its adverts to the peers' addresses)",
            "primary_shared": "dropped: a shared-disk device of Piranha's failover services, not LVS",
            "backup_shared": "dropped: a shared-disk device of Piranha's failover services, not LVS",
            "reservation_conflict_action": "dropped: shared-disk reservation of Piranha's failover services, not LVS",
            "nat_router": "dropped: the real servers' gateway of a NAT cluster; this one routes directly",
            "nat_nmask": "dropped: the netmask of a NAT cluster's router address; this one routes directly",
        }
        if key in dropped:
            add(key, line, "", dropped[key])
        elif key == "primary":
            self.directors[DIRECTOR_NAMES[0]] = value
            how = "director1 (ansible_host %s), the VRRP MASTER: first in the directors group (priority 150)" % value
            if not _IPV4_RE.fullmatch(value):
                how += "; %s is a host name: set lvs_address of director1 to its address" % value
            add(key, line, "hosts.directors.director1", how)
        elif key == "backup_active":
            how = "1: the backup director joins the directors group" if value else "0: one director, no backup"
            add(key, line, "hosts.directors", how)
        elif key == "backup":
            if values.get("backup_active") == 1:
                self.directors[DIRECTOR_NAMES[1]] = value
                how = "director2 (ansible_host %s), the VRRP BACKUP (priority 100)" % value
                if not _IPV4_RE.fullmatch(value):
                    how += "; %s is a host name: set lvs_address of director2 to its address" % value
                add(key, line, "hosts.directors.director2", how)
            else:
                add(
                    key,
                    line,
                    "",
                    "dropped: backup_active is not 1, so pulse ran no backup; add director2 to hosts.yml for a pair",
                )
        elif key == "heartbeat":
            how = (
                "1: pulse's heartbeat becomes keepalived's VRRP adverts"
                if value
                else "0: pulse sent no heartbeat; VRRP always advertises"
            )
            add(key, line, "vrrp", how)
        elif key == "heartbeat_port":
            add(key, line, "", _HEARTBEAT_PORT_NOTE % value)
        elif key == "keepalive":
            default = " (the model's default)" if value == VRRP_DEFAULTS["advert_int"] else ""
            add(
                key,
                line,
                "vrrp.advert_int",
                "%d%s with VRRP version 2 (whole seconds, as pulse's heartbeat interval); %s"
                % (value, default, self.advice(value)),
            )
        elif key == "deadtime":
            keepalive = values.get("keepalive", PIRANHA_DEFAULTS["keepalive"])
            if value == 3 * keepalive:
                how = "dropped: VRRP has no dead time of its own; the backup takes over after about 3 x advert_int ="
                how += " %d s, as deadtime %d did" % (3 * keepalive, value)
            else:
                how = "dropped: VRRP has no dead time of its own; the backup now takes over after about 3 x"
                how += " advert_int = %d s instead of %d s" % (3 * keepalive, value)
            add(key, line, "", how)
        elif key == "network":
            add(key, line, "virtual_services[*].forwarding", _NETWORK_NOTE)
        elif key == "monitor_links":
            how = (
                "dropped: pulse failed over when a link went down; so does keepalived when vrrp.interface loses its"
                " link (the VRRP instance goes to FAULT)"
                if value
                else "dropped: pulse did not watch the links; keepalived fails over when vrrp.interface loses its link"
            )
            add(key, line, "", how)
        elif key in ("active_cmd", "inactive_cmd"):
            state = "active" if key == "active_cmd" else "inactive"
            add(
                key,
                line,
                "",
                "dropped: pulse ran %s when this director became %s; keepalived's notify scripts (notify_master,"
                " notify_backup) are not part of the model: port it by hand" % (_show(value), state),
            )
        elif key == "syncdaemon":
            if value:
                self.sync["enabled"] = True
                how = "true: the IPVS connection sync daemons (master and backup on every director),"
                how += " so connections survive a takeover"
            else:
                how = "false (the model's default): no connection sync; a takeover drops the connections"
            add(key, line, "sync_daemon.enabled", how)
        elif key == "syncd_iface":
            if values.get("syncdaemon") == 1:
                self.sync["interface"] = value
                add(key, line, "sync_daemon.interface", "%s (left out when it is vrrp.interface)" % value)
            else:
                add(key, line, "", "dropped: syncdaemon is not 1, the sync daemon is off")
        elif key == "syncd_id":
            if values.get("syncdaemon") == 1:
                self.sync["id"] = value
                add(key, line, "sync_daemon.id", "%d%s" % (value, " (the model's default)" if value == 0 else ""))
            else:
                add(key, line, "", "dropped: syncdaemon is not 1, the sync daemon is off")
        elif key in ("tcp_timeout", "tcpfin_timeout", "udp_timeout"):
            name = key[: -len("_timeout")]
            if value:
                self.timeouts[name] = value
                how = "%d s (keepalived lvs_timeouts, ipvsadm --set)" % value
            else:
                how = "0: the kernel's default (the model's default)"
            if key == "udp_timeout" and 0 < value < RECOMMENDED_UDP_TIMEOUT:
                how += (
                    ". Warning: a UDP connection entry must outlive the longest silence inside a call: with %d s a"
                    " 20 s call (the tutorial's SIPp test) loses its entry, its BYE is scheduled anew, often to"
                    " another Asterisk (481). %d recommended" % (value, RECOMMENDED_UDP_TIMEOUT)
                )
            add(key, line, "timeouts.%s" % name, how)
        else:  # pragma: no cover - every key of _lvs_cf.GLOBAL_KEYS is handled above (a unit test checks)
            add(key, line, "", "dropped: not known to the migration")

    # -- virtuals ---------------------------------------------------------

    def host_for(self, address, name):
        if address in self.host_of:
            return self.host_of[address]
        base = _host_name(name, len(self.host_of) + 1)
        taken = set(self.realservers) | set(self.directors) | set(DIRECTOR_NAMES)
        host, suffix = base, 2
        while host in taken:
            host = "%s-%d" % (base, suffix)
            suffix += 1
        self.host_of[address] = host
        self.realservers[host] = address
        return host

    def omit_virtual(self, block, why):
        label = block.label()
        self.notes.add(label, block.head.lineno, "", "omitted: %s" % why)
        for key, line in _lines(block).items():
            self.notes.add("%s / %s" % (label, key), line.lineno, "", "omitted with its virtual")
        for sblock in block.blocks("server"):
            slabel = "%s / %s" % (label, sblock.label())
            self.notes.add(slabel, sblock.head.lineno, "", "omitted with its virtual")
            for key, line in _lines(sblock).items():
                self.notes.add("%s / %s" % (slabel, key), line.lineno, "", "omitted with its virtual")

    def virtuals(self, rules):
        marks_used = set()
        for block in self.doc.virtuals():
            values, lines = block.values(), _lines(block)
            if values.get("active", 1) == 0:
                self.omit_virtual(
                    block,
                    "active = 0, the virtual was disabled in Piranha (add it to virtual_services to bring it back)",
                )
                continue
            if "fwmark" in values:
                marks_used.add(values["fwmark"])
            self.virtual(block, values, lines, rules)
        for rule in rules:
            if rule["mark"] not in marks_used:
                self.notes.add(
                    "mangle rule %d" % rule["line"],
                    None,
                    "",
                    "not used: no active virtual has fwmark %d (%s)" % (rule["mark"], rule["text"]),
                )

    def port_number(self, value, where, line):
        if isinstance(value, int):
            return value
        if value in PORT_NAMES:
            return PORT_NAMES[value]
        self.refuse(
            "%s: port = %s is a service name this migration does not know: give the port number" % (where, value),
            line,
            "port",
        )
        return None  # pragma: no cover

    def virtual(self, block, values, lines, rules):
        label = block.label()
        index = len(self.services)
        where = "virtual_services[%d]" % index
        self.repeats(block, label + " / ")
        head = block.head.lineno
        if "address" not in values:
            self.refuse("%s has no address: the VIP cannot be known" % label, head, "address")
        servers = block.blocks("server")
        if not servers:
            self.refuse("%s has no server blocks: a virtual service needs real servers" % label, head, "server")
        vip, dev_alias = values["address"].split(" ")
        device, _colon, alias = dev_alias.partition(":")
        if self.interface is None:
            self.interface, self.interface_line = device, lines["address"].lineno
            self.vrrp["interface"] = device
        elif device != self.interface:
            self.refuse(
                "%s: address %s is on %s, but the VIP of line %s is on %s: the model brings every VIP up on one"
                " interface (vrrp.interface)" % (label, values["address"], device, self.interface_line, self.interface),
                lines["address"].lineno,
                "address",
            )
        self.aliases.setdefault(vip, len(self.aliases) + 1)
        name = block.name
        valid = NAME_RE.match(name) and len(name) <= MAX_NAME
        service = {"name": name if valid else _host_name(name, index + 1), "vip": vip}
        note = self.notes.add
        how = "service %s" % service["name"]
        if service["name"] != name:
            how += " (%s is not a name the model takes)" % name
        note(label, head, where, how)
        fwmark = values.get("fwmark")
        protocol = values.get("protocol", PIRANHA_DEFAULTS["protocol"])
        port = self.port_number(values.get("port", PIRANHA_DEFAULTS["port"]), label, _lineno(lines, "port"))
        ports_how = None
        if fwmark is not None:
            service["fwmark"] = fwmark
            service["ports"], ports_how = self.fwmark_ports(label, where, vip, fwmark, protocol, port, rules, lines)
        else:
            if protocol != "tcp":
                service["protocol"] = protocol
            service["port"] = port
        check, check_notes = self.check(values, fwmark, protocol, port, where)
        consumed = set(check_notes)
        for key, line in sorted(lines.items(), key=lambda item: item[1].lineno or 0):
            value = values[key]
            at = "%s / %s" % (label, key)
            if key in consumed:
                to, how = check_notes[key]
                note(at, line.lineno, to, how)
                continue
            to, how = self.virtual_key(key, value, service, where, fwmark, ports_how, alias, vip)
            note(at, line.lineno, to, how)
        if check is not None:
            service["check"] = check
        service["real_servers"] = self.servers(block, service, where, fwmark, port)
        if check is not None and check["type"] == "sip":
            for rs in service["real_servers"]:
                if rs["host"] not in self.asterisk:
                    self.asterisk.append(rs["host"])
        self.services.append({key: service[key] for key in SERVICE_KEYS if key in service})

    def virtual_key(self, key, value, service, where, fwmark, ports_how, alias, vip):
        """(to, how) of one key of a virtual (check keys excepted); fills ``service``."""
        if key == "active":
            return "", "1: the virtual is active"
        if key == "address":
            expected = self.aliases[vip]
            how = "vip %s on vrrp.interface %s" % (vip, self.interface)
            if alias != str(expected):
                how += "; keepalived labels it %s:%d (alias %s here)" % (self.interface, expected, alias)
            return "%s.vip" % where, how
        if key == "vip_nmask":
            prefix = check_prefix(value, "vip_nmask")
            if prefix in (0, 32):
                what = "Piranha's 'not set'" if prefix == 0 else "/32"
                return "%s.vip_netmask" % where, "left out (%s): the model's default, /32" % what
            service["vip_netmask"] = prefix
            return "%s.vip_netmask" % where, "/%d" % prefix
        if key == "fwmark":
            return "%s.fwmark" % where, "%d; %s" % (value, ports_how)
        if key == "port":
            if fwmark is not None:
                return "", "dropped: of a fwmark service only what nanny checked (the check's port)"
            return "%s.port" % where, "%s" % service["port"]
        if key == "protocol":
            if fwmark is not None:
                return "", "dropped: of a fwmark service only what nanny checked over"
            default = " (the model's default)" if value == "tcp" else ""
            return "%s.protocol" % where, value + default
        if key == "scheduler":
            if value != "wlc":
                service["scheduler"] = value
            return "%s.scheduler" % where, value + (" (the model's default)" if value == "wlc" else "")
        if key == "persistent":
            if value:
                service["persistent"] = value
                return "%s.persistent" % where, "%d s" % value
            return "%s.persistent" % where, "0: no persistence (the model's default)"
        if key == "pmask":
            service["persistence_granularity"] = check_prefix(value, "pmask")
            return "%s.persistence_granularity" % where, "/%d" % service["persistence_granularity"]
        if key == "sorry_server":
            service["sorry_server"] = {"address": value}
            ports = "ports" if fwmark is not None else "port"
            return "%s.sorry_server.address" % where, "%s (on the service's %s)" % (value, ports)
        if key == "load_monitor":
            if value == "none":
                return "", "dropped: none, the weights stay as configured (as keepalived keeps them)"
            return "", "dropped: nanny adjusted the weights from %s load averages; keepalived keeps them fixed" % value
        if key == "reentry":
            return "", (
                "dropped: nanny re-added a failed server after %d s of passing checks; keepalived re-adds it at its"
                " first passing check" % value
            )
        if key == "quiesce_server":
            if value:
                return "", (
                    "dropped: nanny set a failed server's weight to 0; keepalived takes it out of the table"
                    " (inhibit_on_failure is not part of the model)"
                )
            return "", "dropped: 0, a failed server is taken out of the table, as keepalived does"
        if key == "client_monitor":
            return "", "dropped: the path of nanny; keepalived checks the servers itself"
        return "", "dropped: not known to the migration"  # pragma: no cover

    def fwmark_ports(self, label, where, vip, fwmark, protocol, port, rules, lines):
        """The ports of a fwmark service: from its MARK rules, else the port and protocol keys."""
        ports = []
        for rule in rules:
            if rule["mark"] != fwmark:
                continue
            at = "mangle rule %d" % rule["line"]
            if rule["vip"] is not None and rule["vip"] != vip:
                self.notes.add(
                    at, None, "", "not used: marks %s for %s, not %s's VIP %s" % (fwmark, rule["vip"], label, vip)
                )
                continue
            added = []
            for number in rule["ports"]:
                entry = {"protocol": rule["protocol"], "port": number}
                if entry not in ports:
                    ports.append(entry)
                    added.append(len(ports) - 1)
            how = "%s %s for %s, mark %d (%s)" % (
                rule["protocol"],
                ",".join(str(p) for p in rule["ports"]),
                vip,
                fwmark,
                rule["text"],
            )
            if rule["vip"] is None:
                how += "; no -d: it marked every destination, the model's rule marks the VIP only"
            if rule["mask"] not in (None, 0xFFFFFFFF):
                how += "; mask 0x%x: the model's rule sets the whole mark" % rule["mask"]
            if rule["extra"]:
                how += "; %s not carried over: the model's rule marks every source" % " ".join(rule["extra"])
            to = ", ".join("%s.ports[%d]" % (where, i) for i in added) if added else ""
            if not added:
                how = "nothing new: " + how
            self.notes.add(at, None, to, how)
        if ports:
            return ports, "ports from the MARK rules: %s" % ", ".join(
                "%s/%s" % (p["port"], p["protocol"]) for p in ports
            )
        why = "no mangle rules given" if not rules else "no MARK rule for mark %d in the mangle rules" % fwmark
        fallback = [{"protocol": protocol, "port": port}]
        how = "%s: ports from the port and protocol keys (%s/%s); pass the director's iptables -t mangle -S for" % (
            why,
            port,
            protocol,
        )
        how += " all the marked ports"
        if "protocol" not in lines or "port" not in lines:
            how += " (Piranha's defaults for what the file leaves out)"
        return fallback, how

    # -- health checks ----------------------------------------------------

    def check(self, values, fwmark, protocol, port, where):
        """(check or None, {key: (to, how)}) from nanny's keys: send, expect, use_regex, send_program, timeout."""
        what = where + ".check"
        send, program = values.get("send"), values.get("send_program")
        if program is not None:
            check, notes = self.program_check(program, values, fwmark, protocol, port, what)
        elif send is not None and _SIP_SEND_RE.match(send):
            check = {"type": "sip"}
            if protocol != CHECK_DEFAULTS["transport"]:
                check["transport"] = protocol
            if fwmark is not None and port != 5060:
                check["port"] = port
            notes = {"send": (what + ".type", "sip: a SIP request as payload; the SIP OPTIONS check sends its own")}
            for key in ("expect", "use_regex"):
                if key in values:
                    notes[key] = ("", "dropped: the SIP check takes any SIP status line as a reply")
        elif protocol != "tcp":
            check, notes = None, {}
            for key in ("send", "expect", "use_regex"):
                if key in values:
                    notes[key] = (
                        "",
                        "dropped: nanny's UDP send/expect has no counterpart in the model but the SIP check: no check"
                        " (keepalived never takes a server out); give a sip check for a SIP service",
                    )
            if not notes:
                self.notes.add("", None, what, "no check: the model checks UDP only with the SIP check")
        elif (send is not None and _HTTP_SEND_RE.match(send)) or (send is None and port == 80):
            # nanny sends GET / to port 80 when no send is given.
            check, notes = self.http_check(values, fwmark, port, what)
        else:
            check, how = self.plain_check(protocol, fwmark, port)
            notes = {}
            for key in ("send", "expect", "use_regex"):
                if key in values:
                    notes[key] = (
                        what + ".type" if key == "send" or "send" not in values else "",
                        "%s; nanny's %s %s is not carried over (the model's tcp check only connects)"
                        % (how, key, _show(values[key])),
                    )
            if not notes:
                self.notes.add("", None, what + ".type", "no send/expect: %s" % how)
        if check is None:
            if "timeout" in values:
                notes["timeout"] = ("", "dropped: no check")
            return None, notes
        self.check_timing(check, values, notes, what)
        return check, notes

    def check_timing(self, check, values, notes, what):
        """nanny's timeout: the check interval and (HTTP, TCP) the connect timeout in one."""
        interval = values.get("timeout", PIRANHA_DEFAULTS["timeout"])
        if "timeout" not in values:
            how = "%d s, Piranha's default (no timeout key)" % interval
        elif interval == 0:
            interval = PIRANHA_DEFAULTS["timeout"]
            how = "%d s: 0 is no interval, Piranha's default instead" % interval
        else:
            how = "%d s" % interval
        if interval != CHECK_DEFAULTS["interval"]:
            check["interval"] = interval
        how = "check.interval " + how
        if check["type"] != "sip":
            timeout = min(interval, 3600)
            if timeout != CHECK_DEFAULTS["timeout"]:
                check["timeout"] = timeout
            how += " and check.timeout %d s (nanny waited as long for an answer)" % timeout
        if "timeout" in values:
            notes["timeout"] = (what + ".interval", how)
        else:
            self.notes.add("", None, what + ".interval", how)
        self.notes.add(
            "",
            None,
            what + ".retry",
            "%d, the model's default: keepalived retries a failed check once before it takes the server out; nanny"
            " took it out at the first failure (retry 0 for that)" % CHECK_DEFAULTS["retry"],
        )

    def program_check(self, program, values, fwmark, protocol, port, what):
        words = [word for word in program.split(" ") if word]
        notes = {}
        if "sip" in program.lower():
            check, how = self.sip_check(words, fwmark, protocol, port)
            notes["send_program"] = (what + ".type", how)
            why = {
                "send": "dropped: not used with a send_program",
                "expect": "dropped: the SIP check decides on the SIP reply itself (nanny compared the program's"
                " output with it)",
                "use_regex": "dropped: not used with a send_program",
            }
        else:
            check, how = self.plain_check(protocol, fwmark, port)
            notes["send_program"] = (
                what + ".type" if check else "",
                "%s: the model runs no custom check program (keepalived's MISC_CHECK could run it, by hand); %s"
                % (_show(program), how),
            )
            why = dict.fromkeys(("send", "expect", "use_regex"), "dropped with the send_program")
        for key, how in why.items():
            if key in values:
                notes[key] = ("", how)
        return check, notes

    def http_check(self, values, fwmark, port, what):
        send, expect = values.get("send"), values.get("expect")
        match = _HTTP_SEND_RE.match(send) if send is not None else None
        path = match.group(2) if match else "/"
        odd_path = not _CHECK_PATH_RE.fullmatch(path)
        if odd_path:
            path = CHECK_DEFAULTS["path"]
        check = {"type": "http"}
        if path != CHECK_DEFAULTS["path"]:
            check["path"] = path
        statuses, status_how = self.statuses(expect, values.get("use_regex", 0))
        if statuses != [CHECK_DEFAULTS["expect_status"]]:
            check["expect_status"] = statuses if len(statuses) > 1 else statuses[0]
        if fwmark is not None:
            check["port"] = port
        notes = {}
        if match:
            how = "http: GET %s" % path
            if odd_path:
                how += " (%s has characters keepalived.conf cannot carry in a path)" % _show(match.group(2))
            if match.group(1) == "HEAD":
                how += " (HEAD before: keepalived's HTTP_GET sends GET)"
            if fwmark is not None:
                how += " on port %d (the port key)" % port
            rest = send[match.end() :]
            if rest.strip("\r\n"):
                how += "; the request's headers (%s) are not carried over" % _show(rest)
            notes["send"] = (what + ".path", how)
        if expect is not None:
            notes["expect"] = (what + ".expect_status", status_how)
        else:
            where = what + ".type" if send is None else what + ".expect_status"
            self.notes.add(
                "",
                None,
                where,
                "http: port 80 without send/expect, where nanny sent GET / and expected HTTP"
                if send is None
                else status_how,
            )
        if "use_regex" in values:
            notes["use_regex"] = ("", "dropped: the http check compares status codes")
        return check, notes

    def plain_check(self, protocol, fwmark, port):
        if protocol != "tcp":
            return None, "no check: the model checks UDP only with the SIP check (keepalived never takes a server out)"
        check = {"type": "tcp"}
        if fwmark is not None:
            check["port"] = port
        return check, "tcp: a TCP connect check of port %d" % port

    def sip_check(self, words, fwmark, protocol, port):
        """The SIP check from a SIP probe's command line: its --transport, --port, --timeout and --codes."""
        options = {}
        ignored = []
        index = 1
        while index < len(words):
            word = words[index]
            name, sep, inline = word.partition("=")
            if name in ("--transport", "--port", "--timeout", "--codes"):
                value = inline if sep else (words[index + 1] if index + 1 < len(words) else None)
                index += 1 if sep else 2
                options[name[2:]] = value
                continue
            if word not in ("%h", "--nanny", "--quiet"):
                ignored.append(word)
            index += 1
        check = {"type": "sip"}
        transport = options.get("transport") or protocol
        if transport not in ("udp", "tcp"):
            transport = protocol
        if transport != CHECK_DEFAULTS["transport"]:
            check["transport"] = transport
        sip_port = port
        if options.get("port", "").isdigit() and 1 <= int(options["port"]) <= 65535:
            sip_port = int(options["port"])
        elif "%p" in words:
            sip_port = port
        default_port = 5060 if fwmark is not None else port
        if sip_port != default_port:
            check["port"] = sip_port
        try:
            timeout = float(options["timeout"]) if options.get("timeout") else None
        except ValueError:
            timeout = None
        if timeout is not None and 0.1 <= timeout <= 3600:
            timeout = int(timeout) if timeout == int(timeout) else timeout
            if timeout != CHECK_DEFAULTS["timeout"]:
                check["timeout"] = timeout
        codes = [c for c in (options.get("codes") or "").split(",") if c.isdigit() and 100 <= int(c) <= 699]
        if codes:
            check["codes"] = [int(c) for c in codes]
        program = words[0].rsplit("/", 1)[-1] if words else ""
        how = "sip: the SIP OPTIONS check (%s %d" % (transport, sip_port)
        how += ", timeout %s s" % _number_text(timeout) if timeout else ", timeout %d s, the model's default" % 3
        how += ")"
        if program == _OWN_SIP_PROGRAM:
            how += "; the collection's own check program, the same check"
        else:
            how += (
                "; the old probe could never fail a server: the tutorial's test-sip-server.sh runs nmap -sU, which"
                " reports a UDP port that does not answer as open|filtered, and its grep -c open counts that as OK,"
                " so a dead Asterisk stayed in the table; the SIP check needs a SIP reply"
            )
        if ignored:
            how += "; its arguments %s are not carried over" % " ".join(ignored)
        return check, how

    def statuses(self, expect, regex):
        if expect is None:
            return [CHECK_DEFAULTS["expect_status"]], "no expect: status 200 (the model's default)"
        match = _ENGINE_EXPECT_RE.fullmatch(expect) if regex else None
        if match:
            codes = [int(code) for code in match.group(1).split("|")]
            if all(100 <= code <= 599 for code in codes):
                return codes, "status %s" % ", ".join(str(c) for c in codes)
        match = _STATUS_EXPECT_RE.match(expect) if not regex else None
        if match:
            return [int(match.group(1))], "status %s" % match.group(1)
        return [CHECK_DEFAULTS["expect_status"]], (
            "%s%s accepted any reply that %s; the http check wants status 200 (the model's default): set"
            " expect_status to the codes your servers answer"
            % (_show(expect), " (a regex)" if regex else "", "matches it" if regex else "starts with it")
        )

    # -- real servers -----------------------------------------------------

    def servers(self, block, service, where, fwmark, port):
        out = []
        label = block.label()
        for sblock in block.blocks("server"):
            values, lines = sblock.values(), _lines(sblock)
            slabel = "%s / %s" % (label, sblock.label())
            self.repeats(sblock, slabel + " / ")
            rwhere = "%s.real_servers[%d]" % (where, len(out))
            if "address" not in values:
                self.refuse("%s has no address" % slabel, sblock.head.lineno, "address")
            address = values["address"]
            host = self.host_for(address, sblock.name)
            for other in out:
                if other["host"] == host:
                    self.refuse(
                        "%s: address %s is already a real server of %s (on another port): direct routing forwards"
                        " to the service's one port" % (slabel, address, label),
                        lines["address"].lineno,
                        "address",
                    )
            rs = {"host": host}
            how = "host %s" % host
            if NAME_RE.match(sblock.name) and len(sblock.name) <= MAX_NAME and sblock.name != host:
                rs["name"] = sblock.name
                how += ", named %s" % sblock.name
            self.notes.add(slabel, sblock.head.lineno, rwhere, how)
            weight = values.get("weight", 1)
            active = values.get("active", 1)
            for key, line in sorted(lines.items(), key=lambda item: item[1].lineno or 0):
                value = values[key]
                at = "%s / %s" % (slabel, key)
                if key == "address":
                    self.notes.add(
                        at, line.lineno, "hosts.realservers.%s" % host, "%s: ansible_host of %s" % (value, host)
                    )
                elif key == "active":
                    if value:
                        self.notes.add(at, line.lineno, "", "1: the server is active")
                    else:
                        self.notes.add(
                            at,
                            line.lineno,
                            rwhere + ".weight",
                            "0: drained, weight 0 (it stays in the table and gets no new connections; set its weight"
                            " to bring it back%s)" % (", it was %d" % weight if weight != 0 else ""),
                        )
                elif key == "weight":
                    if active:
                        how = "%d%s" % (value, " (the model's default)" if value == 1 else "")
                        self.notes.add(at, line.lineno, rwhere + ".weight", how)
                    else:
                        self.notes.add(at, line.lineno, "", "%d, not used: the server is drained (active = 0)" % value)
                elif key == "port":
                    number = self.port_number(value, slabel, line.lineno)
                    if fwmark is not None:
                        self.notes.add(
                            at, line.lineno, "", "dropped: the real servers of a fwmark service take no port"
                        )
                    elif number == port:
                        self.notes.add(at, line.lineno, rwhere + ".port", "%d, the service's port" % number)
                    else:
                        self.notes.add(
                            at,
                            line.lineno,
                            "",
                            "dropped: %d; direct routing cannot change the port, the server gets the service's %d"
                            % (number, port),
                        )
            weight = weight if active else 0
            if weight != 1:
                rs["weight"] = weight
            out.append(rs)
        return out

    # -- failover blocks --------------------------------------------------

    def failovers(self):
        for block in self.doc.failovers():
            label = block.label()
            self.notes.add(label, block.head.lineno, "", "not migrated: a Piranha failover service (fos), not LVS")
            for key, line in _lines(block).items():
                self.notes.add(
                    "%s / %s" % (label, key), line.lineno, "", "not migrated, kept here: %s" % _show(line.value)
                )

    # -- the result -------------------------------------------------------

    def cluster(self):
        cluster = {}
        vrrp = _minimal(self.vrrp, VRRP_DEFAULTS)
        self.notes.add(
            "",
            None,
            "vrrp.virtual_router_id",
            "%d, the model's default: lvs.cf has no VRRP router id; keep it unique among the VRRP routers of the"
            " network" % VRRP_DEFAULTS["virtual_router_id"],
        )
        self.notes.add(
            "",
            None,
            "vrrp.unicast",
            "false, the model's default (multicast adverts); pulse's heartbeats went to the partner's address: set"
            " unicast true where multicast does not pass",
        )
        if vrrp:
            cluster["vrrp"] = vrrp
        sync = dict(self.sync)
        if sync.get("interface") == (self.interface or VRRP_DEFAULTS["interface"]):
            del sync["interface"]
        if not sync.get("enabled"):
            sync = {}
        sync = {k: v for k, v in sync.items() if not (k == "id" and v == 0)}
        if sync:
            cluster["sync_daemon"] = sync
        if self.timeouts:
            cluster["timeouts"] = self.timeouts
        if not self.services:
            self.refuse("no active virtual block: there is no virtual service to migrate", None, "virtual")
        cluster["virtual_services"] = self.services
        return {key: cluster[key] for key in CLUSTER_KEYS if key in cluster}


def _sort_notes(notes):
    """File order (a key's line, notes without a line after those of the file, mangle rules last)."""

    def rank(item):
        position, note = item
        if note["key"].startswith("mangle rule "):
            return (2, int(note["key"].rsplit(" ", 1)[1]), position)
        if note["line"] is None:
            return (1, 0, position)
        return (0, note["line"], position)

    return [note for _position, note in sorted(enumerate(notes), key=rank)]


def _wrap(text, width, **indents):
    """Lines of at most ``width``, broken at spaces only: paths, options (--set-mark) and
    hyphenated names stay whole (a hyphen in a checkout's directory name once split the source)."""
    return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False, **indents)


def notes_table(notes, width=TABLE_WIDTH):
    """The notes as text lines of at most ``width`` characters (longer words aside): for each note its lvs.cf
    line (- when not known), lvs.cf key and model key, then how, indented."""
    rows = ["line  lvs.cf key -> model key", "        how"]
    for note in notes:
        head = note["key"] or "(no lvs.cf key)"
        if note["to"]:
            head += " -> " + note["to"]
        rows += _wrap(head, width, initial_indent="%4s  " % (note["line"] or "-"), subsequent_indent=" " * 8) or [
            "%4s" % "-"
        ]
        rows += _wrap(note["how"], width, initial_indent=" " * 8, subsequent_indent=" " * 8)
    return rows


# ---------------------------------------------------------------------------
# YAML


_YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", ""}
_PLAIN_RE = re.compile(r"[A-Za-z/_][A-Za-z0-9_./-]*")


def _scalar(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if (_PLAIN_RE.fullmatch(text) or _IPV4_RE.fullmatch(text)) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)


def _yaml(value, indent, out):
    pad = " " * indent
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, (Mapping, list, tuple)) and item:
                out.append("%s%s:" % (pad, _scalar(key)))
                _yaml(item, indent + 2, out)
            else:
                empty = "{}" if isinstance(item, Mapping) else "[]"
                shown = empty if isinstance(item, (Mapping, list, tuple)) else _scalar(item)
                out.append("%s%s: %s" % (pad, _scalar(key), shown))
        return
    for item in value:
        if isinstance(item, Mapping) and item:
            inner = []
            _yaml(item, indent + 2, inner)
            out.append("%s- %s" % (pad, inner[0][indent + 2 :]))
            out.extend(inner[1:])
        elif isinstance(item, (list, tuple)) and item:
            out.append("%s-" % pad)
            _yaml(item, indent + 2, out)
        else:
            out.append("%s- %s" % (pad, _scalar(item)))


def to_yaml(data):
    """``data`` (dicts, lists, strings, numbers, booleans) as block YAML, sequences indented under their key."""
    out = []
    _yaml(data, 0, out)
    return "\n".join(out) + "\n"


def _cluster_yml(cluster, table, source, serial_no):
    serial = " (serial_no %s)" % serial_no if serial_no is not None else ""
    head = (
        "The cluster model, migrated from Piranha's %s%s by sipvs.lvs.migrate_from_piranha. Every role derives"
        " its variables from it (group_vars/directors.yml, realservers.yml, asterisk.yml); site.yml checks it on"
        " the controller before touching any host. The notes at the end say where every lvs.cf key went."
        % (source, serial)
    )
    lines = ["---"] + ["# " + line for line in _wrap(head, TABLE_WIDTH)]
    text = "\n".join(lines) + "\n" + to_yaml({"lvs_cluster": cluster}) + "\n"
    return text + "\n".join(("# " + row).rstrip() for row in ["Notes of the migration:", "", *table]) + "\n"


def cluster_from_lvs_cf(config, mangle_rules=None, source="lvs.cf"):
    """The cluster model, hosts and notes of an lvs.cf (see the module docstring)."""
    source = str(source or "lvs.cf")
    serial_no = None
    if isinstance(config, Mapping) and isinstance(config.get("globals"), Mapping):
        serial_no = config["globals"].get("serial_no")
    doc, from_text = _document(config, source)
    rules, rule_notes = parse_mangle_rules(mangle_rules)
    migration = _Migration(doc, source, serial_no)
    if from_text:
        serial_no = doc.root.values().get("serial_no")
    migration.globals_()
    migration.virtuals(rules)
    migration.failovers()
    for number, text, why in rule_notes:
        migration.notes.add("mangle rule %d" % number, None, "", "%s (%s)" % (why, text))
    cluster = migration.cluster()
    hosts = {
        "directors": dict(migration.directors),
        "realservers": dict(migration.realservers),
        "asterisk": {host: migration.realservers[host] for host in migration.asterisk},
    }
    addresses = dict(hosts["realservers"], **hosts["directors"])
    try:
        normalize_cluster(cluster, addresses.get)
    except LvsError as exc:
        raise LvsError("the migrated model does not validate (%s)" % exc, source) from None
    notes = _sort_notes(migration.notes.items)
    table = notes_table(notes)
    return {
        "lvs_cluster": cluster,
        "hosts": hosts,
        "notes": notes,
        "table": table,
        "cluster_yml": _cluster_yml(cluster, table, source, serial_no),
    }
