"""playbooks/migrate_from_piranha.yml: the tutorial's second lvs.cf (serial_no 76) and its mangle rules become an
inventory directory that playbooks/validate.yml passes; an existing directory is refused unless forced; check mode
writes nothing and prints the same notes; lvs.cf can be read from a Piranha director with raw (here a host with
the local connection); the playbook runs as the collection playbook sipvs.lvs.migrate_from_piranha too. Runs the
real ansible-playbook of the project venv on the controller only."""

import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "migrate"
LVS_CF = FIXTURES / "lvs.cf-76"
MANGLE = FIXTURES / "mangle-76"
PLAYBOOK = "playbooks/migrate_from_piranha.yml"
SECRET = "sipvs_sip_777_password=integration-only-secret"
# Hosts of the generated inventory are never contacted: validate.yml runs on the controller; should a task try,
# port 9 fails fast.
NOWHERE = ["-e", "ansible_port=9", "-e", "ansible_timeout=2"]
FILES = [
    "hosts.yml",
    "group_vars/all/cluster.yml",
    "group_vars/directors.yml",
    "group_vars/realservers.yml",
    "group_vars/asterisk.yml",
]
MODEL = {
    "vrrp": {"advert_int": 6},
    "sync_daemon": {"enabled": True},
    "timeouts": {"tcp": 10, "tcpfin": 10, "udp": 10},
    "virtual_services": [
        {
            "name": "web01",
            "vip": "172.16.11.210",
            "port": 80,
            "check": {"type": "http", "timeout": 6},
            "real_servers": [{"host": "server-01"}, {"host": "server-02"}, {"host": "server-03"}],
        },
        {
            "name": "sipserver",
            "vip": "172.16.11.211",
            "fwmark": 3,
            "ports": [{"protocol": p, "port": n} for p in ("tcp", "udp") for n in (5060, 5061)],
            "check": {"type": "sip"},
            "real_servers": [{"host": "server-%02d" % i, "name": "SIP-Server-%02d" % i} for i in (1, 2, 3)],
        },
    ],
}
# Rows of the notes table the playbook prints.
TABLE_ROWS = [
    "line  lvs.cf key -> model key",
    "   9  keepalive -> vrrp.advert_int",
    "  19  udp_timeout -> timeouts.udp",
    "  59  virtual sipserver / send_program -> virtual_services[1].check.type",
]


def run(*args, inventory=None):
    """(rc, stdout + stderr) of the venv's ansible-playbook with the project's ansible.cfg, run in the checkout."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    argv = [str(pathlib.Path(sys.executable).parent / "ansible-playbook")]
    if inventory is not None:
        argv += ["-i", str(inventory)]
    result = subprocess.run(
        [*argv, *args], check=False, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300
    )
    return result.returncode, result.stdout + result.stderr


def migrate(out, *extra, inventory=None):
    return run(
        "-e",
        "lvs_cf_src=%s" % LVS_CF,
        "-e",
        "lvs_mangle_src=%s" % MANGLE,
        "-e",
        "lvs_inventory_out=%s" % out,
        *extra,
        PLAYBOOK,
        inventory=inventory,
    )


def written(out):
    return sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file())


@pytest.fixture
def old_inventory(tmp_path):
    """The user's old inventory: a Piranha director reached with the local connection."""
    path = tmp_path / "old.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"piranha1": {"ansible_connection": "local"}}}}))
    return path


