"""site.yml stops on the controller, naming the variable, when the inventory is wrong; playbooks/validate.yml
checks every host's role variables against the roles' own argument specs. Runs the real ansible-playbook on
copies of inventories/example whose hosts point at a closed port on 127.0.0.1 (nothing would be touched even if
a check let a wrong model through, and no traffic leaves the machine)."""

import pytest

SECRET = ["-e", "sipvs_sip_777_password=unit-test-only"]


def set_vip(cluster):
    cluster["virtual_services"][1]["vip"] = "172.16.11.300"


def reuse_fwmark(cluster):
    extra = dict(cluster["virtual_services"][1], name="sip2", vip="172.16.11.212")
    cluster["virtual_services"].append(extra)


def unknown_host(cluster):
    cluster["virtual_services"][0]["real_servers"].append({"host": "rs9"})


def vrrp_version_2(cluster):
    cluster["vrrp"]["version"] = 2


def version_2_one_packet(cluster):
    vrrp_version_2(cluster)
    cluster["virtual_services"][1]["one_packet"] = True


def touched_no_host(output):
    """Not one task ran against a host: no play past the checks started, nothing was unreachable."""
    return "PLAY [Directors]" not in output and "Gathering Facts" not in output and "UNREACHABLE" not in output


@pytest.mark.parametrize(
    "edit, extra, message",
    [
        (set_vip, SECRET, "lvs_cluster.virtual_services[1].vip must be an IP address, got '172.16.11.300'"),
        (reuse_fwmark, SECRET, "lvs_cluster.virtual_services: fwmark 3 is used by more than one service"),
        (unknown_host, SECRET, "virtual_services[0].real_servers[3].host 'rs9' is not a host in the inventory"),
        (None, [], "'sipvs_sip_777_password' is undefined"),
    ],
)
def test_wrong_inventory_stops_before_any_host(example_inventory, ansible_playbook, edit, extra, message):
    rc, output = ansible_playbook(example_inventory(edit).path, "site.yml", *extra)
    assert rc != 0
    assert message in output
    assert touched_no_host(output), output


def test_good_inventory_passes_the_checks(example_inventory, ansible_playbook):
    rc, output = ansible_playbook(example_inventory().path, "playbooks/validate.yml", *SECRET)
    assert rc == 0, output
    assert "lvs_cluster: 2 virtual service(s), 3 real server(s)" in output
    # Each role's own argument spec ran (include_role), on the hosts of its group.
    for role in ("director", "realserver", "asterisk"):
        assert "TASK [sipvs.lvs.%s : Validating arguments against arg spec 'validate'" % role in output
    assert touched_no_host(output), output


def test_validate_touches_no_host_whatever_the_tags(example_inventory, ansible_playbook):
    # The roles' validate entry points are controller-side only: no tag selection makes them reach a host.
    rc, output = ansible_playbook(example_inventory().path, "playbooks/validate.yml", *SECRET, "--tags", "all,never")
    assert rc == 0, output
    assert "Gathering the facts this role needs" not in output
    assert touched_no_host(output), output


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-e", "director_engine=ipvsadm"], "value of director_engine must be one of: keepalived, piranha, static"),
        (["-e", "director_piranha_heartbeat_port=udp"], "argument 'director_piranha_heartbeat_port' is of type"),
        (["-e", "realserver_arp_ignore=4"], "value of realserver_arp_ignore must be one of: 0, 1, 2, 3, 8"),
        (["-e", "asterisk_rtp_port_start=low"], "argument 'asterisk_rtp_port_start' is of type"),
    ],
)
def test_wrong_role_variable_stops_before_any_host(example_inventory, ansible_playbook, extra, message):
    rc, output = ansible_playbook(example_inventory().path, "site.yml", *SECRET, *extra)
    assert rc != 0
    assert message in output, output
    assert touched_no_host(output), output


@pytest.mark.parametrize(
    "edit, extra, message",
    [
        # The example inventory asks for VRRPv3, which Piranha's pulse cannot run.
        (None, [], "director_cluster.vrrp.version: is 3; Piranha's pulse heartbeat is not VRRP"),
        (
            version_2_one_packet,
            [],
            "director_cluster.virtual_services[1].one_packet: lvs.cf has no one-packet scheduling",
        ),
        (
            vrrp_version_2,
            ["-e", "director_piranha_gui=true"],
            "director_piranha_gui is true but director_piranha_gui_password is not set",
        ),
        (vrrp_version_2, ["-e", "director_piranha_deadtime=1"], "director_piranha_deadtime (1 s) must be longer"),
    ],
)
def test_piranha_restrictions_stop_before_any_host(example_inventory, ansible_playbook, edit, extra, message):
    rc, output = ansible_playbook(
        example_inventory(edit).path, "site.yml", *SECRET, "-e", "director_engine=piranha", *extra
    )
    assert rc != 0
    assert message in " ".join(output.split())
    assert touched_no_host(output), output


def test_piranha_model_that_lvs_cf_can_express_passes_the_checks(example_inventory, ansible_playbook):
    extra = ["-e", "director_engine=piranha", "-e", "director_piranha_gui=true"]
    extra += ["-e", "director_piranha_gui_password=unit-test-only"]
    rc, output = ansible_playbook(example_inventory(vrrp_version_2).path, "playbooks/validate.yml", *SECRET, *extra)
    assert rc == 0, output
