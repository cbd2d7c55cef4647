# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The asterisk role's variables (``asterisk_*``): every rule a wrong inventory can break, checked on the
controller before any host is touched.

``asterisk_problems(settings)`` takes the role's variables by name and returns every problem as one sentence that
starts with the variable's path (``asterisk_vips[2] ...``, ``asterisk_endpoints[1].match[0] (peer sipp) ...``),
``[]`` when there is none. The role's ``tasks/validate.yml`` asserts on it through the filter
``sipvs.lvs.asterisk_problems``; no rule is stated a second time in a role.

Plain types and choices (``asterisk_sip_listen[].protocol`` udp/tcp, ``asterisk_endpoints[].type`` account/peer,
the integers and booleans) are the role's argument spec's (``roles/asterisk/meta/argument_specs.yml``); this
module checks what a spec cannot say. An account's password is checked by the collection's one rule for secrets
(``_secrets.py``); no message shows a password.

Pure code: no I/O. An undefined variable arrives as ``Unset`` (the filter makes one of each undefined value).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from ansible_collections.sipvs.lvs.plugins.module_utils._model import (
    LvsError,
    address_family,
    check_bool,
    check_ip,
    check_listen_address,
    check_port,
    check_prefix,
    check_range,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._secrets import secret_problems

# Endpoint and context names: section names of pjsip.conf and extensions.conf.
NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]+\Z")
NAME_RULE = "letters, digits and _.+- only"
# An extension or a pattern (_X., _NXXNXXXXXX, _[2-9]!).
EXTEN_RE = re.compile(r"^_?[A-Za-z0-9*#+.!\[\]-]+\Z")
EXTEN_RULE = "letters, digits and *#+.![]-, a pattern starting with _"
# A codec name of pjsip.conf's allow= list (ulaw, alaw, g722, opus, ...).
CODEC_RE = re.compile(r"^[A-Za-z0-9_]+\Z")
# extensions.conf sections that are not contexts (Asterisk compares them ignoring case).
RESERVED_CONTEXTS = ("general", "globals")
# RTP ports: none of the well-known ones.
RTP_PORT_MIN = 1024
# The opt-in to peers identified by a whole network rather than by hosts named one by one.
PEER_NETWORKS_OPT_IN = "asterisk_allow_peer_networks"
# The role's variables asterisk_problems reads (the role hands it each of them: vars/main.yml).
VARIABLES = (
    "asterisk_address",
    "asterisk_media_address",
    "asterisk_vips",
    "asterisk_sip_listen",
    "asterisk_rtp_port_start",
    "asterisk_rtp_port_end",
    "asterisk_dialplan",
    "asterisk_endpoints",
    PEER_NETWORKS_OPT_IN,
    "asterisk_metrics",
    "asterisk_metrics_address",
    "asterisk_metrics_port",
)


class Unset:
    """A variable with no value (an undefined one); ``cause`` says why, in the templating engine's words."""

    def __init__(self, cause=None):
        self.cause = cause

    def __repr__(self):
        return "Unset(%r)" % self.cause


def _kind(value):
    """What ``value`` is, in the words of YAML (a message says this rather than show a value that may hold a
    password)."""
    if value is None:
        return "null"
    for types, words in ((bool, "a boolean"), ((int, float), "a number"), (str, "a string"), (Mapping, "a mapping")):
        if isinstance(value, types):
            return words
    return "a list" if isinstance(value, (list, tuple)) else "a %s" % type(value).__name__


def _has_control(text):
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _text(value, what, pattern=None, rule=None):
    """``value`` as text (a string, or a number written without quotes), matching ``pattern`` if given."""
    if value is None or isinstance(value, (bool, list, dict, Unset)):
        raise LvsError("%s must be a string, got %r" % (what, value), key=what)
    text = str(value)
    if pattern is not None and not pattern.match(text):
        raise LvsError("%s must be %s, got %r" % (what, rule, value), key=what)
    return text


