# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's filters need from Ansible's templating engine, in one place.

* ``accept_args_markers`` / ``accept_lazy_markers``: ansible-core 2.19+ hands a filter an undefined value (a
  top-level argument, or an item read from a lazy list or mapping) only when the filter says it takes one;
  older ansible-core passes Jinja's Undefined itself, and the decorators do nothing there.
* ``undefined_cause``: the engine's own words for an undefined value (``'x' is undefined``).
* ``plain``: a copy of a value built of plain dicts, lists, strings, numbers, booleans and None, so that the model
  code in module_utils reads data, not the engine's objects; vault-encrypted text becomes the text it decrypts to,
  and each undefined value what the caller makes of its cause.
"""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import Undefined

__all__ = ["Vaulted", "accept_args_markers", "accept_lazy_markers", "plain", "undefined_cause"]

try:  # ansible-core 2.19+
    from ansible.template import accept_args_markers, accept_lazy_markers
except ImportError:  # pragma: no cover - older ansible-core passes Jinja's Undefined to every filter

    def accept_args_markers(function):
        return function

    def accept_lazy_markers(function):
        return function


try:  # ansible-core 2.19+
    from ansible.parsing.vault import EncryptedString as Vaulted
except ImportError:  # pragma: no cover - older ansible-core
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode as Vaulted


def undefined_cause(value):
    """The templating engine's own words for an undefined value ("'x' is undefined"), if it has them."""
    for reader in ("_as_message", "_undefined_message"):
        try:
            found = getattr(value, reader)
            text = found() if callable(found) else found
        except Exception:  # a Marker may refuse any access: then there is no cause to give
            continue
        if isinstance(text, str) and text:
            return text
    return None


def plain(value, unset):
    """``value`` rebuilt of dict, list, str, int, float, bool and None; an undefined value becomes
    ``unset(cause)`` (``cause`` from undefined_cause, or None), anything else its text."""
    if isinstance(value, Undefined):
        return unset(undefined_cause(value))
    if isinstance(value, Vaulted):
        return str(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): plain(item, unset) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, unset) for item in value]
    return str(value)
