"""The way out of Piranha, on the real lab: the tutorial's second lvs.cf (serial_no 76) and its MARK rules
become an inventory with playbooks/migrate_from_piranha.yml; joined with the lab's connection settings,
as a user sets their new hosts' addresses, it converges the lab with site.yml. HTTP through the web VIP
then reaches the three real servers (their index pages carry the migrated names: the real servers were
converged too) and SIPp's calls through the SIP VIP succeed, on every real server.

The migrated inventory keeps the tutorial's udp_timeout 10 (with the migration's warning that a 20 s call
loses its entry), so the calls here are short ones. This runs after the other lab tests of tests/lab; the
teardown then takes the lab down. A lab this session does not own (an engineer's, already up) is converged
back with inventories/lab at the end.
"""

import shutil

import pytest
import yaml

from lab import proof

pytestmark = pytest.mark.lab

FIXTURES = proof.REPO / "tests" / "unit" / "fixtures" / "migrate"
# Two levels below the repository, as inventories/lab is: the lab's ssh ProxyCommand finds its relay
# at {{ inventory_dir }}/../../lab/bin.
MIGRATED = proof.REPO / "build" / "lab-migrated-76"
MIGRATED_NAMES = ["server-01", "server-02", "server-03"]
CALLS = 60


def lab_hosts():
    """inventories/lab/hosts.yml as {group: (hosts, vars)} for the directors and real servers."""
    children = yaml.safe_load((proof.INVENTORY / "hosts.yml").read_text())["all"]["children"]
    return {
        group: (children[group]["hosts"], children[group].get("vars", {})) for group in ("directors", "realservers")
    }


def join_connection_settings(inventory):
    """The migrated hosts.yml with each host's lab connection settings (found by its address: the lab
    mirrors the tutorial's addresses) and the lab's NIC name: Debian 12's ens2 where EL6 had eth0."""
    hosts_file = inventory / "hosts.yml"
    migrated = yaml.safe_load(hosts_file.read_text())
    for group, (lab_group_hosts, lab_group_vars) in lab_hosts().items():
        by_address = {settings["lab_address"]: settings for settings in lab_group_hosts.values()}
        section = migrated["all"]["children"][group]
        for name, settings in section["hosts"].items():
            address = settings["ansible_host"]
            section["hosts"][name] = dict(by_address[address], lvs_address=address)
        section["vars"] = lab_group_vars
    hosts_file.write_text(yaml.safe_dump(migrated, sort_keys=False))
    cluster_file = inventory / "group_vars" / "all" / "cluster.yml"
    cluster = yaml.safe_load(cluster_file.read_text())
    cluster["lvs_cluster"]["vrrp"]["interface"] = proof.lab_cluster()["vrrp"]["interface"]
    cluster_file.write_text(yaml.safe_dump(cluster, sort_keys=False))
    return migrated


@pytest.fixture(scope="module")
def migrated(lab):
    shutil.rmtree(MIGRATED, ignore_errors=True)
    rc, _recap, _seconds, output = proof.playbook(
        proof.REPO / "playbooks" / "migrate_from_piranha.yml",
        "-e",
        "lvs_cf_src=%s" % (FIXTURES / "lvs.cf-76"),
        "-e",
        "lvs_mangle_src=%s" % (FIXTURES / "mangle-76.S"),
        "-e",
        "lvs_inventory_out=%s" % MIGRATED,
        log=proof.OUT / "test-migrate-76.log",
    )
    assert rc == 0, output[-3000:]
    hosts = join_connection_settings(MIGRATED)
    rc, recap, seconds, output = proof.site(inventory=MIGRATED, log=proof.OUT / "test-migrated-site.log")
    try:
        yield {"hosts": hosts, "rc": rc, "recap": recap, "seconds": seconds, "output": output}
    finally:
        if not lab.owned:
            proof.site(log=proof.OUT / "test-migrated-restore.log")
            proof.flush_client_neighbours()


def test_the_migrated_inventory_converges_the_lab(migrated):
    assert migrated["rc"] == 0, migrated["output"][-4000:]
    recap = migrated["recap"]
    assert sorted(set(recap) - {"localhost"}) == sorted(proof.DIRECTORS + MIGRATED_NAMES), recap
    assert not [host for host, counts in recap.items() if counts["failed"] or counts["unreachable"]], recap
    # The migration changed the directors' keepalived.conf (adverts every 6 s, the tutorial's timeouts).
    assert all(recap[director]["changed"] for director in proof.DIRECTORS), recap


def test_the_migrated_cluster_has_the_tutorials_services(migrated):
    proof.flush_client_neighbours()
    proof.wait_until(proof.cluster_healthy, 120, 1, "the migrated cluster's VIPs on director1 with every real server")
    services = proof.ipvs_services(proof.preferred_director())
    addresses = sorted(proof.config.HOSTS_BY_NAME[rs].ip for rs in proof.REALSERVERS)
    web = [s for s in services if s.get("address") == proof.WEB_VIP and s.get("port") == 80]
    sip = [s for s in services if s.get("fwmark") == proof.SIP_FWMARK]
    assert len(web) == 1 and len(sip) == 1, services
    for service in (web[0], sip[0]):
        assert service["scheduler"] == "wlc", service
        assert sorted(rs["address"] for rs in service["real_servers"]) == addresses, service


def test_http_through_the_web_vip_reaches_every_migrated_real_server(migrated):
    seen = proof.web_servers_reached(tries=30, names=MIGRATED_NAMES)
    assert sorted(seen) == MIGRATED_NAMES, seen


def test_calls_through_the_sip_vip_succeed_on_every_real_server(migrated):
    before = proof.processed_counts()
    result = proof.Sipp(rate=10, limit=30, duration_ms=2000, calls=CALLS).wait()
    after = proof.processed_counts()
    assert (result["created"], result["successful"], result["failed"]) == (CALLS, CALLS, 0), result
    taken = {rs: after[rs] - before[rs] for rs in proof.REALSERVERS}
    assert sum(taken.values()) == CALLS and all(count > 0 for count in taken.values()), taken