def _items(value, what):
    """``value`` as a list (None is an empty one), else LvsError."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise LvsError("%s must be a list, got %s" % (what, _kind(value)), key=what)
    return list(value)


def _mapping(value, what, keys):
    if not isinstance(value, Mapping):
        raise LvsError("%s must be a mapping (%s), got %s" % (what, keys, _kind(value)), key=what)
    return value


def _collect(problems, check, *args):
    """``check(*args)``; its LvsError is added to ``problems`` and None returned instead."""
    try:
        return check(*args)
    except LvsError as exc:
        problems.append(str(exc))
        return None


def ipv4_address(value, what):
    """The text of an IPv4 address, as the role's templates print it (dotted decimal, nothing around it)."""
    if isinstance(value, str) and value == value.strip():
        try:
            address = check_ip(value, what)
        except LvsError:
            address = None
        if address is not None and address_family(address) == "inet6":
            raise LvsError("%s %s is an IPv6 address: the asterisk role listens on IPv4 only" % (what, value), key=what)
        if address == value:
            return address
    raise LvsError("%s must be an IPv4 address, got %r" % (what, value), key=what)


def ipv4_network(value, what):
    """An IPv4 address or network written ``a.b.c.d`` or ``a.b.c.d/len`` (0-32), as an IPv4Network."""
    text = value if isinstance(value, str) else ""
    address, slash, length = text.partition("/")
    try:
        ipv4_address(address, what)
        if slash and not (length.isascii() and length.isdigit() and str(int(length)) == length):
            raise LvsError("not a prefix length", key=what)
        prefix = check_prefix(length, what, "inet") if slash else 32
    except LvsError:
        raise LvsError(
            "%s must be an IPv4 address or network (a.b.c.d or a.b.c.d/0-32), got %r" % (what, value), key=what
        ) from None
    return ipaddress.IPv4Network("%s/%d" % (address, prefix), strict=False)


def _first_seen(seen, key, where):
    """Where ``key`` was seen before (``seen`` maps keys to paths), or None after recording it at ``where``."""
    if key in seen:
        return seen[key]
    seen[key] = where
    return None


def _undefined(value, what):
    """A problem for each undefined value in ``value``, but an account's password (the secret rule names it)."""
    if isinstance(value, Unset):
        cause = " (%s)" % value.cause if value.cause else ""
        return ["%s has no value%s" % (what, cause)]
    if isinstance(value, Mapping):
        return [
            problem
            for key, item in value.items()
            if not (key == "password" and what.startswith("asterisk_endpoints["))
            for problem in _undefined(item, "%s.%s" % (what, key) if what else key)
        ]
    if isinstance(value, (list, tuple)):
        return [problem for index, item in enumerate(value) for problem in _undefined(item, "%s[%d]" % (what, index))]
    return []


def _address_problems(address, media_address):
    problems = []
    if address == "":
        problems.append(
            "asterisk_address is empty: this host has no default IPv4 address in its facts (or they were not"
            " gathered); set it to the real server's own IPv4 address (lvs_address in the cluster model)"
        )
        address = None
    else:
        address = _collect(problems, ipv4_address, address, "asterisk_address")
    _collect(problems, ipv4_address, media_address, "asterisk_media_address")
    return address, problems


def _vip_problems(vips, address):
    problems = []
    seen = {}
    for index, vip in enumerate(_collect(problems, _items, vips, "asterisk_vips") or []):
        where = "asterisk_vips[%d]" % index
        vip = _collect(problems, ipv4_address, vip, where)
        if vip is None:
            continue
        before = _first_seen(seen, vip, where)
        if before:
            problems.append("%s %s is listed twice (also %s)" % (where, vip, before))
        if vip == address:
            problems.append(
                "%s %s is asterisk_address, the real server's own address: a VIP is an address the directors"
                " balance, on lo of every real server" % (where, vip)
            )
    return problems


def _listen_problems(listen):
    problems = []
    entries = _collect(problems, _items, listen, "asterisk_sip_listen")
    if entries == []:
        problems.append("asterisk_sip_listen must hold at least one protocol/port pair, got none")
    seen = {}
    for index, entry in enumerate(entries or []):
        where = "asterisk_sip_listen[%d]" % index
        entry = _collect(problems, _mapping, entry, where, "protocol, port")
        if entry is None:
            continue
        port = _collect(problems, check_port, entry.get("port"), where + ".port")
        if port is None:
            continue
        pair = "%s/%d" % (entry.get("protocol"), port)
        before = _first_seen(seen, pair, where)
        if before:
            problems.append("%s %s is listed twice (also %s)" % (where, pair, before))
    return problems


