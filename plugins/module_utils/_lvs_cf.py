# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse, edit, validate and render Piranha's lvs.cf.

Pure code: text in, text out, no I/O. Errors are LvsError with path, line and
key where there is one.

The document keeps every line of the file as written, so rendering an
untouched document gives the file back byte for byte. Edits rewrite only the
value span of the lines whose value changes (indentation, spacing around
``=``, quotes and trailing comments of the line survive) and insert new lines
in the style of the block they go into.

Public API::

    doc = parse(text, path=None)          # Document; LvsError on syntax errors / unknown keys
    validate(doc)                         # LvsError on the first bad value (with its line)
    to_config(doc)                        # dict, see below
    render(doc)                           # str
    set_globals(doc, {"keepalive": 6, "sync": None})   # merge; None removes a key
    set_virtual(doc, "web01", options={...}, servers=[...])  # merge options; servers exact
    remove_virtual(doc, "web01")
    apply_config(doc, config)             # the whole file becomes ``config``
    plan(text, path, state, ...)          # Plan(text, config, serial_no, changed): what the module does
    GLOBAL_KEYS, VIRTUAL_KEYS, SERVER_KEYS  # key -> (kind, argument), in Piranha's order
    canonical(kind, arg, value, key)      # check one value, return its data form
    check_file(st_mode, st_size)          # LvsError unless lstat() shows a regular file within MAX_FILE_SIZE

The ``config`` data shape (returned by to_config, accepted by apply_config)::

    {"globals":   {"serial_no": 70, "primary": "172.16.11.74", "heartbeat": 1, ...},
     "virtuals":  [{"name": "web01",
                    "options": {"address": "172.16.11.210 eth0:1", "port": 80,
                                "send": "GET / HTTP/1.0\\r\\n\\r\\n", ...},
                    "servers": [{"name": "server-01", "address": "172.16.11.76",
                                 "active": 1, "port": 80, "weight": 1}, ...]}],
     "failovers": [{"name": "ftp", "options": {"address": "...", ...}}]}

Types: booleans are the ints 0/1 (True/False are accepted on input); numeric
keys are ints; ``port`` is an int, or a string when it is a service name
(``http``); everything else is a string. Quotes are not part of a value;
``send`` and ``expect`` are unescaped (``\\r\\n`` in the file is CR LF in the
data) and escaped again when written. Two-token values (``address`` of a
virtual, ``nat_router``) are ``"IP dev:alias"`` with one space. ``serial_no``
in input is ignored: plan() bumps it on every change. Failover blocks are kept
as they are; their options are plain strings. In apply_config() a virtual
without ``servers`` ends up with none, and ``failovers`` left out means the
file's failover blocks stay untouched.

