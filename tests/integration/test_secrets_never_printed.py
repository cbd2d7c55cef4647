"""No secret is ever printed, and a missing or unsafe one is the first thing playbooks/validate.yml reports.

Runs the real ansible-playbook (at -vvv) on copies of inventories/example whose hosts point at a closed port on
127.0.0.1, with distinctive secrets, and looks for them in everything it printed. The keepalived.conf template
task of the director role runs in --check --diff against a file in the test's directory on localhost (nothing
outside it is read or written): with director_vrrp_auth_pass set, its diff must not show the file.
"""

import json
import subprocess

import pytest
import yaml
from ansible_collections.sipvs.lvs.plugins.module_utils._cluster import director_settings, normalize_cluster
from ansible_collections.sipvs.lvs.plugins.module_utils._engines import keepalived_config
from ansible_collections.sipvs.lvs.tests.integration.conftest import ROOT, VENV_BIN, ansible_env

# Distinctive values: none of them can turn up in an output by chance.
SIP = "Zq7SipSecret-777"
GUI = "Gq9GuiSecret-pw"
VRRP = "Vk8Auth1"  # VRRPv2 PASS: at most 8 characters (keepalived's limit), checked by the keepalived engine
PIRANHA = ["-e", "director_engine=piranha", "-e", "director_piranha_gui=true"]


def vrrp_version_2(cluster):
    cluster["vrrp"]["version"] = 2


def touched_no_host(output):
    return "PLAY [Directors]" not in output and "Gathering Facts" not in output and "UNREACHABLE" not in output


def extra_vars(tmp_path, name="secrets.json", **values):
    """The secrets as an extra-vars file, as a user passes a vault's: -e @file."""
    path = tmp_path / name
    path.write_text(json.dumps(values))
    return ["-e", "@%s" % path]


def words(output):
    return " ".join(output.split())


def shown(value, output):
    """Whether ``value`` or any of its lines or words (5 characters or more) appears in ``output``; a template
    (a variable that is not there) has no value to show."""
    text = str(value)
    if text.startswith("{{"):
        return False
    return any(part in output for part in [text, *text.split()] if len(part) >= 5)


def test_validate_at_vvv_prints_no_secret_keepalived(tmp_path, example_inventory, ansible_playbook):
    inventory = example_inventory(vrrp_version_2)
    secrets = extra_vars(tmp_path, sipvs_sip_777_password=SIP, director_vrrp_auth_pass=VRRP)
    rc, output = ansible_playbook(inventory.path, "playbooks/validate.yml", "-vvv", *secrets)
    assert rc == 0, output
    assert "TASK [Check the secrets of every host]" in output
    for secret in (SIP, VRRP):
        assert secret not in output
    assert touched_no_host(output), output


def test_validate_at_vvv_prints_no_secret_piranha(tmp_path, example_inventory, ansible_playbook):
    inventory = example_inventory(vrrp_version_2)
    secrets = extra_vars(tmp_path, sipvs_sip_777_password=SIP, director_piranha_gui_password=GUI)
    rc, output = ansible_playbook(inventory.path, "playbooks/validate.yml", "-vvv", *PIRANHA, *secrets)
    assert rc == 0, output
    for secret in (SIP, GUI):
        assert secret not in output
    assert touched_no_host(output), output


