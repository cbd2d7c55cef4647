"""ipvs_service, ipvs_settings and ipvs_info against the real kernel IPVS of a
lab director VM, and the director role's static engine (which programs IPVS
with them from the cluster model) there too.

The modules run in a network namespace of their own inside each director
(IPVS is per namespace), so this test neither sees nor disturbs what
keepalived or other tests program in the VM's main namespace: Ansible's
interpreter on the VM is a wrapper that runs python3 under
``ip netns exec ipvstest``. Each scenario runs four times (check mode, real
run, real run again, check mode again), and after each the kernel's table is
read with ``ipvsadm -Sn`` in that namespace. Two playbooks run at the same
time, one a director (each emulated director is its own qemu process): the
ipvs_service scenarios on director1, the ipvs_settings ones on director2.

The static engine's tasks (the role's validate.yml and static.yml, with the
lab inventory's cluster model) then run twice in director2's namespace; the rest
of the role (packages, kernel, health checks, marks) is the same for every
engine and is proven by the cluster scenario. The namespace has a dummy
``ens2``, the model's sync-daemon interface.
"""

import concurrent.futures
import json
import os
import pathlib
import subprocess

import pytest

# The tutorial's services, as capture.py records the unit tests' ipvsadm calls
# with them; here the same services go to the kernel through Ansible.
from ansible_collections.sipvs.lvs.tests.unit.fixtures.ipvs.capture import RS, SIP_ARGS, SIP_VIP, UDP_SIP_ARGS, VIP

from lab import config, hosts

REPO = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventories" / "lab"
VENV_BIN = REPO / ".venv" / "bin"

pytestmark = pytest.mark.lab

# The ipvs_service scenarios and the ad-hoc calls; the ipvs_settings scenarios, ipvs_info and the static engine.
SERVICE_HOST = "director1"
SETTINGS_HOST = "director2"
NETNS = "ipvstest"
PYTHON = "/usr/local/sbin/python3-ipvstest"

SETUP = rf"""
set -e
ip netns del {NETNS} 2>/dev/null || true
ip netns add {NETNS}
ip netns exec {NETNS} ip link set lo up
ip netns exec {NETNS} ip link add ipvs0 type dummy
ip netns exec {NETNS} ip link set ipvs0 up
ip netns exec {NETNS} ip link add ens2 type dummy
ip netns exec {NETNS} ip link set ens2 up
printf '#!/bin/sh\nexec ip netns exec {NETNS} /usr/bin/python3 "$@"\n' > {PYTHON}
chmod 755 {PYTHON}
"""

HTTP = {"protocol": "tcp", "address": VIP, "port": 80, "real_servers": [{"address": a} for a in RS]}