What Piranha cannot load is refused (LvsError with path and line when it comes
from the file, with the key when it comes from the arguments): a UTF-8 byte
order mark, a CR not followed by LF, control characters in values and names
(tab is fine; CR and LF only in send and expect; comments may hold anything
Piranha skips), IPv6 addresses, a server on its virtual's own address, two
servers of one virtual on the same address and port, values longer than
MAX_VALUE characters and numbers of more than _MAX_DIGITS digits (refused
before int() sees them). ``serial_no`` wraps from 2**31 - 1 to 1. check_file()
decides from an lstat() result whether the module may open a file at all
(regular files of at most MAX_FILE_SIZE bytes).
"""

from __future__ import annotations

import ipaddress
import re
import stat
from collections import namedtuple

from ansible_collections.sipvs.lvs.plugins.module_utils._model import (
    PIRANHA_SCHEDULERS,
    LvsError,
    check_choice,
    check_fwmark,
    check_netmask,
    check_port,
    check_range,
    check_weight,
    find_duplicates,
)

# Whitespace as C's isspace() sees it, minus the newline that ends a line.
_WS = " \t\r\f\v"
_INT_MAX = 2**31 - 1
MAX_TEXT = 255
# Longest value or block name accepted; Piranha's own files stay far below it.
MAX_VALUE = 4096
# Largest file the module reads: a real lvs.cf is a few KiB, this keeps a stray log or image out.
MAX_FILE_SIZE = 16 * 1024 * 1024
# A digit string longer than this is refused before int() sees it: int() is slow on huge strings and
# raises ValueError past 4300 digits. 2**32 - 1, the largest number lvs.cf holds, has 10.
_MAX_DIGITS = 20
# Addresses, netmasks, host names and choice values are at most a DNS name long.
_MAX_WORD = 253
# How much of a bad value an error message quotes.
_SHOWN = 60

# key -> (kind, argument). Order = the order Piranha's GUI writes them, used for new lines.
GLOBAL_KEYS = {
    "serial_no": ("int", (0, _INT_MAX)),
    "primary": ("host", None),
    "primary_private": ("ip", None),
    "primary_shared": ("str", None),
    "service": ("choice", ("lvs", "fos")),
    "rsh_command": ("choice", ("rsh", "ssh")),
    "backup_active": ("bool", None),
    "backup": ("host", None),
    "backup_private": ("ip", None),
    "backup_shared": ("str", None),
    "reservation_conflict_action": ("choice", ("nothing", "preempt")),
    "heartbeat": ("bool", None),
    "heartbeat_port": ("port", None),
    "keepalive": ("int", (1, _INT_MAX)),
    "deadtime": ("int", (1, _INT_MAX)),
    "network": ("choice", ("direct", "nat", "tunnel")),
    "nat_router": ("ipdev", None),
    "nat_nmask": ("netmask", None),
    "sync": ("bool", None),
    "debug_level": ("str", None),
    "monitor_links": ("int", (0, _INT_MAX)),
    "hard_shutdown": ("bool", None),
    "active_cmd": ("str", None),
    "inactive_cmd": ("str", None),
    "ipvsadm": ("str", None),
    "syncdaemon": ("bool", None),
    "syncd_iface": ("str", None),
    "syncd_id": ("int", (0, 255)),
    "tcp_timeout": ("int", (0, _INT_MAX)),
    "tcpfin_timeout": ("int", (0, _INT_MAX)),
    "udp_timeout": ("int", (0, _INT_MAX)),
}
VIRTUAL_KEYS = {
    "active": ("bool", None),
    "address": ("ipdev", None),
    "vip_nmask": ("netmask", None),
    "sorry_server": ("ip", None),
    "fwmark": ("fwmark", None),
    "port": ("port", None),
    "persistent": ("int", (0, _INT_MAX)),
    "pmask": ("netmask", None),
    "send": ("text", None),
    "expect": ("text", None),
    "use_regex": ("bool", None),
    "send_program": ("command", None),
    "load_monitor": ("choice", ("uptime", "rup", "ruptime", "none")),
    "scheduler": ("choice", PIRANHA_SCHEDULERS),
    "protocol": ("choice", ("tcp", "udp")),
    "timeout": ("int", (0, _INT_MAX)),
    "reentry": ("int", (0, _INT_MAX)),
    "quiesce_server": ("bool", None),
    "client_monitor": ("str", None),
}
SERVER_KEYS = {
    "address": ("ip", None),
    "active": ("bool", None),
    "port": ("port", None),
    "weight": ("weight", None),
}
BLOCK_KINDS = ("virtual", "server", "failover")

_KEYS = {None: GLOBAL_KEYS, "virtual": VIRTUAL_KEYS, "server": SERVER_KEYS, "failover": None}
_KEY_SLOTS = {None: "global", "virtual": "virtual_key", "failover": "virtual_key", "server": "server_key"}
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_KEY_RE = re.compile(r"[ \t\r\f\v]*(%s)[ \t\r\f\v]*=[ \t\r\f\v]*" % _IDENT)
_OPEN_RE = re.compile(
    r"[ \t\r\f\v]*(virtual|server|failover)[ \t\r\f\v]+([^ \t\r\f\v{}#=\"']+)[ \t\r\f\v]*\{[ \t\r\f\v]*(#.*)?"
)
_CLOSE_RE = re.compile(r"[ \t\r\f\v]*\}[ \t\r\f\v]*(#.*)?")
_IDENT_RE = re.compile(_IDENT)
_NAME_RE = re.compile(r"[^\x00-\x20\x7f{}#=\"']+")
# A CR that does not end a line: Piranha reads lines with fgets(), so a file with CR line ends is one line.
_BARE_CR_RE = re.compile(r"\r(?!\n)")
# send/expect hold CR, LF and tab as data (escaped in the file); other control characters are refused.
_TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INT_RE = re.compile(r"-?[0-9]+")
_SERVICE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.+-]*")
_DEV_ALIAS_RE = re.compile(r"[A-Za-z0-9_.-]{1,15}:[A-Za-z0-9_]+")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_RE = re.compile(r"%s(?:\.%s)*" % (_HOST_LABEL, _HOST_LABEL))
# The inside of a quoted value, without the closing quote: with nothing after it to fail, the
# match never backtracks (an unterminated quote on a 16 MiB line would otherwise take seconds).
_QUOTED_BODY_RES = {quote: re.compile(r"[^%s\\]*(?:\\.[^%s\\]*)*" % (quote, quote), re.DOTALL) for quote in "'\""}
_UNESCAPES = {"n": "\n", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_UNESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)

# Fallback layout: the tutorial's (keys of a virtual at 5 spaces, of a server at 9).
_DEFAULT_STYLE = {
    "eol": "\n",
    "sep": " = ",
    "global": "",
    "virtual": "",
    "virtual_key": " " * 5,
    "virtual_close": "",
    "server": " " * 5,
    "server_key": " " * 9,
    "server_close": " " * 5,
}

# Lines of one kind looked at before a consistent layout counts as the file's.
_STYLE_SAMPLES = 64

Plan = namedtuple("Plan", ["text", "config", "serial_no", "changed"])


class _Line:
    """One physical line. ``text`` includes its newline (the last line may lack one)."""

    __slots__ = ("ilen", "key", "kind", "lineno", "quote", "text", "value", "vend", "vstart")

    def __init__(self, text, lineno, kind, ilen, key=None, value=None, quote="", vstart=0, vend=0):
        self.text = text
        self.lineno = lineno
        self.kind = kind  # "key", "open", "close" or "other" (blank, comment)
        self.ilen = ilen  # length of the indentation
        self.key = key
        self.value = value
        self.quote = quote
        self.vstart = vstart
        self.vend = vend

    def indent(self):
        return self.text[: self.ilen]

    def sep(self):
        """The text between the key and its value, e.g. ``" = "``."""
        return self.text[self.ilen + len(self.key) : self.vstart]


class _Block:
    __slots__ = ("head", "items", "kind", "name", "tail")

    def __init__(self, kind, name, head=None):
        self.kind = kind  # None for the file itself
        self.name = name
        self.head = head
        self.items = []
        self.tail = None

    def label(self):
        return "%s %s" % (self.kind, self.name) if self.kind else "globals"

    def key_lines(self):
        return [item for item in self.items if isinstance(item, _Line) and item.kind == "key"]

    def blocks(self, kind=None):
        return [item for item in self.items if isinstance(item, _Block) and (kind is None or item.kind == kind)]

    def effective(self):
        """key -> the line that counts (the last one, as in Piranha)."""
        lines = {}
        for line in self.key_lines():
            lines[line.key] = line
        return lines

    def values(self):
        return {key: line.value for key, line in self.effective().items()}


class Document:
    """A parsed lvs.cf: the file's lines as a tree of blocks."""

    def __init__(self, path=None):
        self.path = path
        self.root = _Block(None, None)
        self.style = dict(_DEFAULT_STYLE)
        self.learned = set()  # style slots taken from the file rather than the defaults

    def virtuals(self):
        return self.root.blocks("virtual")

    def failovers(self):
        return self.root.blocks("failover")

    def find(self, kind, name, parent=None):
        for block in (parent or self.root).blocks(kind):
            if block.name == name:
                return block
        return None