# Each single mistake in a secret: refused by the first play, naming the variable, before the cluster model or
# any argument spec is looked at, at -vvv and without printing the value.
@pytest.mark.parametrize(
    "values, extra, message",
    [
        (
            {},
            [],
            "asterisk_endpoints[0].password (account 777) is not set ('sipvs_sip_777_password' is undefined);"
            " it is a secret with no default: supply it from a vault or extra vars (on rs1, rs2, rs3)",
        ),
        (
            {"sipvs_sip_777_password": "Zq7Short"},
            [],
            "asterisk_endpoints[0].password (account 777) must be at least 12 characters long (on rs1, rs2, rs3)",
        ),
        (
            {"sipvs_sip_777_password": 987654321098765},
            [],
            "asterisk_endpoints[0].password (account 777) must be a string, got a number",
        ),
        (
            {"sipvs_sip_777_password": "Zq7Semi;colon-secret"},
            [],
            "asterisk_endpoints[0].password (account 777) must not contain a ';'",
        ),
        (
            {"sipvs_sip_777_password": "Zq7Line\nBreak-secret"},
            [],
            "asterisk_endpoints[0].password (account 777) must not contain a line break",
        ),
        (
            {"sipvs_sip_777_password": "Zq7Trailing-blank "},
            [],
            "asterisk_endpoints[0].password (account 777) must not start or end with a blank",
        ),
        (
            {"sipvs_sip_777_password": SIP},
            PIRANHA,
            "director_piranha_gui is true but director_piranha_gui_password is not set",
        ),
        (
            {"sipvs_sip_777_password": SIP, "director_piranha_gui_password": "Gq9Short"},
            PIRANHA,
            "director_piranha_gui is true but director_piranha_gui_password must be at least 12 characters long"
            " (on director1, director2)",
        ),
        (
            {"sipvs_sip_777_password": SIP, "director_piranha_gui_password": 'Gq9"Quoted-secret'},
            PIRANHA,
            "director_piranha_gui is true but director_piranha_gui_password must not contain a quote",
        ),
        (
            {"sipvs_sip_777_password": SIP, "director_piranha_gui_password": "{{ vault_gui_password }}"},
            PIRANHA,
            "director_piranha_gui_password is not set ('vault_gui_password' is undefined)",
        ),
    ],
)
def test_a_wrong_secret_is_the_first_thing_reported(
    tmp_path, example_inventory, ansible_playbook, values, extra, message
):
    inventory = example_inventory(vrrp_version_2)
    secrets = extra_vars(tmp_path, **values) if values else []
    rc, output = ansible_playbook(inventory.path, "site.yml", "-vvv", *extra, *secrets)
    assert rc != 0
    assert message in words(output), output
    # First: the play that checks the cluster model and the argument specs never started.
    assert "PLAY [Validate the cluster model]" not in output
    assert "Validating arguments against arg spec" not in output
    for value in values.values():
        assert not shown(value, output)
    assert touched_no_host(output), output


def vault(tmp_path, name, value):
    """An extra-vars file holding ``name`` as a vault-encrypted string, and the options to read it."""
    password_file = tmp_path / "vault-password"
    password_file.write_text("unit-test-vault-password\n")
    encrypted = subprocess.run(
        [str(VENV_BIN / "ansible-vault"), "encrypt_string", "--vault-password-file", str(password_file)],
        input=value,
        capture_output=True,
        text=True,
        check=True,
        env=ansible_env(),
        cwd=str(ROOT),
    ).stdout
    path = tmp_path / "vault.yml"
    path.write_text("%s: %s" % (name, encrypted))
    return ["--vault-password-file", str(password_file), "-e", "@%s" % path]


def test_a_vaulted_secret_is_checked_as_its_text_and_never_printed(tmp_path, example_inventory, ansible_playbook):
    inventory = example_inventory()
    rc, output = ansible_playbook(
        inventory.path, "playbooks/validate.yml", "-vvv", *vault(tmp_path, "sipvs_sip_777_password", SIP)
    )
    assert rc == 0, output
    assert SIP not in output


def test_a_vaulted_short_secret_is_refused_and_never_printed(tmp_path, example_inventory, ansible_playbook):
    inventory = example_inventory()
    rc, output = ansible_playbook(
        inventory.path, "playbooks/validate.yml", "-vvv", *vault(tmp_path, "sipvs_sip_777_password", "Zq7Vaulted")
    )
    assert rc != 0
    assert "asterisk_endpoints[0].password (account 777) must be at least 12 characters long" in output
    assert "Zq7Vaulted" not in output


# The roles' own checks use the same rule (a role run without playbooks/validate.yml first).
ROLE_PLAY = """
- name: The role's own checks
  hosts: {hosts}
  gather_facts: false
  tasks:
    - name: Run the role's checks
      ansible.builtin.include_role:
        name: sipvs.lvs.{role}
        tasks_from: validate
"""