# (name, module, args, command that shows the kernel's state, expected lines)
SCENARIOS = [
    (
        "fwmark",
        "ipvs_service",
        SIP_ARGS,
        "ipvsadm -Sn",
        ["-A -f 3 -s wlc"] + ["-a -f 3 -r %s:0 -g -w 1" % a for a in RS],
    ),
    (
        "tcp_udp_sip_one_packet",
        "ipvs_service",
        {"services": [HTTP, UDP_SIP_ARGS]},
        "ipvsadm -Sn",
        ["-A -f 3 -s wlc"]
        + ["-a -f 3 -r %s:0 -g -w 1" % a for a in RS]
        + ["-A -t %s:80 -s wlc" % VIP]
        + ["-a -t %s:80 -r %s:80 -g -w 1" % (VIP, a) for a in RS]
        + ["-A -u %s:5060 -s rr -p 60 -M 0.0.0.0 --pe sip -o" % SIP_VIP]
        + ["-a -u %s:5060 -r %s:5060 -g -w 1" % (SIP_VIP, a) for a in RS],
    ),
    (
        "edit_real_servers_purge_absent",
        "ipvs_service",
        {
            "purge": True,
            "services": [
                {
                    "protocol": "tcp",
                    "address": VIP,
                    "port": 80,
                    "scheduler": "rr",
                    "real_servers": [
                        {"address": RS[0], "weight": 3, "upper_threshold": 100, "lower_threshold": 10},
                        {"address": RS[1], "port": 8080, "forwarding": "masq"},
                        {"address": "172.16.11.79"},
                    ],
                },
                {"protocol": "udp", "address": SIP_VIP, "port": 5060, "state": "absent"},
            ],
        },
        "ipvsadm -Sn; ipvsadm -Ln --thresholds | grep -- '->' | grep -v RemoteAddress",
        [
            "-A -t %s:80 -s rr" % VIP,
            "-a -t %s:80 -r %s:80 -g -w 3" % (VIP, RS[0]),
            "-a -t %s:80 -r %s:8080 -m -w 1" % (VIP, RS[1]),
            "-a -t %s:80 -r 172.16.11.79:80 -g -w 1" % VIP,
            "-> %s:80 100 10 0 0" % RS[0],
            "-> %s:8080 0 0 0 0" % RS[1],
            "-> 172.16.11.79:80 0 0 0 0",
        ],
    ),
    (
        "add_real_server_keep_others",
        "ipvs_service",
        {
            "protocol": "tcp",
            "address": VIP,
            "port": 80,
            "scheduler": "rr",
            "purge_real_servers": False,
            "real_servers": [{"address": RS[2], "weight": 2}],
        },
        "ipvsadm -Sn",
        [
            "-A -t %s:80 -s rr" % VIP,
            "-a -t %s:80 -r %s:80 -g -w 3" % (VIP, RS[0]),
            "-a -t %s:80 -r %s:8080 -m -w 1" % (VIP, RS[1]),
            "-a -t %s:80 -r %s:80 -g -w 2" % (VIP, RS[2]),
            "-a -t %s:80 -r 172.16.11.79:80 -g -w 1" % VIP,
        ],
    ),
    ("absent", "ipvs_service", {"protocol": "tcp", "address": VIP, "port": 80, "state": "absent"}, "ipvsadm -Sn", []),
    (
        "timeouts_and_master_sync",
        "ipvs_settings",
        {"timeouts": {"tcp": 7200, "tcpfin": 60, "udp": 120}, "sync_master": {"interface": "ipvs0", "syncid": 10}},
        "ipvsadm -L --timeout; ipvsadm -L --daemon",
        [
            "Timeout (tcp tcpfin udp): 7200 60 120",
            "master sync daemon (mcast=ipvs0, syncid=10, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)",
        ],
    ),
    (
        "backup_sync_instead",
        "ipvs_settings",
        {"sync_master": {"state": "absent"}, "sync_backup": {"interface": "ipvs0", "syncid": 10, "port": 8849}},
        "ipvsadm -L --daemon",
        ["backup sync daemon (mcast=ipvs0, syncid=10, maxlen=1472, group=224.0.0.81, port=8849, ttl=1)"],
    ),
]
PASSES = (("check", True), ("run", False), ("again", False), ("check_again", True))

# The lab model's services as the static engine programs them (both sync daemons
# on every director, on ens2, sync id 0, the master's with the model's sync
# message length, 64).
STATIC_PASSES = ("static engine", "static engine again")
STATIC_SHOW = "ipvsadm -Sn; ipvsadm -L --timeout; ipvsadm -L --daemon"
STATIC_EXPECTED = sorted(
    ["-A -t %s:80 -s wlc" % VIP]
    + ["-a -t %s:80 -r %s:80 -g -w 1" % (VIP, a) for a in RS]
    + ["-A -f 3 -s wlc"]
    + ["-a -f 3 -r %s:0 -g -w 1" % a for a in RS]
    + [
        "Timeout (tcp tcpfin udp): 10 10 60",
        # Both daemons on every director; the kernel gives the backup at least 1024 bytes.
        "master sync daemon (mcast=ens2, syncid=0, maxlen=64, group=224.0.0.81, port=8848, ttl=1)",
        "backup sync daemon (mcast=ens2, syncid=0, maxlen=1024, group=224.0.0.81, port=8848, ttl=1)",
    ]
)
STATIC_TASKS = (
    "sipvs.lvs.director : Program the IPVS services from the cluster model",
    "sipvs.lvs.director : Set the IPVS timeouts and the connection sync daemon",
)


