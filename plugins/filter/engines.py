# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the director role's piranha and static engines.

Thin wrappers, like those of ``cluster.py``: the cluster is validated with the
model code, the logic lives in ``module_utils/_engines.py`` and raises
LvsError, which becomes an AnsibleFilterError naming the variable. Documented
in piranha_config.yml, static_services.yml and static_settings.yml.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.filter.cluster import _model, _resolver
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import (
    piranha_config,
    static_services,
    static_settings,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError


def cluster_piranha_config(cluster, hostvars, directors, settings=None, var="lvs_cluster"):
    model = _model(cluster, hostvars, var)
    priorities = {host: hostvars[host].get("lvs_director_priority") for host in directors or [] if host in hostvars}
    try:
        return piranha_config(model, directors, _resolver(hostvars), priorities, settings, var)
    except LvsError as exc:
        raise AnsibleFilterError(str(exc)) from None


def cluster_static_services(cluster, hostvars, var="lvs_cluster"):
    return static_services(_model(cluster, hostvars, var))


def cluster_static_settings(cluster, state, var="lvs_cluster"):
    try:
        return static_settings(_model(cluster, None, var), state)
    except LvsError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {
            "piranha_config": cluster_piranha_config,
            "static_services": cluster_static_services,
            "static_settings": cluster_static_settings,
        }