# ---------------------------------------------------------------------------
# values


def _error(message, key=None, doc=None, line=None):
    return LvsError(message, path=doc.path if doc else None, line=line.lineno if line else None, key=key)


def _shown(value):
    """repr() of a value for an error message, cut to _SHOWN characters: a message names a value, it does
    not repeat 4 KiB of it (repr() itself fails on an int of more than 4300 digits)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return "a %d-bit integer" % value.bit_length()
    try:
        text = repr(value)
    except ValueError:
        return "a value too large to show"
    if len(text) <= _SHOWN:
        return text
    return "%s... (%d characters)" % (text[:_SHOWN], len(value) if isinstance(value, str) else len(text))


def unescape(text):
    """``\\n \\r \\\\ \\' \\"`` to the characters they stand for; other backslashes stay."""
    return _UNESCAPE_RE.sub(lambda m: _UNESCAPES.get(m.group(1), m.group(0)), text)


def escape(text, quote='"'):
    """The inverse of unescape() for a value written between ``quote`` characters."""
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return out.replace(quote, "\\" + quote)


def _scan_quoted(body, start):
    """Return the index just after the quoted string that starts at ``body[start]``, or -1.

    Inside quotes a backslash takes the next character with it, so ``\\"`` does not end the string.
    """
    quote = body[start]
    end = _QUOTED_BODY_RES[quote].match(body, start + 1).end()
    return end + 1 if body[end : end + 1] == quote else -1


_NUMERIC_KINDS = ("int", "bool", "fwmark", "weight", "port")


def _from_file(kind, raw):
    """The data value of a value read from a file; bad values (too many digits too) are left for validate()."""
    if kind in _NUMERIC_KINDS and len(raw) <= _MAX_DIGITS and _INT_RE.fullmatch(raw):
        return int(raw)
    if kind == "ipdev":
        return " ".join(raw.split())
    if kind == "text":
        return unescape(raw)
    return raw.strip(_WS)  # also inside quotes, as canonical() does


def _integer(value, what):
    """``value`` (an int or a decimal string) as an int; a string is measured before int() sees it."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise LvsError("%s must be an integer, got %s" % (what, _shown(value)), key=what)
    if isinstance(value, int):
        if value.bit_length() > 64:
            raise LvsError("%s is out of range, got %s" % (what, _shown(value)), key=what)
        return value
    text = value.strip()
    if len(text) > _MAX_DIGITS and _INT_RE.fullmatch(text):
        raise LvsError("%s must be a number of at most %d digits, got %d" % (what, _MAX_DIGITS, len(text)), key=what)
    if not _INT_RE.fullmatch(text):
        raise LvsError("%s must be an integer, got %s" % (what, _shown(value)), key=what)
    return int(text)


def _text_of(value, what, strip=True):
    """A str (or int) value as text of at most MAX_VALUE characters."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise LvsError("%s must be a string, got %s" % (what, _shown(value)), key=what)
    text = str(_integer(value, what)) if isinstance(value, int) else value
    if len(text) > MAX_VALUE:
        raise LvsError("%s must be at most %d characters, got %d" % (what, MAX_VALUE, len(text)), key=what)
    return text.strip(_WS) if strip else text


def _single_line(value, what):
    text = _text_of(value, what)
    if not text.replace("\t", " ").isprintable():
        raise LvsError("%s must be one line of printable characters, got %s" % (what, _shown(value)), key=what)
    return text


def _word(value, what):
    """A one-line value that names something (address, netmask, host, choice): at most _MAX_WORD characters."""
    text = _single_line(value, what)
    if len(text) > _MAX_WORD:
        raise LvsError("%s must be at most %d characters, got %d" % (what, _MAX_WORD, len(text)), key=what)
    return text


def _check_ipv4(text, what):
    """Piranha (inet_aton, struct in_addr) knows IPv4 only; an IPv6 address is refused, not written."""
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        family = " (IPv4: Piranha has no IPv6)" if ":" in text else ""
        raise LvsError("%s must be an IP address%s, got %s" % (what, family, _shown(text)), key=what) from None
    return text


def canonical(kind, arg, value, what):
    """Check one value and return it in its data form (see the module docstring)."""
    if kind == "bool":
        if value in (0, 1, "0", "1") and not isinstance(value, float):
            return int(value)
        raise LvsError("%s must be 0 or 1, got %s" % (what, _shown(value)), key=what)
    if kind == "fwmark":
        return check_fwmark(_integer(value, what), what)
    if kind == "weight":
        return check_weight(_integer(value, what), what)
    if kind == "int":
        return check_range(_integer(value, what), what, arg[0], arg[1])
    if kind == "port":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise LvsError("%s must be a port number or a service name, got %s" % (what, _shown(value)), key=what)
        text = value.strip() if isinstance(value, str) else None
        if text is None or _INT_RE.fullmatch(text):
            return check_port(_integer(value, what), what)
        if len(text) <= _MAX_WORD and _SERVICE_RE.fullmatch(text):
            return text
        message = "%s must be a port number (1-65535) or a service name, got %s" % (what, _shown(value))
        raise LvsError(message, key=what)
    if kind == "text":
        text = _text_of(value, what, strip=False)
        if len(text) > MAX_TEXT:
            raise LvsError("%s must be at most %d characters, got %d" % (what, MAX_TEXT, len(text)), key=what)
        if _TEXT_CONTROL_RE.search(text):
            message = "%s must not hold control characters other than tab, CR and LF, got %s"
            raise LvsError(message % (what, _shown(value)), key=what)
        try:
            text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise LvsError("%s cannot be written as UTF-8, got %s" % (what, _shown(value)), key=what) from None
        return text
    if kind in ("str", "command"):
        return _writable(_single_line(value, what), what, quoted=kind == "command")
    text = _word(value, what)
    if kind == "choice":
        return check_choice(text, what, arg)
    if kind == "ip":
        return _check_ipv4(text, what)
    if kind == "host":
        if not _HOST_RE.fullmatch(text):
            _check_ipv4(text, what)
        return text
    if kind == "netmask":
        if check_netmask(text, what) != text:  # a prefix length or a host mask
            message = "%s must be a dotted netmask such as 255.255.255.0, got %s"
            raise LvsError(message % (what, _shown(value)), key=what)
        return text
    # "ipdev": "IP dev:alias"
    tokens = text.split()
    if len(tokens) != 2 or not _DEV_ALIAS_RE.fullmatch(tokens[1]):
        message = "%s must be 'IP dev:alias' (e.g. '172.16.11.210 eth0:1'), got %s"
        raise LvsError(message % (what, _shown(value)), key=what)
    _check_ipv4(tokens[0], what)
    return " ".join(tokens)


