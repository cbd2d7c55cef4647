# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the collection's SIP OPTIONS builder (``module_utils/_sip.py``).

* ``sip_options_payload`` - the request of keepalived's native UDP_CHECK, as hex.
* ``sip_check_program`` - ``_sip.py`` itself with an interpreter line: the
  check program the director role installs, so the native check and the
  program send the same request.
"""

from __future__ import annotations

import pathlib

from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.module_utils import _sip


def sip_options_payload(target, port, local_ip, local_port):
    try:
        port, local_port = int(port), int(local_port)
    except (TypeError, ValueError):
        raise AnsibleFilterError(
            "sip_options_payload: ports must be integers, got %r and %r" % (port, local_port)
        ) from None
    return _sip.options_payload(target, port, local_ip, local_port)


def sip_check_program(interpreter):
    interpreter = str(interpreter)
    if not interpreter.startswith("/") or any(c.isspace() for c in interpreter):
        raise AnsibleFilterError("sip_check_program: the interpreter must be an absolute path, got %r" % interpreter)
    return "#!%s\n%s" % (interpreter, pathlib.Path(_sip.__file__).read_text(encoding="utf-8"))


class FilterModule:
    def filters(self):
        return {"sip_options_payload": sip_options_payload, "sip_check_program": sip_check_program}
