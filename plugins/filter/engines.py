# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the director role's piranha and static engines.

Thin wrappers, like those of ``cluster.py``: the cluster is validated with the
model code, the logic lives in ``module_utils/_engines.py`` and raises
LvsError, which becomes an AnsibleFilterError naming the variable. Documented
in piranha_config.yml, static_services.yml and static_settings.yml.
"""

from __future__ import annotations

from ansible_collections.sipvs.lvs.plugins.filter.cluster import _checked, _model, _priorities, _resolver
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import (
    piranha_config,
    static_services,
    static_settings,
)


def cluster_piranha_config(cluster, hostvars, directors, settings=None, var="lvs_cluster"):
    model = _model(cluster, hostvars, var)
    priorities = _priorities(directors, hostvars)
    return _checked(piranha_config, model, directors, _resolver(hostvars), priorities, settings, var)


def cluster_static_services(cluster, hostvars, var="lvs_cluster"):
    return static_services(_model(cluster, hostvars, var))


def cluster_static_settings(cluster, state, var="lvs_cluster"):
    return _checked(static_settings, _model(cluster, None, var), state)


class FilterModule:
    def filters(self):
        return {
            "piranha_config": cluster_piranha_config,
            "static_services": cluster_static_services,
            "static_settings": cluster_static_settings,
        }
