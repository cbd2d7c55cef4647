# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SIP OPTIONS request of keepalived's native UDP_CHECK, as hex.

The request is built by the director role's own check program
(roles/director/files/sipvs_sip_check.py, which keepalived's MISC_CHECK and
nanny run), so the native check and the program send the same message. Its
random parts (branch, tag, Call-ID) come from a generator seeded with the
addresses: the same inputs give the same payload, so the rendered
keepalived.conf is stable across runs.
"""

from __future__ import annotations

import importlib.util
import pathlib
import random

from ansible.errors import AnsibleFilterError

_CHECK_PROGRAM = pathlib.Path(__file__).resolve().parents[2] / "roles" / "director" / "files" / "sipvs_sip_check.py"


def _check_program():
    spec = importlib.util.spec_from_file_location("sipvs_sip_check", _CHECK_PROGRAM)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    return program


def sip_options_payload(target, port, local_ip, local_port):
    try:
        port, local_port = int(port), int(local_port)
    except (TypeError, ValueError):
        raise AnsibleFilterError(
            "sip_options_payload: ports must be integers, got %r and %r" % (port, local_port)
        ) from None
    seed = "%s:%d<-%s:%d" % (target, port, local_ip, local_port)
    request, _dummy = _check_program().build_options(
        str(target), port, "udp", str(local_ip), local_port, random.Random(seed)
    )
    return request.hex()


class FilterModule:
    def filters(self):
        return {"sip_options_payload": sip_options_payload}
