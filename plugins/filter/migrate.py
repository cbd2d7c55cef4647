# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``cluster_from_lvs_cf``: Piranha's lvs.cf as the cluster model, the hosts and the notes of the migration.

A thin wrapper over ``module_utils/_migrate.py`` (the inverse of the ``piranha_config`` engine), whose LvsError,
naming the lvs.cf line, becomes an AnsibleFilterError. Documented in ``cluster_from_lvs_cf.yml``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.module_utils import _migrate
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError


def cluster_from_lvs_cf(lvs_cf, mangle_rules=None, source="lvs.cf"):
    if isinstance(lvs_cf, Mapping):
        lvs_cf = dict(lvs_cf)
    elif not isinstance(lvs_cf, str):
        raise AnsibleFilterError(
            "cluster_from_lvs_cf takes the text of lvs.cf or the config of sipvs.lvs.lvs_cf, got %s"
            % type(lvs_cf).__name__
        )
    if mangle_rules is not None and not isinstance(mangle_rules, (str, list)):
        raise AnsibleFilterError(
            "cluster_from_lvs_cf: mangle_rules must be the text of iptables -t mangle -S (or a list of its lines),"
            " got %s" % type(mangle_rules).__name__
        )
    try:
        return _migrate.cluster_from_lvs_cf(lvs_cf, mangle_rules or None, str(source))
    except LvsError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"cluster_from_lvs_cf": cluster_from_lvs_cf}
