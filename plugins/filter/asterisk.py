# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``asterisk_problems``: the asterisk role's rules (``module_utils/_asterisk.py``) as a filter;
``asterisk_channel_ages``: the channels' ages in Asterisk's ``core show channels concise``.

A thin wrapper: it hands the model code a plain copy of the role's variables (an undefined value becomes the
model's ``Unset``, with the templating engine's reason; vault-encrypted text the text it decrypts to) and returns
the problems as a list, so that an assert prints them as its own message, naming the variables. No message shows
a password.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.module_utils._asterisk import Unset, channel_ages
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


def asterisk_channel_ages(text):
    """The age in seconds of each channel in ``core show channels concise`` output."""
    if not isinstance(text, str):
        raise AnsibleFilterError("asterisk_channel_ages takes the text of core show channels concise")
    return channel_ages(text)


class FilterModule:
    def filters(self):
        return {"asterisk_problems": asterisk_problems, "asterisk_channel_ages": asterisk_channel_ages}
