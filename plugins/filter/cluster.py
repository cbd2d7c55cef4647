# Copyright: sipvs.lvs contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the inventory's cluster model (``lvs_cluster``), the director engines and the director's
engine-independent settings (``iptables_chain``, ``listen_address``).

Thin wrappers: the logic lives in ``module_utils/_cluster.py`` and
``_engines.py`` and raises LvsError, which becomes an AnsibleFilterError
naming the variable. ``cluster_model`` validates the inventory's variable
once; every other filter takes what it returns (the normalised model) and
validates nothing again. Each filter is documented in its own ``.yml``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import (
    director_settings,
    fwmark_rules,
    hold_leaving,
    leaving_real_servers,
    normalize_cluster,
    vips_served_by,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import (
    keepalived_config,
    piranha_config,
    static_services,
    static_settings,
)
from ansible_collections.sipvs.lvs.plugins.module_utils._model import (
    LvsError,
    check_iptables_chain,
    check_listen_address,
)


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


def _drain_resolver(hostvars):
    """drained_of(host) over Ansible's hostvars: the host's lvs_drain, None when unset."""
    if hostvars is None:
        return None
    return lambda host: hostvars[host].get("lvs_drain") if host in hostvars else None


def _checked(function, *args, **kwargs):
    """function(*args, **kwargs), its LvsError turned into the AnsibleFilterError it names."""
    try:
        return function(*args, **kwargs)
    except LvsError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _priorities(directors, hostvars):
    """lvs_director_priority of each listed director that has host variables."""
    return {host: hostvars[host].get("lvs_director_priority") for host in directors or [] if host in hostvars}


def _normalised(model, name):
    """``model`` as cluster_model returns it; the inventory's raw variable is refused, not validated again."""
    services = model.get("virtual_services") if isinstance(model, Mapping) else None
    if not isinstance(services, list) or not all(isinstance(s, Mapping) and "family" in s for s in services):
        raise AnsibleFilterError(
            "%s takes the cluster model as sipvs.lvs.cluster_model returns it"
            " (for example lvs_cluster | sipvs.lvs.cluster_model | sipvs.lvs.%s(...))" % (name, name)
        )
    return model


def cluster_model(cluster, hostvars=None, var="lvs_cluster", directors=None):
    return _checked(
        normalize_cluster,
        cluster,
        _resolver(hostvars),
        var=var,
        directors=directors,
        drained_of=_drain_resolver(hostvars),
    )


def cluster_vips_served_by(model, *names, port=None, protocol=None):
    return vips_served_by(_normalised(model, "vips_served_by"), names, port=port, protocol=protocol)


def cluster_fwmark_rules(model):
    return fwmark_rules(_normalised(model, "fwmark_rules"))


def cluster_leaving_real_servers(model, table):
    if not isinstance(table, list) or not all(isinstance(entry, Mapping) for entry in table):
        raise AnsibleFilterError("leaving_real_servers takes the services of sipvs.lvs.ipvs_info (a list)")
    return leaving_real_servers(_normalised(model, "leaving_real_servers"), table)


def cluster_hold_leaving(model, leaving):
    return hold_leaving(_normalised(model, "hold_leaving"), leaving)


def cluster_director(directors, me, hostvars):
    return _checked(director_settings, directors, me, _resolver(hostvars), _priorities(directors, hostvars))


def cluster_keepalived_config(model, director, settings=None, var="lvs_cluster"):
    return _checked(keepalived_config, _normalised(model, "keepalived_config"), director, settings, var)


def cluster_piranha_config(model, hostvars, directors, settings=None, var="lvs_cluster"):
    model = _normalised(model, "piranha_config")
    priorities = _priorities(directors, hostvars)
    return _checked(piranha_config, model, directors, _resolver(hostvars), priorities, settings, var)


def cluster_static_services(model):
    return static_services(_normalised(model, "static_services"))


def cluster_static_settings(model, var="lvs_cluster"):
    return _checked(static_settings, _normalised(model, "static_settings"), var)


def cluster_iptables_chain(chain, var="chain"):
    return _checked(check_iptables_chain, chain, var)


def cluster_listen_address(address, port, address_var="address", port_var="port"):
    return _checked(check_listen_address, address, port, address_var, port_var)


class FilterModule:
    def filters(self):
        return {
            "cluster_model": cluster_model,
            "vips_served_by": cluster_vips_served_by,
            "fwmark_rules": cluster_fwmark_rules,
            "leaving_real_servers": cluster_leaving_real_servers,
            "hold_leaving": cluster_hold_leaving,
            "director_settings": cluster_director,
            "keepalived_config": cluster_keepalived_config,
            "piranha_config": cluster_piranha_config,
            "static_services": cluster_static_services,
            "static_settings": cluster_static_settings,
            "iptables_chain": cluster_iptables_chain,
            "listen_address": cluster_listen_address,
        }