def _metrics_problems(enabled, address, port):
    """http.conf prints asterisk_metrics_address as it is: one IPv4 address of the host, never every address."""
    problems = []
    if not _collect(problems, check_bool, enabled, "asterisk_metrics"):
        return problems
    if _collect(problems, ipv4_address, address, "asterisk_metrics_address") is None:
        _collect(problems, check_port, port, "asterisk_metrics_port")
    else:
        _collect(problems, check_listen_address, address, port, "asterisk_metrics_address", "asterisk_metrics_port")
    return problems


def _rtp_problems(start, end):
    problems = []
    start = _collect(problems, check_range, start, "asterisk_rtp_port_start", RTP_PORT_MIN, 65535)
    end = _collect(problems, check_range, end, "asterisk_rtp_port_end", RTP_PORT_MIN, 65535)
    if start is not None and end is not None and start >= end:
        problems.append("asterisk_rtp_port_start (%d) must be below asterisk_rtp_port_end (%d)" % (start, end))
    return problems


def _context_name(value, what):
    name = _text(value, what, NAME_RE, NAME_RULE)
    if name.lower() in RESERVED_CONTEXTS:
        raise LvsError(
            "%s %s is a section of extensions.conf that is not a context (%s, in any case): choose another name"
            % (what, name, ", ".join(RESERVED_CONTEXTS)),
            key=what,
        )
    return name


def _step(value, what):
    step = _text(value, what)
    if not step.strip() or _has_control(step):
        raise LvsError(
            "%s must be a dialplan application on one line (Answer(), Playback(hello-world), ...), got %r"
            % (what, value),
            key=what,
        )
    return step


def _extension_problems(extension, where):
    problems = []
    extension = _collect(problems, _mapping, extension, where, "exten, steps")
    if extension is None:
        return problems
    _collect(problems, _text, extension.get("exten"), where + ".exten", EXTEN_RE, EXTEN_RULE)
    steps = _collect(problems, _items, extension.get("steps"), where + ".steps")
    if steps == []:
        problems.append("%s.steps must hold at least one application, got none" % where)
    for index, step in enumerate(steps or []):
        _collect(problems, _step, step, "%s.steps[%d]" % (where, index))
    return problems


def _dialplan_problems(dialplan):
    """The problems of asterisk_dialplan, and the names of its contexts (for the endpoints' context)."""
    problems = []
    contexts = []
    seen = {}
    for index, context in enumerate(_collect(problems, _items, dialplan, "asterisk_dialplan") or []):
        where = "asterisk_dialplan[%d]" % index
        context = _collect(problems, _mapping, context, where, "context, extensions")
        if context is None:
            continue
        name = _collect(problems, _context_name, context.get("context"), where + ".context")
        if name is not None:
            contexts.append(name)
            before = _first_seen(seen, name, where)
            if before:
                problems.append("%s.context %s is defined more than once (also %s)" % (where, name, before))
        extensions = _collect(problems, _items, context.get("extensions"), where + ".extensions")
        if extensions == []:
            problems.append("%s.extensions must hold at least one extension, got none" % where)
        for number, extension in enumerate(extensions or []):
            problems += _extension_problems(extension, "%s.extensions[%d]" % (where, number))
    return contexts, problems


def _networks(value, what, label, one_host_each):
    """The problems of a match or permit list; with ``one_host_each``, a network wider than one host is one."""
    problems = []
    for index, item in enumerate(_collect(problems, _items, value, what + label) or []):
        where = "%s[%d]%s" % (what, index, label)
        network = _collect(problems, ipv4_network, item, where)
        if network is not None and one_host_each and network.num_addresses > 1:
            problems.append(
                "%s %s is a network of %d addresses: a peer is not authenticated, so every host in it could call"
                " through it; list the load-test hosts one by one (a.b.c.d or a.b.c.d/32), or set %s: true to"
                " accept a network" % (where, item, network.num_addresses, PEER_NETWORKS_OPT_IN)
            )
    return problems