def _key_name(key):
    """``key`` for LvsError.key: a str cut to _SHOWN characters (str() of any other key could be huge)."""
    return key[:_SHOWN] if isinstance(key, str) else _shown(key)


def _check_name(name, what):
    """A block name: one printable word of at most _MAX_WORD characters."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or not name.isprintable():
        message = "%s must be one word of printable characters without quotes, '{', '}', '#' or '=', got %s"
        raise LvsError(message % (what, _shown(name)), key="name")
    if len(name) > _MAX_WORD:
        raise LvsError("%s must be at most %d characters, got %d" % (what, _MAX_WORD, len(name)), key="name")
    return name


def _canonical_options(values, keys, where, allow_none=True):
    """Check a dict of options of a block; None (remove) stays None."""
    if not isinstance(values, dict):
        raise LvsError("%s: options must be a dict, got %s" % (where, _shown(values)))
    out = {}
    for key, value in values.items():
        if keys is None:  # failover: any key, string values
            if not isinstance(key, str) or not _IDENT_RE.fullmatch(key) or len(key) > _MAX_WORD:
                raise LvsError("%s: %s is not a valid key name" % (where, _shown(key)), key=_key_name(key))
            out[key] = None if value is None else _writable(_single_line(value, key), key)
            continue
        if key not in keys:
            raise LvsError(
                "%s: unknown key %s (known: %s)" % (where, _shown(key), ", ".join(sorted(keys))),
                key=_key_name(key),
            )
        if value is None:
            if not allow_none:
                raise LvsError("%s: %s must have a value" % (where, key), key=key)
            out[key] = None
            continue
        kind, arg = keys[key]
        try:
            out[key] = canonical(kind, arg, value, key)
        except LvsError as exc:
            raise LvsError("%s: %s" % (where, exc.message), key=key) from None
    return out


# ---------------------------------------------------------------------------
# parsing


def _lex(body, lineno, doc):
    """Classify one line (without its newline)."""
    text = body.lstrip(_WS)
    ilen = len(body) - len(text)
    if not text or text[0] == "#":
        return _Line(body, lineno, "other", ilen)
    match = _KEY_RE.match(body)
    if match:
        key, pos = match.group(1), match.end()
        if pos < len(body) and body[pos] in "\"'":
            end = _scan_quoted(body, pos)
            if end < 0:
                raise LvsError("unterminated quote in the value of %s" % _shown(key), doc.path, lineno, _key_name(key))
            rest = body[end:].lstrip(_WS)
            if rest and not rest.startswith("#"):
                message = "unexpected text %s after the quoted value of %s" % (_shown(rest), _shown(key))
                raise LvsError(message, doc.path, lineno, _key_name(key))
            return _Line(body, lineno, "key", ilen, key, body[pos + 1 : end - 1], body[pos], pos, end)
        hash_at = body.find("#", pos)
        code = body[pos:] if hash_at < 0 else body[pos:hash_at]
        value = code.rstrip(_WS)
        return _Line(body, lineno, "key", ilen, key, value, "", pos, pos + len(value))
    match = _OPEN_RE.fullmatch(body)
    if match:
        try:
            name = _check_name(match.group(2), "%s name" % match.group(1))
        except LvsError as exc:
            raise LvsError(exc.message, doc.path, lineno, match.group(1)) from None
        return _Line(body, lineno, "open", ilen, match.group(1), name)
    if _CLOSE_RE.fullmatch(body):
        return _Line(body, lineno, "close", ilen)
    text = text.rstrip(_WS)
    word = text.split(None, 1)[0] if text.split(None, 1) else text
    word = (word.split("=")[0] or word)[:_SHOWN]
    if word in BLOCK_KINDS:
        message = "expected '%s NAME {' (one-word name, '{' on the same line), got %s" % (word, _shown(text))
    elif _IDENT_RE.fullmatch(word):
        message = "expected '%s = value', got %s" % (word, _shown(text))
    else:
        message = "expected 'key = value', 'virtual NAME {', 'server NAME {', 'failover NAME {' or '}', got %s"
        message %= _shown(text)
    raise LvsError(message, doc.path, lineno, word)


def _check_line_ends(text, path):
    """Refuse, naming the line, what would otherwise end in an error quoting the whole file: a byte
    order mark (Piranha does not skip it) and a CR that does not end a line (CR line ends).

    Control characters need no check here: in a value, name or key they fail its own check, with its line.
    """
    if text.startswith("\ufeff"):
        raise LvsError("the file starts with a UTF-8 byte order mark, which Piranha does not skip", path, 1)
    match = _BARE_CR_RE.search(text)
    if match:
        lineno = text.count("\n", 0, match.start()) + 1
        message = "carriage return not followed by a line feed: lines must end in LF or CR LF, not CR alone"
        raise LvsError(message, path, lineno)


def parse(text, path=None):
    """Parse lvs.cf text into a Document; LvsError names the line and key of a syntax error."""
    if not isinstance(text, str):
        raise LvsError("lvs.cf content must be text", path)
    _check_line_ends(text, path)
    doc = Document(path)
    stack = [doc.root]
    seen_style = {}
    # Only "\n" ends a line; a "\r" before it is part of the line (and whitespace).
    bodies = text.split("\n")
    last = len(bodies) - 1
    if last and bodies[0].endswith("\r"):
        doc.style["eol"] = "\r\n"
    for index, body in enumerate(bodies):
        if index == last and not body:
            break
        line = _lex(body, index + 1, doc)
        if index < last:
            line.text = body + "\n"
        lineno = index + 1
        block = stack[-1]
        if line.kind == "other":
            block.items.append(line)
        elif line.kind == "key":
            keys = _KEYS[block.kind]
            if keys is not None and line.key not in keys:
                where = "" if block.kind is None else " in %s" % block.label()
                what = "global key" if block.kind is None else "key"
                message = "unknown %s %s%s" % (what, _shown(line.key), where)
                raise LvsError(message, doc.path, lineno, _key_name(line.key))
            kind = keys[line.key][0] if keys is not None else "str"
            line.value = _from_file(kind, line.value)
            block.items.append(line)
            _learn_style(seen_style, _KEY_SLOTS[block.kind], line)
        elif line.kind == "open":
            kind, name = line.key, line.value
            allowed = {"virtual": (None,), "failover": (None,), "server": ("virtual",)}[kind]
            if block.kind not in allowed:
                where = "inside %s (missing '}'?)" % block.label() if block.kind else "outside a virtual block"
                raise LvsError("'%s %s' block %s" % (kind, name, where), doc.path, lineno, kind)
            child = _Block(kind, name, line)
            block.items.append(child)
            stack.append(child)
            _learn_style(seen_style, "server" if kind == "server" else "virtual", line)
        else:
            if block.kind is None:
                raise LvsError("'}' without an open block", doc.path, lineno, "}")
            block.tail = line
            stack.pop()
            _learn_style(seen_style, "server_close" if block.kind == "server" else "virtual_close", line)
    if len(stack) > 1:
        block = stack[-1]
        raise LvsError(
            "%s opened on line %d is not closed (missing '}')" % (block.label(), block.head.lineno),
            doc.path,
            block.head.lineno,
            block.kind,
        )
    _settle_style(doc, seen_style)
    return doc


def _learn_style(seen, slot, line):
    """Count the indentation (and separator) of the first lines of each kind; see _settle_style()."""
    counts = seen.setdefault(slot, {})
    if len(counts) == 1 and next(iter(counts.values())) >= _STYLE_SAMPLES:
        return  # a long run of one layout: enough evidence
    indent = line.indent()
    counts[indent] = counts.get(indent, 0) + 1
    if line.kind == "key":
        counts = seen.setdefault("sep", {})
        sep = line.sep()
        counts[sep] = counts.get(sep, 0) + 1


def _settle_style(doc, seen):
    """The file's style: for each kind of line its most common layout (first seen on a tie)."""
    for slot, counts in seen.items():
        doc.style[slot] = max(counts, key=counts.get)
        doc.learned.add(slot)


