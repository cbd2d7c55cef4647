# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``asterisk_problems``: the asterisk role's rules (``module_utils/_asterisk.py``) as a filter.

A thin wrapper: it hands the model code a plain copy of the role's variables (an undefined value becomes the
model's ``Unset``, with the templating engine's reason; vault-encrypted text the text it decrypts to) and returns
the problems as a list, so that an assert prints them as its own message, naming the variables. No message shows
a password.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.module_utils._asterisk import Unset
from ansible_collections.sipvs.lvs.plugins.module_utils._asterisk import asterisk_problems as _asterisk_problems
from ansible_collections.sipvs.lvs.plugins.plugin_utils._templating import (
    accept_args_markers,
    accept_lazy_markers,
    plain,
    undefined_cause,
)
from jinja2 import Undefined


@accept_args_markers
@accept_lazy_markers
def asterisk_problems(settings):
    """``[]`` when the asterisk role's variables (a mapping of their names to their values) are right, else the
    problems, each a sentence naming the variable."""
    if isinstance(settings, Undefined):
        cause = undefined_cause(settings)
        raise AnsibleFilterError(
            "asterisk_problems: the role's variables are undefined" + (" (%s)" % cause if cause else "")
        )
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError(
            "asterisk_problems takes a mapping of the asterisk role's variables by name, got %s"
            % type(settings).__name__
        )
    return _asterisk_problems(plain(settings, Unset))


class FilterModule:
    def filters(self):
        return {"asterisk_problems": asterisk_problems}