def _endpoint_problems(endpoint, where, contexts, peer_networks):
    problems = []
    endpoint = _collect(problems, _mapping, endpoint, where, "name, type, context, ...")
    if endpoint is None:
        return problems, None
    name = _collect(problems, _text, endpoint.get("name"), where + ".name", NAME_RE, NAME_RULE)
    kind = endpoint.get("type")
    label = " (%s %s)" % (kind if kind in ("account", "peer") else "endpoint", endpoint.get("name"))
    context = endpoint.get("context")
    if str(context) not in contexts:
        problems.append(
            "%s.context%s %r is not a context of asterisk_dialplan (%s)"
            % (where, label, context, ", ".join(dict.fromkeys(contexts)) or "none")
        )
    problems += _networks(endpoint.get("match"), where + ".match", label, kind == "peer" and not peer_networks)
    problems += _networks(endpoint.get("permit"), where + ".permit", label, False)
    if kind == "peer" and not endpoint.get("match"):
        problems.append(
            "%s.match%s is empty: a peer is identified by the addresses it calls from; list them" % (where, label)
        )
    for index, codec in enumerate(_collect(problems, _items, endpoint.get("codecs"), where + ".codecs") or []):
        _collect(problems, _text, codec, "%s.codecs[%d]%s" % (where, index, label), CODEC_RE, "a codec name")
    if kind == "account":
        password = endpoint.get("password")
        cause = password.cause if isinstance(password, Unset) else None
        password = None if isinstance(password, Unset) else password
        problems += secret_problems(password, "%s.password%s" % (where, label), cause)
    return problems, name


def _endpoints_problems(endpoints, contexts, peer_networks):
    problems = []
    seen = {}
    for index, endpoint in enumerate(_collect(problems, _items, endpoints, "asterisk_endpoints") or []):
        where = "asterisk_endpoints[%d]" % index
        found, name = _endpoint_problems(endpoint, where, contexts, peer_networks)
        problems += found
        before = None if name is None else _first_seen(seen, name, where)
        if before:
            problems.append("%s.name %s is used by more than one endpoint (also %s)" % (where, name, before))
    return problems


def asterisk_problems(settings):
    """Every problem with the asterisk role's variables (``settings`` maps their names to their values), in the
    order of the variables; ``[]`` when there is none. A variable left out counts as null, but
    asterisk_allow_peer_networks and asterisk_metrics, which are false."""
    if not isinstance(settings, Mapping):
        return [
            "the asterisk role's variables must be a mapping of their names to their values, got %s" % _kind(settings)
        ]
    undefined = _undefined(settings, "")
    if undefined:
        return undefined
    address, problems = _address_problems(settings.get("asterisk_address"), settings.get("asterisk_media_address"))
    problems += _vip_problems(settings.get("asterisk_vips"), address)
    problems += _listen_problems(settings.get("asterisk_sip_listen"))
    problems += _rtp_problems(settings.get("asterisk_rtp_port_start"), settings.get("asterisk_rtp_port_end"))
    contexts, found = _dialplan_problems(settings.get("asterisk_dialplan"))
    problems += found
    peer_networks = _collect(problems, check_bool, settings.get(PEER_NETWORKS_OPT_IN, False), PEER_NETWORKS_OPT_IN)
    problems += _endpoints_problems(settings.get("asterisk_endpoints"), contexts, bool(peer_networks))
    problems += _metrics_problems(
        settings.get("asterisk_metrics", False),
        settings.get("asterisk_metrics_address"),
        settings.get("asterisk_metrics_port"),
    )
    return problems


# `core show channels concise`: one line per channel, fields separated by "!":
# channel, context, extension, priority, state, application, data, caller ID,
# account code, peer account, AMA flags, duration (seconds), bridge, unique ID.
CONCISE_DURATION_FIELD = 11


def channel_ages(text):
    """The age in seconds of each channel in Asterisk's `core show channels concise` output."""
    ages = []
    for line in text.splitlines():
        fields = line.split("!")
        if len(fields) > CONCISE_DURATION_FIELD and fields[CONCISE_DURATION_FIELD].isdigit():
            ages.append(int(fields[CONCISE_DURATION_FIELD]))
    return ages
