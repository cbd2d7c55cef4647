# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``secret_problems``: the collection's rule for secrets (``module_utils/_secrets.py``) as a filter.

A thin wrapper: it returns the problems as a list (empty when the secret is safe) so that an assert can print
them as its own message, naming the variable, instead of failing inside the template. The filter takes an
undefined value too (a vault variable that is not there): that is a missing secret, and the message says which
variable is undefined. Vault-encrypted values are checked as the text they decrypt to. No message contains the
value.
"""

from __future__ import annotations

from ansible_collections.sipvs.lvs.plugins.module_utils._secrets import secret_problems as _secret_problems
from jinja2 import Undefined

try:  # ansible-core 2.19+: without the marker, an undefined argument would never reach the filter.
    from ansible.template import accept_args_markers
except ImportError:  # pragma: no cover - older ansible-core passes Jinja's Undefined itself

    def accept_args_markers(function):
        return function


try:  # ansible-core 2.19+
    from ansible.parsing.vault import EncryptedString as _Vaulted
except ImportError:  # pragma: no cover - older ansible-core
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode as _Vaulted


def _undefined_cause(value):
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


@accept_args_markers
def secret_problems(value, what):
    """``[]`` when ``value`` is a safe secret, else a list of one message naming ``what``."""
    what = str(what)
    if isinstance(value, Undefined):
        return _secret_problems(None, what, _undefined_cause(value))
    if isinstance(value, _Vaulted):
        value = str(value)
    return _secret_problems(value, what)


class FilterModule:
    def filters(self):
        return {"secret_problems": secret_problems}