def static_engine_play(name, first):
    """The role's static engine on the namespace: validate.yml (the model, on the
    controller) and static.yml, as the role's main.yml runs them."""
    tasks = []
    if first:
        # An empty table; the module scenarios' timeouts and backup sync daemon
        # stay, and the engine must replace them with the model's.
        tasks.append(
            {
                "name": "static engine: start from an empty table",
                "ansible.builtin.command": {"argv": ["ipvsadm", "-C"]},
                "changed_when": True,
            }
        )
    tasks += [
        {
            "name": "director role: validate",
            "ansible.builtin.include_role": {"name": "sipvs.lvs.director", "tasks_from": "validate"},
        },
        {
            "name": "director role: static engine",
            "ansible.builtin.include_role": {"name": "sipvs.lvs.director", "tasks_from": "static"},
        },
        {"name": "kernel", "ansible.builtin.command": {"argv": ["sh", "-c", STATIC_SHOW]}, "changed_when": False},
    ]
    if not first:
        # The ad-hoc tests below start from an empty table.
        tasks.append(
            {
                "name": "static engine: leave an empty table",
                "ansible.builtin.command": {"argv": ["ipvsadm", "-C"]},
                "changed_when": True,
            }
        )
    return {
        "name": name,
        "hosts": SETTINGS_HOST,
        "gather_facts": False,
        "vars": {
            "ansible_python_interpreter": PYTHON,
            "director_engine": "static",
            # The lab's model without its VRRP track script: the static engine runs no VRRP and refuses hooks.
            "director_cluster": "{{ lvs_cluster | combine({'vrrp': lvs_cluster.vrrp | combine(no_hooks)}) }}",
            "no_hooks": {"track_scripts": []},
        },
        "tasks": tasks,
    }


def scenario_host(module):
    return SERVICE_HOST if module == "ipvs_service" else SETTINGS_HOST


def playbook(host):
    """The scenarios of one director, in order; on SETTINGS_HOST then ipvs_info and the static engine."""
    tasks = []
    for name, module, args, show, _expected in SCENARIOS:
        if scenario_host(module) != host:
            continue
        for label, check in PASSES:
            tasks.append(
                {
                    "name": "%s %s" % (name, label),
                    "sipvs.lvs.%s" % module: args,
                    "check_mode": check,
                    "diff": True,
                }
            )
        tasks.append(
            {
                "name": "%s kernel" % name,
                "ansible.builtin.command": {"argv": ["sh", "-c", show]},
                "changed_when": False,
            }
        )
    plays = [
        {
            "name": "ipvsadm on the director",
            "hosts": host,
            "gather_facts": False,
            "tasks": [
                {
                    "name": "ipvsadm",
                    "ansible.builtin.apt": {"name": "ipvsadm", "update_cache": True, "cache_valid_time": 86400},
                },
                {"name": "namespace", "ansible.builtin.command": {"argv": ["sh", "-c", SETUP]}, "changed_when": True},
            ],
        },
        {
            "name": "IPVS modules in the namespace",
            "hosts": host,
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": PYTHON},
            "tasks": tasks,
        },
    ]
    if host == SETTINGS_HOST:
        tasks.append({"name": "info", "sipvs.lvs.ipvs_info": {"connections": True}})
        plays += [static_engine_play(STATIC_PASSES[0], first=True), static_engine_play(STATIC_PASSES[1], first=False)]
    return plays


def ansible(tool, *args, timeout=1800):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"  # the JSON callback for ad-hoc runs too
    env.update(config.PODMAN_ENV)
    argv = [str(VENV_BIN / tool), "-i", str(INVENTORY), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO, check=False)


def lines(text):
    return sorted(" ".join(line.split()) for line in text.splitlines() if line.strip())


def run_playbook(host, directory):
    path = directory / ("ipvs-%s.yml" % host)
    path.write_text(json.dumps(playbook(host), indent=1))
    return ansible("ansible-playbook", str(path))


@pytest.fixture(scope="module")
def results(lab, tmp_path_factory):
    """{host: (run, JSON report)} of the two playbooks, run side by side, and {task name: its result}."""
    directory = tmp_path_factory.mktemp("ipvs")
    directors = (SERVICE_HOST, SETTINGS_HOST)
    with concurrent.futures.ThreadPoolExecutor(len(directors)) as pool:
        runs = dict(zip(directors, pool.map(lambda host: run_playbook(host, directory), directors)))
    reports, tasks = {}, {}
    for host, run in runs.items():
        try:
            reports[host] = (run, json.loads(run.stdout))
        except ValueError:
            pytest.fail(
                "ansible-playbook on %s did not report JSON (rc %s): %s %s"
                % (host, run.returncode, run.stdout, run.stderr)
            )
        for play in reports[host][1]["plays"]:
            for task in play["tasks"]:
                name = task["task"]["name"]
                if play["play"]["name"] in STATIC_PASSES:
                    name = "%s: %s" % (play["play"]["name"], name)
                elif name in ("ipvsadm", "namespace"):
                    name = "%s %s" % (host, name)
                tasks[name] = task["hosts"][host]
    yield reports, tasks
    for host in directors:
        lab.run(host, ["ip", "netns", "del", NETNS])