# ---------------------------------------------------------------------------
# rendering and editing


def render(doc):
    """The document as text; an untouched document renders as the text it was parsed from."""
    parts = []
    _emit(doc.root, parts)
    eol = doc.style["eol"]
    last = len(parts) - 1
    return "".join(part if i == last or part.endswith("\n") else part + eol for i, part in enumerate(parts))


def _emit(block, parts):
    if block.head is not None:
        parts.append(block.head.text)
    for item in block.items:
        if isinstance(item, _Block):
            _emit(item, parts)
        else:
            parts.append(item.text)
    if block.tail is not None:
        parts.append(block.tail.text)


def _quoted(value, preferred='"'):
    """``value`` between quotes such that parsing gives it back (no escapes), or None."""
    for quote in (preferred, "'" if preferred == '"' else '"'):
        candidate = quote + value + quote
        if _scan_quoted(candidate, 0) == len(candidate):
            return candidate
    return None


def _needs_quotes(text):
    return text != text.strip(_WS) or "#" in text or text[:1] in ("'", '"')


def _writable(text, what, quoted=False):
    """Refuse a string that cannot be written so that it reads back the same."""
    if (quoted or _needs_quotes(text)) and _quoted(text) is None:
        raise LvsError(
            "%s cannot be written to lvs.cf so that it reads back the same (it needs quotes but mixes both"
            " quote characters or ends in a backslash), got %s" % (what, _shown(text)),
            key=what,
        )
    return text


def _kind(block, key):
    keys = _KEYS[block.kind]
    return keys[key][0] if keys is not None else "str"


def _format(kind, key, value, quote=""):
    """The value as written in the file; returns (text, quote character or "")."""
    if isinstance(value, int):
        return str(value), ""
    if kind == "text":
        quote = quote or '"'
        return quote + escape(value, quote) + quote, quote
    must = kind == "command" or _needs_quotes(value)
    if must or quote:
        text = _quoted(value, quote or '"')
        if text is not None:
            return text, text[0]
        if must:
            _writable(value, key, quoted=True)
    return value, ""


def _new_line(block, indent, key, sep, value, eol):
    head = indent + key + sep
    text, quote = _format(_kind(block, key), key, value)
    return _Line(head + text + eol, None, "key", len(indent), key, value, quote, len(head), len(head) + len(text))


def _rewrite(block, line, value):
    text, quote = _format(_kind(block, line.key), line.key, value, line.quote)
    line.text = line.text[: line.vstart] + text + line.text[line.vend :]
    line.vend = line.vstart + len(text)
    line.value = value
    line.quote = quote


def _key_style(doc, block):
    """(indent, separator) for a new key line in ``block``: its own last key line's, else the file's."""
    lines = block.key_lines()
    if lines:
        return lines[-1].indent(), lines[-1].sep()
    slot = _KEY_SLOTS[block.kind]
    if block.kind == "server" and block.head is not None:
        return block.head.indent() + _step(doc), doc.style["sep"]
    return doc.style[slot], doc.style["sep"]