def test_migrated_inventory_passes_validate(tmp_path, old_inventory):
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    out = tmp_path / "inventory"
    rc, output = migrate(out, inventory=old_inventory)
    assert rc == 0, output
    for row in TABLE_ROWS:
        assert row in output
    assert written(out) == sorted(FILES)
    assert yaml.safe_load((out / "group_vars/all/cluster.yml").read_text()) == {"lvs_cluster": MODEL}
    hosts = yaml.safe_load((out / "hosts.yml").read_text())["all"]
    assert hosts["children"]["directors"]["hosts"] == {
        "director1": {"ansible_host": "172.16.11.74"},
        "director2": {"ansible_host": "172.16.11.75"},
    }
    assert hosts["children"]["realservers"]["hosts"]["server-03"] == {"ansible_host": "172.16.11.78"}
    assert hosts["children"]["asterisk"]["hosts"] == dict.fromkeys(["server-01", "server-02", "server-03"])
    # The secret is a required variable, never a value.
    assert 'password: "{{ sipvs_sip_777_password }}"' in (out / "group_vars/asterisk.yml").read_text()
    # The files are clean under the project's own yamllint rules.
    config = YamlLintConfig(file=str(ROOT / ".yamllint"))
    for name in FILES:
        assert [str(p) for p in linter.run((out / name).read_text(), config)] == [], name

    rc, output = run("-e", SECRET, *NOWHERE, "playbooks/validate.yml", inventory=out)
    assert rc == 0, output
    assert "lvs_cluster: 2 virtual service(s), 3 real server(s)" in output
    assert "UNREACHABLE" not in output and "Gathering Facts" not in output


def test_an_existing_directory_is_refused_unless_forced(tmp_path):
    out = tmp_path / "inventory"
    rc, output = migrate(out)
    assert rc == 0, output
    (out / "hosts.yml").write_text("edited\n")
    rc, output = migrate(out)
    assert rc != 0
    assert "%s exists: refusing to overwrite it (-e lvs_inventory_force=true" % out in output
    assert (out / "hosts.yml").read_text() == "edited\n"
    rc, output = migrate(out, "-e", "lvs_inventory_force=true")
    assert rc == 0, output
    assert (out / "hosts.yml").read_text().startswith("---\n# Migrated from Piranha's")


def test_check_mode_writes_nothing_and_prints_the_table(tmp_path):
    out = tmp_path / "inventory"
    rc, output = migrate(out, "--check")
    assert rc == 0, output
    assert not out.exists()
    for row in TABLE_ROWS:
        assert row in output
    assert "check mode: nothing written to %s" % out in output


def test_reads_lvs_cf_from_a_piranha_director_with_raw(tmp_path, old_inventory):
    out = tmp_path / "inventory"
    rc, output = run(
        "-e",
        "lvs_cf_host=piranha1",
        "-e",
        "lvs_cf_path=%s" % LVS_CF,
        "-e",
        "lvs_mangle_src=%s" % MANGLE,
        "-e",
        "lvs_inventory_out=%s" % out,
        PLAYBOOK,
        inventory=old_inventory,
    )
    assert rc == 0, output
    assert "TASK [Read lvs.cf from the Piranha director]" in output
    cluster = (out / "group_vars/all/cluster.yml").read_text()
    assert yaml.safe_load(cluster) == {"lvs_cluster": MODEL}
    assert "migrated from Piranha's piranha1:%s" % LVS_CF in cluster.replace("\n# ", " ")


def test_runs_as_the_collection_playbook(tmp_path):
    out = tmp_path / "inventory"
    rc, output = run(
        "-e", "lvs_cf_src=%s" % LVS_CF, "-e", "lvs_inventory_out=%s" % out, "sipvs.lvs.migrate_from_piranha"
    )
    assert rc == 0, output
    # Without the mangle rules, the fwmark service has the port and protocol of lvs.cf only, and says so.
    ports = yaml.safe_load((out / "group_vars/all/cluster.yml").read_text())["lvs_cluster"]["virtual_services"][1]
    assert ports["ports"] == [{"protocol": "udp", "port": 5060}]
    assert "no mangle rules given" in output


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("network = direct", "network = nat", "lvs.cf-76:11: network = nat: NAT (masquerading) forwarding"),
        ("address = 172.16.11.210 eth0:1", "address = 172.16.11.210", "lvs.cf-76:22: virtual web01: address"),
    ],
)
def test_a_refused_lvs_cf_names_its_line_and_writes_nothing(tmp_path, old, new, message):
    source = tmp_path / "lvs.cf-76"
    source.write_text(LVS_CF.read_text().replace(old, new, 1))
    out = tmp_path / "inventory"
    rc, output = run("-e", "lvs_cf_src=%s" % source, "-e", "lvs_inventory_out=%s" % out, PLAYBOOK)
    assert rc != 0
    assert "%s/%s" % (tmp_path, message) in output
    assert not out.exists()