@pytest.mark.parametrize(
    "role, hosts, values, extra, message",
    [
        (
            "asterisk",
            "asterisk",
            {"sipvs_sip_777_password": "Zq7Semi;colon-secret"},
            [],
            "asterisk_endpoints[0].password (account 777) must not contain a ';'",
        ),
        (
            "director",
            "directors",
            {"director_piranha_gui_password": "Gq9Short"},
            PIRANHA,
            "director_piranha_gui is true but director_piranha_gui_password must be at least 12 characters long",
        ),
    ],
)
def test_the_roles_own_checks_use_the_same_rule(
    tmp_path, example_inventory, ansible_playbook, role, hosts, values, extra, message
):
    inventory = example_inventory(vrrp_version_2)
    play = tmp_path / "play.yml"
    play.write_text(ROLE_PLAY.format(hosts=hosts, role=role))
    rc, output = ansible_playbook(inventory.path, str(play), "-vvv", *extra, *extra_vars(tmp_path, **values))
    assert rc != 0
    assert message in words(output), output
    for value in values.values():
        assert not shown(value, output)
    assert "UNREACHABLE" not in output


KEEPALIVED_TASK = "Write keepalived.conf (validated, clean of warnings)"


def keepalived_conf_task(dest):
    """The role's own keepalived.conf template task, writing to ``dest``: the same template and keywords (diff,
    no_log), without what needs the host (the owner, keepalived -t) or the role (its handler)."""
    tasks = yaml.safe_load((ROOT / "roles/director/tasks/keepalived_pool.yml").read_text())
    task = next(task for task in tasks if task.get("name") == KEEPALIVED_TASK)
    args = dict(task["ansible.builtin.template"])
    for key in ("owner", "group", "validate"):
        args.pop(key)
    args.update(src=str(ROOT / "roles/director/templates" / args["src"]), dest=str(dest))
    task = dict(task, **{"ansible.builtin.template": args})
    task.pop("notify")
    return task


def run_keepalived_conf_task(tmp_path, ansible_playbook, example_inventory, auth_pass_variable):
    inventory = example_inventory(vrrp_version_2)
    addresses = inventory.addresses
    model = normalize_cluster(inventory.cluster, addresses.get)
    director = director_settings(["director1", "director2"], "director1", addresses.get)
    config = keepalived_config(model, director, {"router_id": "director1", "vrrp_auth_pass": VRRP})
    play = [{"name": "keepalived.conf", "hosts": "localhost", "gather_facts": False}]
    play[0]["tasks"] = [keepalived_conf_task(tmp_path / "keepalived.conf")]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    variables = {"__director_keepalived_config": config, "director_vrrp_auth_pass": auth_pass_variable}
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    # An inventory without hosts: the implicit localhost, local connection, this venv's Python.
    (tmp_path / "hosts.yml").write_text("all: {}\n")
    args = ["-vvv", "--check", "--diff", "-e", "@%s" % (tmp_path / "vars.json")]
    rc, output = ansible_playbook(tmp_path / "hosts.yml", str(tmp_path / "play.yml"), *args)
    assert rc == 0, output
    assert not (tmp_path / "keepalived.conf").exists()
    return output


def test_keepalived_conf_diff_hides_the_vrrp_password(tmp_path, example_inventory, ansible_playbook):
    output = run_keepalived_conf_task(tmp_path, ansible_playbook, example_inventory, VRRP)
    assert "changed: [localhost]" in output
    assert VRRP not in output


def test_keepalived_conf_diff_shows_the_file_without_a_password(tmp_path, example_inventory, ansible_playbook):
    # The control: with director_vrrp_auth_pass empty the diff is on, and it would show a password in the file
    # (here the config holds one anyway), so the test above does look where a secret would appear.
    output = run_keepalived_conf_task(tmp_path, ansible_playbook, example_inventory, "")
    assert "+    router_id director1" in output
    assert "auth_pass %s" % VRRP in output


def test_a_refused_vrrp_password_is_not_printed(tmp_path, example_inventory, ansible_playbook):
    inventory = example_inventory(vrrp_version_2)
    secrets = extra_vars(tmp_path, sipvs_sip_777_password=SIP, director_vrrp_auth_pass="Vk8TooLongForVrrp")
    rc, output = ansible_playbook(inventory.path, "playbooks/validate.yml", *secrets)
    assert rc != 0
    assert "director_vrrp_auth_pass" in output
    assert "Vk8TooLongForVrrp" not in output