def _step(doc):
    """One level of indentation for keys under a server's opening line.

    The file's own servers show it; else the indentation of virtual blocks'
    keys; the tutorial's layout (5 spaces for virtual keys, servers' keys 4
    further) is the fallback.
    """
    for inner, outer in (("server_key", "server"), ("virtual_key", "virtual")):
        key, head = doc.style[inner], doc.style[outer]
        if inner in doc.learned and key.startswith(head) and key != head:
            step = key[len(head) :]
            if inner == "server_key" or step != _DEFAULT_STYLE["virtual_key"]:
                return step
    return "    "


def _key_position(block, first=False):
    keys = [i for i, item in enumerate(block.items) if isinstance(item, _Line) and item.kind == "key"]
    if keys:
        return keys[0] if first else keys[-1] + 1
    for i, item in enumerate(block.items):
        if isinstance(item, _Block):
            return i
    return len(block.items)


def set_key(doc, block, key, value, first=False):
    """Set (value not None) or remove (None) a key of a block. Returns True if the document changed.

    The line that counts (the last) is rewritten in place and earlier repeats dropped;
    a new key goes after the block's last key line (``first``: before its first).
    """
    lines = [item for item in block.items if isinstance(item, _Line) and item.key == key and item.kind == "key"]
    if value is None:
        if not lines:
            return False
        _remove_items(block, lines)
        return True
    if lines and lines[-1].value == value and type(lines[-1].value) is type(value):
        return False
    if lines:
        _rewrite(block, lines[-1], value)
        _remove_items(block, lines[:-1])
        return True
    indent, sep = _key_style(doc, block)
    block.items.insert(_key_position(block, first), _new_line(block, indent, key, sep, value, doc.style["eol"]))
    return True


def _new_block(doc, kind, name, parent, options, order):
    eol = doc.style["eol"]
    if kind == "server":
        siblings = parent.blocks("server")
        if siblings:
            last = siblings[-1]
            open_indent = last.head.indent()
            close_indent = last.tail.indent()
        else:
            parent_keys = parent.key_lines()
            open_indent = parent_keys[-1].indent() if parent_keys else doc.style["server"]
            close_indent = open_indent if parent_keys else doc.style["server_close"]
    else:
        siblings = doc.root.blocks()
        open_indent = siblings[-1].head.indent() if siblings else doc.style["virtual"]
        close_indent = siblings[-1].tail.indent() if siblings else doc.style["virtual_close"]
    head = "%s%s %s {" % (open_indent, kind, name)
    block = _Block(kind, name, _Line(head + eol, None, "open", len(open_indent), kind, name))
    block.tail = _Line(close_indent + "}" + eol, None, "close", len(close_indent))
    if kind == "server" and siblings and siblings[-1].key_lines():
        template = siblings[-1].key_lines()[-1]
        indent, sep = template.indent(), template.sep()
    elif kind == "server":
        indent, sep = open_indent + _step(doc), doc.style["sep"]
    else:
        indent, sep = doc.style["virtual_key"], doc.style["sep"]
    for key in order(options):
        if options[key] is not None:
            block.items.append(_new_line(block, indent, key, sep, options[key], eol))
    return block


def _ordered(keys):
    rank = {key: i for i, key in enumerate(keys or ())}

    def order(options):
        return sorted(options, key=lambda key: (rank.get(key, len(rank)), key))

    return order


def _insert_block(parent, block):
    """After the parent's last block (its last server, the file's last virtual/failover), else at its end."""
    index = len(parent.items)
    for i, item in enumerate(parent.items):
        if isinstance(item, _Block):
            index = i + 1
    parent.items.insert(index, block)


def _remove_items(parent, items):
    gone = {id(item) for item in items}
    if gone:
        parent.items = [item for item in parent.items if id(item) not in gone]


def _canonical_servers(servers, where):
    if not isinstance(servers, list):
        raise LvsError("%s: servers must be a list, got %s" % (where, _shown(servers)), key="servers")
    out = []
    for server in servers:
        if not isinstance(server, dict) or "name" not in server:
            raise LvsError(
                "%s: every server must be a dict with a name, got %s" % (where, _shown(server)), key="servers"
            )
        name = _check_name(server["name"], "server name")
        options = {key: value for key, value in server.items() if key != "name"}
        options = _canonical_options(options, SERVER_KEYS, "%s, server %s" % (where, name))
        out.append((name, {key: value for key, value in options.items() if value is not None}))
    dups = find_duplicates([entry[0] for entry in out])
    if dups:
        raise LvsError("%s: duplicate server names: %s" % (where, ", ".join(dups)), key="name")
    return out


def _set_block_options(doc, block, options, keys, exact, keep=()):
    if exact:
        # One pass: removing key by key would rescan the block once per line.
        _remove_items(block, [line for line in block.key_lines() if line.key not in options and line.key not in keep])
    for key in _ordered(keys)(options):
        set_key(doc, block, key, options[key])


def _set_servers(doc, vblock, servers):
    wanted = dict(servers)
    existing = {}
    stale = []
    for block in vblock.blocks("server"):
        if block.name in wanted:
            if block.name in existing:
                stale.append(existing[block.name])
            existing[block.name] = block
        else:
            stale.append(block)
    _remove_items(vblock, stale)
    for name, options in servers:
        if name in existing:
            _set_block_options(doc, existing[name], options, SERVER_KEYS, exact=True)
        else:
            block = _new_block(doc, "server", name, vblock, options, _ordered(SERVER_KEYS))
            _insert_block(vblock, block)


def set_globals(doc, values):
    """Set the given global keys (None removes one); other keys stay. serial_no is ignored."""
    options = _canonical_options(values, GLOBAL_KEYS, "globals")
    options.pop("serial_no", None)
    _set_block_options(doc, doc.root, options, GLOBAL_KEYS, exact=False)


