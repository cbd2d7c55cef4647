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
from ansible_collections.sipvs.lvs.plugins.plugin_utils._templating import (
    Vaulted,
    accept_args_markers,
    undefined_cause,
)
from jinja2 import Undefined


@accept_args_markers
def secret_problems(value, what):
    """``[]`` when ``value`` is a safe secret, else a list of one message naming ``what``."""
    what = str(what)
    if isinstance(value, Undefined):
        return _secret_problems(None, what, undefined_cause(value))
    if isinstance(value, Vaulted):
        value = str(value)
    return _secret_problems(value, what)


class FilterModule:
    def filters(self):
        return {"secret_problems": secret_problems}