@pytest.mark.parametrize("host", (SERVICE_HOST, SETTINGS_HOST))
def test_playbook_ran_without_failure(results, host):
    run, report = results[0][host]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert report["stats"][host]["failures"] == 0


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_four_passes(results, scenario):
    name, _module, _args, _show, expected = scenario
    tasks = results[1]
    check, run, again, check_again = (tasks["%s %s" % (name, label)] for label, _check in PASSES)
    for result in (check, run, again, check_again):
        assert not result.get("failed"), result
    assert check["changed"] is True
    assert run["changed"] is True
    assert again["changed"] is False
    assert check_again["changed"] is False
    assert again["commands"] == check_again["commands"] == []
    # check mode predicted exactly what the real run did and left
    assert check["commands"] == run["commands"]
    assert check["diff"] == run["diff"]
    for key in ("service", "services", "timeouts", "sync_daemons"):
        if key in run:
            assert check[key] == run[key] == again[key], key
    kernel = tasks["%s kernel" % name]
    assert lines(kernel["stdout"]) == sorted(expected)


def test_batch_is_one_ipvsadm_call(results):
    tasks = results[1]
    run = tasks["edit_real_servers_purge_absent run"]
    assert [c[1] for c in run["commands"]] == ["-D", "-D", "-E", "-d", "-d", "-e", "-a", "-a"]
    assert [s["fwmark"] or s["address"] for s in run["services"]] == [VIP]


def test_info_reads_the_table(results):
    info = results[1]["info"]
    assert info["changed"] is False
    assert info["services"] == []
    assert info["timeouts"] == {"tcp": 7200, "tcpfin": 60, "udp": 120}
    assert info["sync_daemons"]["master"] is None
    assert info["sync_daemons"]["backup"]["port"] == 8849
    assert info["connections"] == []


def adhoc(module, args=None):
    argv = [SERVICE_HOST, "-e", "ansible_python_interpreter=%s" % PYTHON, "-m", "sipvs.lvs.%s" % module]
    if args is not None:
        argv += ["-a", json.dumps(args)]
    run = ansible("ansible", *argv, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"][SERVICE_HOST]


def kernel_table():
    shown = hosts.run(SERVICE_HOST, ["ip", "netns", "exec", NETNS, "ipvsadm", "-Sn"])
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def test_adhoc_tutorial_sip_service(results):
    """The issue's done-when: ansible -m sipvs.lvs.ipvs_service creates the
    tutorial's SIP service exactly as ipvsadm -Sn shows it; the same call
    again changes nothing; ipvs_info returns it."""
    assert kernel_table() == ""
    first = adhoc("ipvs_service", SIP_ARGS)
    assert first["changed"] is True
    assert kernel_table() == "".join(["-A -f 3 -s wlc\n"] + ["-a -f 3 -r %s:0 -g -w 1\n" % a for a in RS])
    second = adhoc("ipvs_service", SIP_ARGS)
    assert second["changed"] is False
    assert second["service"] == first["service"]
    info = adhoc("ipvs_info")
    (service,) = info["services"]
    assert service["fwmark"] == 3
    assert service["scheduler"] == "wlc"
    assert [(r["address"], r["forwarding"], r["weight"]) for r in service["real_servers"]] == [
        (a, "route", 1) for a in RS
    ]


def test_static_engine_programs_the_model_and_changes_nothing_again(results):
    tasks = results[1]
    first, again = STATIC_PASSES
    for task in STATIC_TASKS:
        assert tasks["%s: %s" % (first, task)]["changed"] is True, tasks["%s: %s" % (first, task)]
        assert tasks["%s: %s" % (again, task)]["changed"] is False, tasks["%s: %s" % (again, task)]
    assert lines(tasks["%s: kernel" % first]["stdout"]) == STATIC_EXPECTED
    assert lines(tasks["%s: kernel" % again]["stdout"]) == STATIC_EXPECTED