def set_virtual(doc, name, options=None, servers=None):
    """Create or update ``virtual NAME``: set ``options`` (None removes a key), and when
    ``servers`` is given make the block's servers exactly those."""
    _check_name(name, "virtual name")
    where = "virtual %s" % name
    options = _canonical_options({} if options is None else options, VIRTUAL_KEYS, where)
    servers = None if servers is None else _canonical_servers(servers, where)
    block = doc.find("virtual", name)
    if block is None:
        block = _new_block(doc, "virtual", name, doc.root, options, _ordered(VIRTUAL_KEYS))
        _insert_block(doc.root, block)
    else:
        _set_block_options(doc, block, options, VIRTUAL_KEYS, exact=False)
    if servers is not None:
        _set_servers(doc, block, servers)


def remove_virtual(doc, name):
    """Remove every ``virtual NAME`` block."""
    _check_name(name, "virtual name")
    _remove_items(doc.root, [block for block in doc.virtuals() if block.name == name])


def _canonical_config(config):
    if not isinstance(config, dict):
        raise LvsError(
            "config must be a dict with globals, virtuals and failovers, got %s" % _shown(config), key="config"
        )
    unknown = sorted(_key_name(key) for key in set(config) - {"globals", "virtuals", "failovers"})
    if unknown:
        raise LvsError(
            "config: unknown keys %s (known: failovers, globals, virtuals)" % ", ".join(unknown), key="config"
        )
    globals_ = config.get("globals")
    globals_ = _canonical_options({} if globals_ is None else globals_, GLOBAL_KEYS, "globals")
    globals_.pop("serial_no", None)
    out = {"globals": {k: v for k, v in globals_.items() if v is not None}, "virtuals": [], "failovers": None}
    for section, keys in (("virtuals", VIRTUAL_KEYS), ("failovers", None)):
        entries = config.get(section)
        if entries is None:
            entries = [] if section == "virtuals" else None
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise LvsError("config: %s must be a list, got %s" % (section, _shown(entries)), key=section)
        kind = section[:-1]
        done = []
        for entry in entries:
            if not isinstance(entry, dict) or "name" not in entry:
                message = "config: every %s entry must be a dict with a name, got %s" % (kind, _shown(entry))
                raise LvsError(message, key=section)
            extra = sorted(
                _key_name(key) for key in set(entry) - ({"name", "options", "servers"} if keys else {"name", "options"})
            )
            if extra:
                message = "config: %s %s: unknown keys %s" % (kind, _shown(entry["name"]), ", ".join(extra))
                raise LvsError(message, key=section)
            name = _check_name(entry["name"], "%s name" % kind)
            where = "%s %s" % (kind, name)
            options = entry.get("options")
            options = _canonical_options({} if options is None else options, keys, where)
            options = {k: v for k, v in options.items() if v is not None}
            servers = entry.get("servers")
            servers = _canonical_servers([] if servers is None else servers, where) if keys else None
            done.append((name, options, servers))
        dups = find_duplicates([entry[0] for entry in done])
        if dups:
            raise LvsError("config: duplicate %s names: %s" % (kind, ", ".join(dups)), key="name")
        out[section] = done
    return out


def apply_config(doc, config):
    """Make the document say exactly ``config`` (failover blocks only when ``failovers`` is given).

    Blocks and keys that already match are left as they are, new ones are
    appended; order in ``config`` does not move existing blocks.
    """
    config = _canonical_config(config)
    _set_block_options(doc, doc.root, config["globals"], GLOBAL_KEYS, exact=True, keep=("serial_no",))
    sections = [("virtual", config["virtuals"], VIRTUAL_KEYS)]
    if config["failovers"] is not None:
        sections.append(("failover", config["failovers"], None))
    for kind, entries, keys in sections:
        wanted = {entry[0] for entry in entries}
        existing = {}
        stale = []
        for block in doc.root.blocks(kind):
            if block.name in wanted and block.name not in existing:
                existing[block.name] = block
            else:
                stale.append(block)
        _remove_items(doc.root, stale)
        for name, options, servers in entries:
            block = existing.get(name)
            if block is None:
                block = _new_block(doc, kind, name, doc.root, options, _ordered(keys))
                _insert_block(doc.root, block)
            else:
                _set_block_options(doc, block, options, keys, exact=True)
            if servers is not None:
                _set_servers(doc, block, servers)


# ---------------------------------------------------------------------------
# validation and data


def _check_block(doc, block, keys, cache, where):
    """Check the values of one block; ``cache`` remembers values already found good."""
    values = {}
    for key, line in block.effective().items():
        if keys is None:  # failover: any key, one printable line
            try:
                values[key] = _writable(_single_line(line.value, key), key)
            except LvsError as exc:
                raise _error("%s: %s" % (where, exc.message), key, doc, line) from None
            continue
        memo = (key, type(line.value), line.value)
        if memo in cache:
            values[key] = cache[memo]
            continue
        kind, arg = keys[key]
        try:
            values[key] = cache[memo] = canonical(kind, arg, line.value, key)
        except LvsError as exc:
            prefix = "%s: " % where if where else ""
            raise _error(prefix + exc.message, key, doc, line) from None
    return values


def _check_unique_names(doc, blocks, prefix=""):
    """Refuse the first block whose name an earlier sibling of its kind already has."""
    seen = set()
    for block in blocks:
        if block.name in seen:
            message = "%sduplicate %s name %s" % (prefix, block.kind, _shown(block.name))
            raise _error(message, "name", doc, block.head)
        seen.add(block.name)


