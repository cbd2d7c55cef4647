# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one rule for the collection's secrets: the SIP account passwords (asterisk_endpoints[].password) and the
piranha-gui password.

A secret ends where not every character is safe: pjsip.conf (``;`` starts a comment, a line break ends the
value, outer blanks are trimmed), piranha-passwd's prompt (one line on its standard input, which a shell
script's ``read`` takes with backslash escapes and without outer blanks) and inventories or vault files written
by hand (quotes, ``#``). So a secret is a string of at least ``MIN_LENGTH`` characters with no line break or
other control character, quote, backslash, ``;`` or ``#``, and no leading or trailing blank.

keepalived's VRRP PASS (director_vrrp_auth_pass) is not checked here: VRRPv2 carries at most 8 characters, and
its own pattern lives with the keepalived engine's settings (module_utils/_engines.py).

Pure code: no I/O. check_secret raises LvsError naming the variable; no message ever contains the value.
"""

from __future__ import annotations

from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError

MIN_LENGTH = 12
# Characters refused anywhere in a secret, with the words the message uses for them.
FORBIDDEN = (
    ("'", "a quote"),
    ('"', "a quote"),
    ("\\", "a backslash"),
    (";", "a ';'"),
    ("#", "a '#'"),
)
_SUPPLY = "it is a secret with no default: supply it from a vault or extra vars"


def _type_name(value):
    """The type of ``value`` in the words of YAML and Jinja (never the value itself)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a %s" % type(value).__name__


def check_secret(value, what, cause=None):
    """Return ``value`` if it is a safe secret, else raise LvsError naming ``what``.

    ``None`` means the secret is missing; ``cause`` says why when the caller knows (for example a template
    whose variable is undefined). The messages name ``what`` and describe the problem, never the value.
    """
    if value is None or (isinstance(value, str) and value == ""):
        because = " (%s)" % cause if cause else ""
        raise LvsError("%s is not set%s; %s" % (what, because, _SUPPLY), key=what)
    if not isinstance(value, str):
        raise LvsError(
            "%s must be a string, got %s: quote it in the inventory or the vault file" % (what, _type_name(value)),
            key=what,
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise LvsError("%s must not contain a line break or another control character" % what, key=what)
    for char, words in FORBIDDEN:
        if char in value:
            raise LvsError(
                "%s must not contain %s (quotes, backslashes, ';' and '#' cannot be carried safely into"
                " pjsip.conf, piranha-passwd or a vault file)" % (what, words),
                key=what,
            )
    if value != value.strip():
        raise LvsError("%s must not start or end with a blank" % what, key=what)
    if len(value) < MIN_LENGTH:
        raise LvsError("%s must be at least %d characters long" % (what, MIN_LENGTH), key=what)
    return value


def secret_problems(value, what, cause=None):
    """``[]`` when ``value`` is a safe secret, else the one message check_secret raises, in a list."""
    try:
        check_secret(value, what, cause)
    except LvsError as exc:
        return [str(exc)]
    return []
