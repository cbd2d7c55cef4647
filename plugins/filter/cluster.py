# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the inventory's cluster model (``lvs_cluster``).

Thin wrappers: the logic lives in ``module_utils/_cluster.py`` and raises
LvsError, which becomes an AnsibleFilterError naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import (
    director_settings,
    fwmark_rules,
    normalize_cluster,
    vips_served_by,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import LvsError


def _resolver(hostvars):
    """address_of(host) over Ansible's hostvars: lvs_address, else ansible_host, else the name."""
    if hostvars is None:
        return None
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("hostvars must be the hostvars mapping, got %r" % type(hostvars).__name__)

    def address_of(host):
        if host not in hostvars:
            return None
        host_vars = hostvars[host]
        for key in ("lvs_address", "ansible_host"):
            value = host_vars.get(key)
            if value not in (None, ""):
                return str(value)
        return str(host)

    return address_of


def _checked(function, *args, **kwargs):
    """function(*args, **kwargs), its LvsError turned into the AnsibleFilterError it names."""
    try:
        return function(*args, **kwargs)
    except LvsError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _priorities(directors, hostvars):
    """lvs_director_priority of each listed director that has host variables."""
    return {host: hostvars[host].get("lvs_director_priority") for host in directors or [] if host in hostvars}


def _model(cluster, hostvars=None, var="lvs_cluster"):
    return _checked(normalize_cluster, cluster, _resolver(hostvars), var=var)


def cluster_model(cluster, hostvars=None, var="lvs_cluster"):
    return _model(cluster, hostvars, var)


def cluster_vips_served_by(cluster, *names, port=None, protocol=None, var="lvs_cluster"):
    model = _model(cluster, None, var)
    return vips_served_by(model, names, port=port, protocol=protocol)


def cluster_fwmark_rules(cluster, hostvars=None, var="lvs_cluster"):
    return fwmark_rules(_model(cluster, hostvars, var))


def cluster_director(directors, me, hostvars):
    return _checked(director_settings, directors, me, _resolver(hostvars), _priorities(directors, hostvars))


class FilterModule:
    def filters(self):
        return {
            "cluster_model": cluster_model,
            "vips_served_by": cluster_vips_served_by,
            "fwmark_rules": cluster_fwmark_rules,
            "director_settings": cluster_director,
        }
