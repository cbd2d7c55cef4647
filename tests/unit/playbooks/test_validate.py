"""site.yml stops on the controller, naming the variable, when the inventory
is wrong. Runs the real ansible-playbook on copies of inventories/example
whose hosts point at a closed port on 127.0.0.1 (nothing would be touched even
if a check let a wrong model through, and no traffic leaves the machine)."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
PLAYBOOK = pathlib.Path(sys.executable).parent / "ansible-playbook"


def inventory(tmp_path, edit=None, secret=True):
    target = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories/example", target)
    hosts = yaml.safe_load((target / "hosts.yml").read_text())
    for group in hosts["all"]["children"].values():
        for name, host_vars in group["hosts"].items():
            if host_vars:
                # Keep the model's addresses, but connect nowhere: port 9 on loopback is closed.
                group["hosts"][name] = dict(host_vars, lvs_address=host_vars["ansible_host"], ansible_host="127.0.0.1")
    hosts["all"]["vars"].update(ansible_port=9, ansible_connection="ansible.builtin.ssh", ansible_timeout=2)
    (target / "hosts.yml").write_text(yaml.safe_dump(hosts))
    cluster_file = target / "group_vars/all/cluster.yml"
    cluster = yaml.safe_load(cluster_file.read_text())
    if edit:
        edit(cluster["lvs_cluster"])
    cluster_file.write_text(yaml.safe_dump(cluster))
    extra = ["-e", "sipvs_sip_777_password=unit-test-only"] if secret else []
    return [str(target), *extra]


def run(args, playbook="site.yml"):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    inv, *extra = args
    result = subprocess.run(
        [str(PLAYBOOK), "-i", inv, *extra, str(ROOT / playbook)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def set_vip(cluster):
    cluster["virtual_services"][1]["vip"] = "172.16.11.300"


def reuse_fwmark(cluster):
    extra = dict(cluster["virtual_services"][1], name="sip2", vip="172.16.11.212")
    cluster["virtual_services"].append(extra)


def unknown_host(cluster):
    cluster["virtual_services"][0]["real_servers"].append({"host": "rs9"})


@pytest.mark.parametrize(
    "edit, secret, message",
    [
        (set_vip, True, "lvs_cluster.virtual_services[1].vip must be an IP address, got '172.16.11.300'"),
        (reuse_fwmark, True, "lvs_cluster.virtual_services: fwmark 3 is used by more than one service"),
        (unknown_host, True, "virtual_services[0].real_servers[3].host 'rs9' is not a host in the inventory"),
        (None, False, "'sipvs_sip_777_password' is undefined"),
    ],
)
def test_wrong_inventory_stops_before_any_host(tmp_path, edit, secret, message):
    rc, output = run(inventory(tmp_path, edit, secret))
    assert rc != 0
    assert message in output
    # Not one task ran against a host: no play past the checks started.
    assert "PLAY [Directors]" not in output
    assert "Gathering Facts" not in output
    assert "UNREACHABLE" not in output


def test_good_inventory_passes_the_checks(tmp_path):
    rc, output = run(inventory(tmp_path), playbook="playbooks/validate.yml")
    assert rc == 0, output
    assert "lvs_cluster: 2 virtual service(s), 3 real server(s)" in output


def vrrp_version_2(cluster):
    cluster["vrrp"]["version"] = 2


def version_2_one_packet(cluster):
    vrrp_version_2(cluster)
    cluster["virtual_services"][1]["one_packet"] = True


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
def test_piranha_restrictions_stop_before_any_host(tmp_path, edit, extra, message):
    inv, *args = inventory(tmp_path, edit)
    rc, output = run([inv, *args, "-e", "director_engine=piranha", *extra])
    assert rc != 0
    assert message in output
    assert "PLAY [Directors]" not in output
    assert "Gathering Facts" not in output


def test_piranha_model_that_lvs_cf_can_express_passes_the_checks(tmp_path):
    inv, *args = inventory(tmp_path, vrrp_version_2)
    extra = ["-e", "director_engine=piranha", "-e", "director_piranha_gui=true"]
    extra += ["-e", "director_piranha_gui_password=unit-test-only"]
    rc, output = run([inv, *args, *extra], playbook="playbooks/validate.yml")
    assert rc == 0, output