def _check_servers(doc, vblock, vvalues, cache):
    """Each server's values, then what IPVS cannot hold: a real server on the virtual's own
    address, two real servers on one address and port (a server's port defaults to the virtual's,
    which defaults to 80; a service name and its number are not recognised as the same port)."""
    servers = vblock.blocks("server")
    _check_unique_names(doc, servers, "virtual %s: " % vblock.name)
    vip = vvalues["address"].split(" ")[0] if "address" in vvalues else None
    taken = {}
    for sblock in servers:
        where = "virtual %s, server %s" % (vblock.name, sblock.name)
        values = _check_block(doc, sblock, SERVER_KEYS, cache, where)
        if "address" not in values:
            continue
        address, line = values["address"], sblock.effective()["address"]
        if address == vip:
            raise _error("%s: address %s is the virtual's own address" % (where, address), "address", doc, line)
        port = values.get("port", vvalues.get("port", 80))
        other = taken.setdefault((address, port), sblock.name)
        if other != sblock.name:
            message = "%s: address %s port %s is taken by server %s already" % (where, address, port, other)
            raise _error(message, "address", doc, line)


def validate(doc):
    """Raise LvsError for the first invalid value or conflict; the line is given when it is in the file."""
    cache = {}
    _check_block(doc, doc.root, GLOBAL_KEYS, cache, "")
    for kind in ("virtual", "failover"):
        _check_unique_names(doc, doc.root.blocks(kind))
    marks = {}
    for vblock in doc.virtuals():
        values = _check_block(doc, vblock, VIRTUAL_KEYS, cache, vblock.label())
        lines = vblock.effective()
        if "fwmark" in values:
            mark = values["fwmark"]
            if mark in marks:
                raise _error(
                    "fwmark %d is used by both virtual %s and virtual %s" % (mark, marks[mark], vblock.name),
                    "fwmark",
                    doc,
                    lines["fwmark"],
                )
            marks[mark] = vblock.name
        if "pmask" in values and not values.get("persistent"):
            raise _error(
                "virtual %s: pmask needs persistent > 0 (pmask is the persistence netmask)" % vblock.name,
                "pmask",
                doc,
                lines["pmask"],
            )
        _check_servers(doc, vblock, values, cache)
    for fblock in doc.failovers():
        _check_block(doc, fblock, None, cache, fblock.label())


def to_config(doc):
    """The document as data (the ``config`` shape); values as the file has them (see the docstring)."""
    virtuals = []
    for block in doc.virtuals():
        servers = []
        for sblock in block.blocks("server"):
            server = {"name": sblock.name}
            server.update(sblock.values())
            servers.append(server)
        virtuals.append({"name": block.name, "options": block.values(), "servers": servers})
    failovers = [{"name": block.name, "options": block.values()} for block in doc.failovers()]
    return {"globals": doc.root.values(), "virtuals": virtuals, "failovers": failovers}


_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


def check_file(mode, size):
    """Refuse, from what lstat() says, a file the module must not open: anything but a regular file
    (opening a FIFO waits for a writer, a device never ends, and the write would put a regular file
    in its place) and a file over MAX_FILE_SIZE bytes (it would be read whole)."""
    if not stat.S_ISREG(mode):
        kind = next((name for is_type, name in _FILE_TYPES if is_type(mode)), "of an unknown type")
        raise LvsError("it is %s, not a regular file" % kind, key="path")
    if size > MAX_FILE_SIZE:
        message = "it is %d bytes, over the %d bytes (16 MiB) this module reads" % (size, MAX_FILE_SIZE)
        raise LvsError(message, key="path")


def serial_no(doc):
    return doc.root.values().get("serial_no")


def next_serial_no(current):
    """serial_no after a change: one more, 1 for a file without one, and 1 again after 2**31 - 1
    (Piranha reads it as a C int; the file must stay one this module reads back)."""
    if current is None or current >= _INT_MAX:
        return 1
    return current + 1


def _check_reads_back(text, path, config):
    """Parse and validate the text about to be written: the module never writes a file it would refuse."""
    doc = parse(text, path)
    validate(doc)
    if to_config(doc) != config:
        raise LvsError("the new text does not read back as the configuration it was made from (a bug)", path)


def plan(text, path=None, state="present", globals_=None, virtual=None, options=None, servers=None, config=None):
    """Work out what the module does to a file holding ``text``; returns Plan(text, config, serial_no, changed).

    ``state`` is present, absent (removes ``virtual``) or read. The result is
    validated; when the text changes, serial_no is incremented (see next_serial_no()) and the new
    text is parsed and validated once more, so what is returned can be written and read back.
    """
    doc = parse(text, path)
    if state not in ("present", "absent", "read"):
        raise LvsError("state must be present, absent or read, got %s" % _shown(state), path, key="state")
    if config is not None and (globals_ is not None or virtual is not None):
        raise LvsError("config is mutually exclusive with globals and virtual", path, key="config")
    if (options is not None or servers is not None) and virtual is None:
        raise LvsError("options and servers need virtual", path, key="virtual")
    edits = [globals_, virtual, options, servers, config]
    if state == "read" and any(edit is not None for edit in edits):
        raise LvsError(
            "state=read changes nothing: it takes no globals, virtual, options, servers or config", path, key="state"
        )
    try:
        if state == "absent":
            if virtual is None:
                raise LvsError("state=absent needs virtual (the block to remove)", key="virtual")
            if globals_ is not None or options is not None or servers is not None or config is not None:
                raise LvsError("state=absent takes only virtual", key="state")
            remove_virtual(doc, virtual)
        elif state == "present":
            if config is not None:
                apply_config(doc, config)
            if globals_ is not None:
                set_globals(doc, globals_)
            if virtual is not None:
                set_virtual(doc, virtual, options, servers)
    except LvsError as exc:
        exc.path = path
        raise
    validate(doc)
    after = render(doc)
    changed = after != text
    if changed:
        set_key(doc, doc.root, "serial_no", next_serial_no(serial_no(doc)), first=True)
        after = render(doc)
    config = to_config(doc)
    if changed:
        _check_reads_back(after, path, config)
    return Plan(after, config, serial_no(doc), changed)
