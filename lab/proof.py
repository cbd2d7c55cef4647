"""The proof on the lab: `make lab` (python -m lab.proof) and the helpers the
cluster tests and benchmarks share.

`make lab`: lab up (when it is not) → ansible-playbook -i inventories/lab
site.yml → the tutorial's SIPp load from the client namespace, bounded in calls
and time, with progress → a report (lab/out/report.json, lab/out/report.png).

Every probe and load generator runs in the client namespace; every loop is
bounded in count and time; processes started here are stopped by PID.
"""

import argparse
import concurrent.futures
import csv
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import yaml

from lab import config, hosts, images, network, procs, vms
from lab.shell import LabError

REPO = config.REPO
COLLECTIONS = REPO / ".venv" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.sipvs.lvs.plugins.module_utils._ipvs import parse_connections, parse_save  # noqa: E402

INVENTORY = REPO / "inventories" / "lab"
SITE = REPO / "site.yml"
OUT = REPO / "lab" / "out"
SCENARIOS = REPO / "lab" / "scenarios"
VENV_BIN = REPO / ".venv" / "bin"

CLIENT = config.HOSTS_BY_NAME["client"]
CLIENT_IP = CLIENT.ip
WEB_VIP = "172.16.11.210"
SIP_VIP = "172.16.11.211"
SIP_FWMARK = 3
DIRECTORS = [host.name for host in config.VMS]
REALSERVERS = [host.name for host in config.CONTAINERS]
RS_BY_ADDRESS = {config.HOSTS_BY_NAME[name].ip: name for name in REALSERVERS}

# The tutorial's load: sipp -sn uac -d 20000 -s 200 -l 200 -r 20 -t un -i CLIENT VIP,
# here with a total call limit (-m) so that it ends by itself.
TUTORIAL_LOAD = {"rate": 20, "limit": 200, "duration_ms": 20000, "calls": 400, "service": "200"}


# ---------------------------------------------------------------- generic


def wait_until(predicate, timeout, interval=0.5, what="condition"):
    """Poll predicate() until it returns a true value (returned) or `timeout` s pass (LabError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise LabError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def run_on(host, argv, timeout=60):
    return hosts.run(host, argv, timeout=timeout)


def in_client(argv):
    """Local argv that runs argv in the client namespace (nsenter execs it: the PID is argv's own)."""
    return config.enter_netns(CLIENT.netns, argv)


def flush_client_neighbours():
    """A moved VIP: forget the old MAC (LAB_NOTES: ARP caches between scenarios)."""
    subprocess.run(["ip", "-n", CLIENT.netns, "neigh", "flush", "all"], check=False, capture_output=True)


# ---------------------------------------------------------------- probes from the client


def _sip_options_argv(target, count, interval, timeout, deadline):
    """Local argv of lab/scenarios/sip_options.py in the client namespace."""
    return in_client(
        [
            "/usr/bin/python3",
            str(SCENARIOS / "sip_options.py"),
            target,
            "--source",
            CLIENT_IP,
            "--count",
            str(count),
            "--interval",
            str(interval),
            "--timeout",
            str(timeout),
            "--deadline",
            str(deadline),
        ]
    )


def _probes(out):
    """The probes sip_options.py printed (one JSON object a line), in the order they were sent."""
    probes = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return sorted(probes, key=lambda probe: probe["seq"])


def sip_options(target=SIP_VIP, count=1, interval=0.05, timeout=1.0, deadline=120):
    """Send OPTIONS from the client namespace; one dict per probe (see lab/scenarios/sip_options.py)."""
    argv = _sip_options_argv(target, count, interval, timeout, deadline)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=deadline + 30, check=False)
    return _probes(result.stdout)


class Prober:
    """OPTIONS probes in the background (bounded by count), collected at the end."""

    def __init__(self, target=SIP_VIP, count=600, interval=0.05, timeout=1.0):
        self.deadline = count * interval + timeout + 30
        argv = _sip_options_argv(target, count, interval, timeout, self.deadline)
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def collect(self):
        try:
            out, _err = self.process.communicate(timeout=self.deadline + 30)
        except subprocess.TimeoutExpired:
            self.stop()
            out, _err = self.process.communicate()
        return _probes(out)

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)


def outage(probes):
    """(seconds from the first lost probe to the first answered one after it, lost count) or (0, 0)."""
    first_lost = None
    for probe in probes:
        if not probe["answered"] and first_lost is None:
            first_lost = probe
        elif probe["answered"] and first_lost is not None:
            lost = sum(1 for p in probes if first_lost["seq"] <= p["seq"] < probe["seq"] and not p["answered"])
            return round(probe["sent"] - first_lost["sent"], 3), lost
    if first_lost is not None:
        return None, sum(1 for p in probes if not p["answered"])
    return 0.0, 0


def sip_call(extension="200", listen=4.0, rtp_port=40000, target=SIP_VIP):
    argv = in_client(
        [
            "/usr/bin/python3",
            str(SCENARIOS / "sip_call.py"),
            target,
            "--source",
            CLIENT_IP,
            "--extension",
            extension,
            "--rtp-port",
            str(rtp_port),
            "--listen",
            str(listen),
        ]
    )
    result = subprocess.run(argv, capture_output=True, text=True, timeout=listen + 60, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise LabError("sip_call printed nothing (exit %d): %s" % (result.returncode, result.stderr.strip()))
    return json.loads(lines[-1])


def fetch(url, timeout=3):
    """Body of GET url from the client namespace (a new connection each time), or None."""
    result = subprocess.run(
        in_client(["curl", "-s", "--fail", "--max-time", str(timeout), url]),
        capture_output=True,
        text=True,
        timeout=timeout + 10,
        check=False,
    )
    return result.stdout if result.returncode == 0 else None


def http_get(vip=WEB_VIP, timeout=3):
    """Body of GET / through a VIP from the client namespace, or None."""
    return fetch("http://%s/" % vip, timeout)


# Prometheus' text format: `name{label="value",...} value`, comments start with #.
METRIC_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")
METRIC_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
# Where the lab's exporters listen (inventories/lab: the roles' default ports, each host's own address).
DIRECTOR_METRICS_PORT = 9100
ASTERISK_METRICS_PORT = 8088


def parse_metrics(text):
    """The samples of a /metrics page: (name, {label: value}, value as a float), in page order."""
    samples = []
    for line in text.splitlines():
        match = METRIC_SAMPLE.match(line)
        if match and not line.startswith("#"):
            labels = dict(METRIC_LABEL.findall(match.group("labels") or ""))
            samples.append((match.group("name"), labels, float(match.group("value"))))
    return samples


def metrics(host, port, timeout=5):
    """The samples of http://HOST-ADDRESS:PORT/metrics scraped from the client namespace, or None."""
    body = fetch("http://%s:%d/metrics" % (config.HOSTS_BY_NAME[host].ip, port), timeout)
    return None if body is None else parse_metrics(body)


def web_servers_reached(tries=30, names=REALSERVERS):
    """Which real servers' index pages (they name their server: its inventory name) answer through the web VIP."""
    seen = {}
    for _attempt in range(tries):
        body = http_get() or ""
        for name in names:
            if re.search(r"\b%s\b" % re.escape(name), body):
                seen[name] = seen.get(name, 0) + 1
        if len(seen) == len(names):
            break
    return seen


# ---------------------------------------------------------------- directors


def director_up(name):
    return vms.is_running(config.HOSTS_BY_NAME[name])


def holds(name, vip):
    if not director_up(name):
        return False
    result = run_on(name, ["ip", "-o", "-4", "addr", "show"], timeout=15)
    return result.returncode == 0 and (" %s/" % vip) in result.stdout


def vip_holders(vip=SIP_VIP):
    """Every director that carries the VIP now (two in a split brain)."""
    return [name for name in DIRECTORS if holds(name, vip)]


def director_holding(vip=SIP_VIP):
    """The director that carries the VIP now, or None."""
    holders = vip_holders(vip)
    return holders[0] if len(holders) == 1 else None


def preferred_director():
    """The director that holds the VIPs once VRRP has settled: the first running one in
    inventory order (the lab sets no lvs_director_priority, so the first has the highest
    priority, and keepalived preempts). Until it holds them a VIP move is still pending."""
    return next((name for name in DIRECTORS if director_up(name)), None)


def ipvs_services(director):
    """The director's IPVS table (ipvsadm -Sn) parsed into services, or None when unreachable."""
    result = run_on(director, ["ipvsadm", "-Sn"], timeout=15)
    if result.returncode != 0:
        return None
    return parse_save(result.stdout)


def pool(director, fwmark=SIP_FWMARK):
    """Real-server names in the fwmark service on the director (weight > 0), or None."""
    services = ipvs_services(director)
    if services is None:
        return None
    for service in services:
        if service.get("fwmark") == fwmark:
            return sorted(
                RS_BY_ADDRESS.get(rs["address"], rs["address"])
                for rs in service["real_servers"]
                if rs.get("weight", 1) > 0
            )
    return []


def weights(director, name):
    """The weight of real server `name` in each service of the director's IPVS table that has it
    (by fwmark or "address:port"), or None when the director does not answer."""
    services = ipvs_services(director)
    if services is None:
        return None
    return {
        service.get("fwmark") or "%s:%s" % (service["address"], service["port"]): rs.get("weight", 1)
        for service in services
        for rs in service["real_servers"]
        if RS_BY_ADDRESS.get(rs["address"]) == name
    }


def connections(director):
    """The director's IPVS connection table (ipvsadm -Lcn) parsed, or None when unreachable."""
    result = run_on(director, ["ipvsadm", "-Lcn"], timeout=15)
    return parse_connections(result.stdout) if result.returncode == 0 else None


def sync_daemons(director):
    """The kernel's sync daemons on the director (ipvsadm -L --daemon), as printed."""
    result = run_on(director, ["ipvsadm", "-L", "--daemon"], timeout=15)
    return result.stdout.strip() if result.returncode == 0 else None


def ipvsadm_view(director):
    result = run_on(director, ["ipvsadm", "-L", "-n"], timeout=15)
    return result.stdout if result.returncode == 0 else ""


# Incoming VRRP (IP protocol 112) dropped on a director: it stops hearing its peer's
# adverts and becomes master too (a split brain), while its own adverts still go out.
VRRP_DROP = ["INPUT", "-p", "112", "-j", "DROP"]


def cut_vrrp(director):
    result = run_on(director, ["iptables", "-w", "-I", *VRRP_DROP], timeout=15)
    if result.returncode != 0:
        raise LabError("could not cut VRRP on %s: %s" % (director, result.stderr.strip()))


def heal_vrrp(director):
    """Remove every VRRP drop rule cut_vrrp added (safe to call when there is none)."""
    while run_on(director, ["iptables", "-w", "-D", *VRRP_DROP], timeout=15).returncode == 0:
        pass


# Each event of SIPp's error trace (-trace_err) starts with "DATE\tTIME\tUNIX_TIME: "; events
# are not newline-separated, and a call's event names its Call-ID ("CALL_NUMBER-PID@IP") as
# "Call-Id: 1-..." (receive timeouts), "Call-Id '1-..." (unexpected messages) or "Call-ID '1-..."
# (retransmission timeouts).
SIPP_EVENT = re.compile(r"\d{4}-\d\d-\d\d\t[\d:.]+\t(\d+\.\d+): ")
SIPP_CALL_NUMBER = re.compile(r"Call-Id:? '?(\d+)-", re.IGNORECASE)


def sipp_failures(text):
    """{call number: Unix time of its first error} for each call SIPp's error trace names."""
    parts = SIPP_EVENT.split(text)
    failures = {}
    for when, event in zip(parts[1::2], parts[2::2]):
        match = SIPP_CALL_NUMBER.search(event)
        if match:
            failures.setdefault(int(match.group(1)), float(when))
    return failures


def created_by(rows, when):
    """Calls SIPp had created by `when`, at most: TotalCallCreated of the first statistics row
    written at or after it (SIPp's CurrentTime ends in the Unix time), or of its last row (written
    as it exited) when SIPp had ended before `when`."""
    for row in rows:
        if float(row["CurrentTime"].rpartition("\t")[2]) >= when:
            return int(row["TotalCallCreated"])
    return int(rows[-1]["TotalCallCreated"])


def split_failures(failures, cut_at, created_when_healed):
    """The failed calls of a VRRP partition, by when each call started: calls created after the
    heal (number above `created_when_healed`) failed after it; the others failed in the split
    when their first error came after the cut, before it otherwise."""
    after = [number for number in failures if number > created_when_healed]
    during = [number for number, when in failures.items() if number not in after and when >= cut_at]
    return {
        "failed_before_cut": len(failures) - len(after) - len(during),
        "failed_during_split": len(during),
        "failed_after_heal": len(after),
    }


def vrrp_partition(split_calls=200, calls=300, rate=10, duration_ms=2000, on_split=None):
    """Cut VRRP on the backup during a SIPp load for `split_calls` new calls, heal it, and count.

    `on_split(primary, backup)`, if given, runs once both directors hold the VIPs.
    Returns the load's result; the failed calls before the cut, during the split and after
    the heal (split_failures: a call started after the primary alone held the SIP VIP again
    failed after the heal); the holders and sync daemons seen in the split; and the seconds
    from the heal until the primary alone held the SIP VIP again."""
    primary = wait_until(director_holding, 120, 0.5, "a director holding %s" % SIP_VIP)
    backup = next(name for name in DIRECTORS if name != primary)
    load = Sipp(rate=rate, limit=50, duration_ms=duration_ms, calls=calls, errors=True)
    split = {}
    try:
        wait_until(lambda: load.stats()["successful"] >= 10, 120, 0.5, "the first calls of the load")
        created = load.stats()["created"]
        cut_at = time.time()
        cut_vrrp(backup)
        wait_until(lambda: vip_holders() == DIRECTORS, 120, 0.5, "the split brain")
        if on_split is not None:
            on_split(primary, backup)
        split = {
            "holders": vip_holders(),
            "split_brain_after_s": round(time.time() - cut_at, 1),
            "sync_daemons": {name: sync_daemons(name) for name in DIRECTORS},
        }
        wait_until(lambda: load.stats()["created"] >= created + split_calls or not load.running(), 300, 0.5, "calls")
        split["ended_early"] = not load.running()
    except BaseException:
        load.stop()
        raise
    finally:
        heal_at = time.time()
        heal_vrrp(backup)
    wait_until(lambda: vip_holders() == [primary], 120, 0.2, "%s alone holding %s" % (primary, SIP_VIP))
    healed_at = time.time()
    result = load.wait()
    wait_until(cluster_healthy, 120, 0.5, "%s alone holding the VIPs with the full pool" % primary)
    failures = sipp_failures(load.errors())
    return {
        "primary": primary,
        "cut_on": backup,
        "load": {"rate": rate, "calls": calls, "duration_ms": duration_ms, "split_calls": split_calls},
        "result": {key: result[key] for key in ("created", "successful", "failed", "seconds")},
        "split": split,
        "split_s": round(heal_at - cut_at, 1),
        "failed_traced": len(failures),
        **split_failures(failures, cut_at, created_by(load.rows(), healed_at)),
        "one_holder_after_heal_s": round(healed_at - heal_at, 1),
    }


def kill_director(name):
    """SIGKILL the director's VM (a crash: no VRRP goodbye); its disk overlay stays."""
    host = config.HOSTS_BY_NAME[name]
    pid = procs.read_pid(vms.pid_file(host))
    if pid is None or not procs.alive(pid, vms.PROCESS_NAME):
        raise LabError("%s is not running" % name)
    accel = vms.accel_in_use(host) or "tcg"
    (config.RUN_DIR / ("%s.accel" % name)).write_text(accel)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not procs.alive(pid, vms.PROCESS_NAME), 30, 0.1, "%s's qemu to exit" % name)
    return accel


def start_director(name, ssh_timeout=240):
    """Boot a killed director again from its own overlay (so it keeps its configuration)."""
    host = config.HOSTS_BY_NAME[name]
    if vms.is_running(host):
        return False
    accel_file = config.RUN_DIR / ("%s.accel" % name)
    accel = accel_file.read_text().strip() if accel_file.exists() else vms.choose_accel()
    if not vms.overlay(host).exists():
        raise LabError("%s has no disk overlay: bring the lab up again" % name)
    network.setup_tap(host)
    subprocess.run(
        config.enter_netns(config.LAB_NS, vms.qemu_argv(host, images.vm_image(), accel)),
        check=True,
        capture_output=True,
    )
    if not vms.wait_for_ssh(host, ssh_timeout):
        raise LabError("%s did not answer ssh within %ss after a restart" % (name, ssh_timeout))
    return True


# ---------------------------------------------------------------- real servers


def asterisk_calls(rs):
    """(active calls, calls processed) from Asterisk on a real server, or None when it does not answer."""
    result = run_on(rs, ["asterisk", "-rx", "core show calls"], timeout=15)
    active = re.search(r"(\d+) active call", result.stdout)
    processed = re.search(r"(\d+) calls? processed", result.stdout)
    if result.returncode != 0 or not processed:
        return None
    return int(active.group(1)) if active else 0, int(processed.group(1))


def processed_counts(wait=0):
    """The calls each real server's Asterisk has processed (None for one that does not answer). With
    `wait` seconds, read again until every one answers: once in the drain test, under the load with
    the TCG directors converging, one real server's read came back empty (its cause not kept)."""

    def read():
        counts = {}
        for rs in REALSERVERS:
            calls = asterisk_calls(rs)
            counts[rs] = calls[1] if calls else None
        return counts

    def every_one_answered():
        counts = read()
        return counts if None not in counts.values() else None

    if not wait:
        return read()
    return wait_until(every_one_answered, wait, 1, "every real server's Asterisk answering `core show calls`")


# ---------------------------------------------------------------- SIPp


def sipp_seconds(text):
    """A SIPp statistics time ("HH:MM:SS" or "HH:MM:SS:microseconds") in seconds; 0.0 when unreadable."""
    parts = (text or "").split(":")
    try:
        seconds = int(parts[0]) * 3600 + int(parts[1]) * 60 + int(parts[2])
        return seconds + (int(parts[3]) / 1e6 if len(parts) > 3 else 0.0)
    except (IndexError, ValueError):
        return 0.0


def sipp_numbers(row):
    """One row of SIPp's statistics file (-trace_stat -fd 1: a row a second) as the numbers the
    proofs and the report use: calls created, in progress, successful and failed so far, the rate
    calls were placed at and the mean INVITE response time over the last period."""

    def number(key):
        try:
            return int(row.get(key, "0") or 0)
        except ValueError:
            return 0

    try:
        call_rate = float(row.get("CallRate(P)", "0") or 0)
    except ValueError:
        call_rate = 0.0
    return {
        "created": number("TotalCallCreated"),
        "current": number("CurrentCall"),
        "successful": number("SuccessfulCall(C)"),
        "failed": number("FailedCall(C)"),
        "call_rate": round(call_rate, 2),
        "response_ms": round(sipp_seconds(row.get("ResponseTime1(P)")) * 1000, 1),
    }


class Sipp:
    """The tutorial's SIPp uac load from the client namespace, bounded in calls (-m) and time (timeout)."""

    media_ports = iter(range(6000, 7000, 10))

    def __init__(
        self,
        rate,
        limit,
        duration_ms,
        calls,
        service="200",
        target=SIP_VIP,
        workdir=None,
        max_seconds=None,
        errors=False,
    ):
        self.calls = calls
        self.workdir = workdir or OUT
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.media_port = next(Sipp.media_ports)
        self.stat_file = self.workdir / ("sipp-%d-%d.csv" % (os.getpid(), self.media_port))
        self.stat_file.unlink(missing_ok=True)
        # SIPp's error trace (why each failed call failed), when asked for.
        self.error_file = self.stat_file.with_suffix(".errors.log") if errors else None
        if self.error_file:
            self.error_file.unlink(missing_ok=True)
        # Enough for every call at the rate it can be placed - at most `limit` in progress, so at most
        # limit per call length (the tutorial's 200 calls of 20 s: 10/s, not 20) - plus the call length,
        # with room for retransmissions.
        placed_rate = min(rate, limit / max(duration_ms / 1000, 0.001))
        self.max_seconds = max_seconds or int(calls / max(placed_rate, 0.1) + duration_ms / 1000 + 60)
        self.argv = [
            "sipp",
            "-sn",
            "uac",
            "-d",
            str(duration_ms),
            "-s",
            service,
            "-l",
            str(limit),
            "-r",
            str(rate),
            "-t",
            "un",
            "-i",
            CLIENT_IP,
            target,
            "-m",
            str(calls),
            "-mp",
            str(self.media_port),
            "-max_socket",
            "4096",
            "-nostdin",
            "-trace_stat",
            "-stf",
            str(self.stat_file),
            "-fd",
            "1",
            "-recv_timeout",
            "10000",
            "-timeout",
            "%ds" % self.max_seconds,
        ]
        if self.error_file:
            self.argv += ["-trace_err", "-error_file", str(self.error_file)]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            # nsenter execs sipp: this PID is sipp's own, bounded by -m and -timeout.
            in_client(self.argv),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=str(self.workdir),
            text=True,
        )

    def rows(self):
        """SIPp's statistics file, one {column: value} per line SIPp wrote (every second: -fd 1)."""
        try:
            with open(self.stat_file, newline="") as handle:
                return list(csv.DictReader(handle, delimiter=";"))
        except OSError:
            return []

    def stats(self):
        """The last line of SIPp's statistics file (sipp_numbers)."""
        rows = self.rows()
        return sipp_numbers(rows[-1] if rows else {})

    def errors(self):
        """SIPp's error trace so far ("" when it wrote none or was not asked to: errors=False)."""
        try:
            return self.error_file.read_text(errors="replace") if self.error_file else ""
        except OSError:
            return ""

    def running(self):
        return self.process.poll() is None

    def call_ports(self):
        """The client's UDP ports SIPp has open now (-t un: one socket per call, so one per call
        in progress), read with ss in the client namespace."""
        result = subprocess.run(in_client(["ss", "-Huanp"]), capture_output=True, text=True, check=False)
        owner = "pid=%d," % self.process.pid
        # ss -H: state, recv-q, send-q, local address:port, peer, process.
        rows = [line.split() for line in result.stdout.splitlines() if owner in line]
        return {int(row[3].rpartition(":")[2]) for row in rows if len(row) > 3}

    def wait(self):
        try:
            self.process.wait(timeout=self.max_seconds + 30)
        except subprocess.TimeoutExpired:
            self.stop()
        result = self.stats()
        result["exit"] = self.process.returncode
        result["seconds"] = round(time.monotonic() - self.started, 1)
        result["stderr"] = (self.process.stderr.read() or "")[-2000:] if self.process.stderr else ""
        return result

    def finish(self):
        """End the load smoothly, then wait(): on SIGUSR1 SIPp places no new call and exits once
        its calls in progress have ended (a load sized to a bound, ended when the test is done)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGUSR1)
        return self.wait()

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


# ---------------------------------------------------------------- Ansible


def ansible_env():
    return dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), PATH="%s:%s" % (VENV_BIN, os.environ["PATH"]))


# The lab's secrets (the SIP account 777's password) have no default anywhere: a
# random one is made on first use and kept in the lab's run directory, which
# lab-down removes. Passed as a lazily templated extra var, so no secret ever
# appears on a command line. molecule/cluster/molecule.yml passes the same.
LAB_SECRETS = config.RUN_DIR / "sip-777.secret"
LAB_EXTRA_VARS = json.dumps(
    {
        "sipvs_sip_777_password": "{{ lookup('ansible.builtin.password', '%s', length=24, "
        "chars=['ascii_letters', 'digits']) }}" % LAB_SECRETS
    }
)

RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.M,
)


def parse_recap(text):
    return {
        m.group("host"): {k: int(m.group(k)) for k in ("ok", "changed", "unreachable", "failed")}
        for m in RECAP.finditer(text)
    }


HEADER = re.compile(r"^(?P<kind>PLAY|TASK|RUNNING HANDLER) \[(?P<name>.*)\] \**$")
HOST_RESULT = re.compile(r"^(?P<status>ok|changed|skipping|failed|fatal|unreachable): \[(?P<host>[^\]]+)\]")


def task_hosts(output, task, status):
    """The hosts whose result of the task named `task` (every run of it) in ansible-playbook's
    output has `status` (ok, changed, skipping, failed, ...)."""
    hosts, current = set(), None
    for line in output.splitlines():
        header = HEADER.match(line)
        if header:
            current = header.group("name")
            continue
        result = HOST_RESULT.match(line)
        if result and current == task and result.group("status") == status:
            hosts.add(result.group("host"))
    return hosts


class Progress:
    """Turns ansible-playbook's output, line by line, into lines a person can follow:
    each play and task as it starts, and each task's hosts by result when it ends."""

    def __init__(self, say):
        self.say = say
        self.task = None
        self.task_started = 0.0
        self.results = {}
        # Every task (and handler) that ended: {"task": name, "seconds": wall time over all its hosts}.
        self.tasks = []

    def line(self, text, elapsed):
        header = HEADER.match(text)
        if header:
            self.end_task(elapsed)
            if header.group("kind") == "PLAY":
                self.say("  [%4.0f s] play %s" % (elapsed, header.group("name")))
            else:
                self.task, self.task_started = header.group("name"), elapsed
                self.say("  [%4.0f s]   %s" % (elapsed, self.task))
            return
        if text.startswith("PLAY RECAP"):
            self.end_task(elapsed)
            return
        result = HOST_RESULT.match(text)
        if result and self.task is not None:
            status = "failed" if result.group("status") == "fatal" else result.group("status")
            hosts_with_status = self.results.setdefault(status, [])
            if result.group("host") not in hosts_with_status:
                hosts_with_status.append(result.group("host"))

    def end_task(self, elapsed):
        if self.task is None:
            return
        done = "; ".join("%s %s" % (status, ", ".join(hosts)) for status, hosts in self.results.items())
        self.say("  [%4.0f s]     %s (%.0f s)" % (elapsed, done or "no hosts", elapsed - self.task_started))
        self.tasks.append({"task": self.task, "seconds": round(elapsed - self.task_started, 1)})
        self.task, self.results = None, {}


def converge_profile(tasks, top=10):
    """Where a playbook run spent its time, from Progress.tasks: the seconds of each role (a task
    named "ROLE : NAME"; the playbooks' own tasks under "(playbook)") and the `top` slowest tasks,
    each name's runs added up (a role runs in several plays: its validation, then its hosts)."""
    per_role, per_task = {}, {}
    for entry in tasks:
        role, separator, _name = entry["task"].partition(" : ")
        role = role if separator and " " not in role else "(playbook)"
        per_role[role] = round(per_role.get(role, 0.0) + entry["seconds"], 1)
        per_task[entry["task"]] = round(per_task.get(entry["task"], 0.0) + entry["seconds"], 1)
    slowest = sorted(per_task.items(), key=lambda item: (-item[1], item[0]))[:top]
    return {
        "per_role_s": dict(sorted(per_role.items(), key=lambda item: -item[1])),
        "top_tasks": [{"task": task, "seconds": seconds} for task, seconds in slowest],
    }


def site(*extra, log=None, timeout=3600, progress=None, inventory=INVENTORY, tasks=None):
    """ansible-playbook -i inventories/lab site.yml; returns (rc, recap, seconds, output).
    With progress (a function taking a line), the run is shown as it goes (see Progress); with
    tasks (a list), each task's time is added to it as it ends (Progress.tasks)."""
    return playbook(SITE, *extra, log=log, timeout=timeout, progress=progress, inventory=inventory, tasks=tasks)


def playbook(path, *extra, log=None, timeout=3600, progress=None, inventory=INVENTORY, tasks=None):
    """ansible-playbook -i INVENTORY (the lab's) PATH, with the lab's secrets; as site() returns."""
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "-e", LAB_EXTRA_VARS, str(path), *extra]
    started = time.monotonic()
    env = dict(ansible_env(), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    if progress is None and tasks is None:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(REPO), check=False
        )
        returncode, output = result.returncode, result.stdout + result.stderr
    else:
        watcher = Progress(progress or (lambda _line: None))
        returncode, output = _site_with_progress(argv, env, timeout, started, watcher)
        if tasks is not None:
            tasks.extend(watcher.tasks)
    seconds = round(time.monotonic() - started, 1)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(output)
    return returncode, parse_recap(output), seconds, output


def lab_cluster():
    """The lab inventory's lvs_cluster (inventories/lab/group_vars/all/cluster.yml), as a new dict."""
    return yaml.safe_load((INVENTORY / "group_vars" / "all" / "cluster.yml").read_text())["lvs_cluster"]


def overlay(name, cluster=None, host_vars=None):
    """playbook()/site() arguments that lay a change over the lab's inventory, as an operator's edit
    would: host_vars ({host: {var: value}}) as a second YAML inventory of those hosts, and cluster as
    the lvs_cluster (extra vars). The files go to lab/out/overlay-NAME-*.json (JSON: YAML to Ansible)."""
    OUT.mkdir(parents=True, exist_ok=True)
    args = []
    if host_vars:
        hosts_file = OUT / ("overlay-%s-hosts.json" % name)
        hosts_file.write_text(json.dumps({"all": {"hosts": host_vars}}))
        args += ["-i", str(hosts_file)]
    if cluster is not None:
        cluster_file = OUT / ("overlay-%s-cluster.json" % name)
        cluster_file.write_text(json.dumps({"lvs_cluster": cluster}))
        args += ["-e", "@%s" % cluster_file]
    return args


def scheduler(director, fwmark=SIP_FWMARK):
    """The scheduler of the fwmark service in the director's IPVS table, or None."""
    for service in ipvs_services(director) or []:
        if service.get("fwmark") == fwmark:
            return service["scheduler"]
    return None


def _site_with_progress(argv, env, timeout, started, progress):
    lines = []
    env = dict(env, PYTHONUNBUFFERED="1")
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=str(REPO)
    ) as playbook:
        # The same bound as subprocess.run's timeout: the playbook is killed, by its PID.
        watchdog = threading.Timer(timeout, playbook.kill)
        watchdog.start()
        try:
            for text in playbook.stdout:
                lines.append(text)
                progress.line(text.rstrip("\n"), time.monotonic() - started)
            returncode = playbook.wait()
        finally:
            watchdog.cancel()
    if time.monotonic() - started >= timeout:
        raise LabError("site.yml did not finish within %d s (stopped)" % timeout)
    return returncode, "".join(lines)


# ---------------------------------------------------------------- benchmarks

BENCH_RESULTS = REPO / "bench" / "results"


def cluster_healthy():
    """The preferred director holds both VIPs, alone, with every real server in its pool."""
    holder = director_holding()
    return (
        holder is not None
        and holder == preferred_director()
        and holds(holder, WEB_VIP)
        and pool(holder) == sorted(REALSERVERS)
    )


def ensure_converged(say=print):
    """The lab up and site.yml applied (run only when the cluster does not answer as converged)."""
    from lab import lifecycle

    lifecycle.ensure_up(say=say)
    if cluster_healthy():
        return None
    say("converging the lab with site.yml (log: lab/out/site.log)")
    rc, _recap, seconds, output = site(log=OUT / "site.log", progress=say)
    if rc != 0:
        raise LabError("site.yml failed (exit %d): %s" % (rc, output[-2000:]))
    flush_client_neighbours()
    wait_until(cluster_healthy, 120, 1, "the converged cluster (a VIP holder with every real server)")
    return seconds


def rejoin(name, timeout=240):
    """Start a killed director again and wait until keepalived runs there with the full pool."""
    start_director(name, ssh_timeout=timeout)
    wait_until(
        lambda: run_on(name, ["systemctl", "is-active", "keepalived"], timeout=15).stdout.strip() == "active",
        timeout,
        1,
        "keepalived on %s" % name,
    )
    wait_until(lambda: pool(name) == sorted(REALSERVERS), 120, 1, "the IPVS pool on %s" % name)
    # Not just one holder: the rejoined director may still be about to preempt.
    wait_until(cluster_healthy, 120, 0.5, "%s holding the VIPs with the full pool" % preferred_director())
    flush_client_neighbours()


def write_result(name, data):
    BENCH_RESULTS.mkdir(parents=True, exist_ok=True)
    path = BENCH_RESULTS / ("%s.json" % name)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


# ---------------------------------------------------------------- make lab


def client_next_hop(vip=SIP_VIP):
    """The director the client sends the VIP's packets to now: the MAC of its ARP entry for the VIP
    (keepalived's gratuitous ARPs move it on a takeover), or None. One local `ip` call, no ssh."""
    result = subprocess.run(
        ["ip", "-n", CLIENT.netns, "neigh", "show", vip], capture_output=True, text=True, check=False
    )
    text = result.stdout.lower()
    return next((host.name for host in config.VMS if host.mac in text), None)


def load_test(load, say=print, sample_every=1.0):
    """Run a SIPp load with progress. Each second a sample: SIPp's own statistics (calls placed,
    answered, failed, the call rate and the INVITE response time), each real server's calls (read
    side by side) and the director the client sends to; a change of that director is a failover
    event. A line of progress at least every 2 s."""
    before = processed_counts()
    sipp = Sipp(load["rate"], load["limit"], load["duration_ms"], load["calls"], load.get("service", "200"))
    say("sipp: %s" % " ".join(sipp.argv))
    samples = []
    events = []
    # The director last seen as the client's next hop (None until its ARP entry exists).
    holder = client_next_hop()
    next_sample = last_said = sipp.started
    with concurrent.futures.ThreadPoolExecutor(len(REALSERVERS)) as pool:
        while sipp.running():
            next_sample += sample_every
            time.sleep(max(0.0, next_sample - time.monotonic()))
            counts = dict(zip(REALSERVERS, pool.map(asterisk_calls, REALSERVERS)))
            now = round(time.monotonic() - sipp.started, 1)
            stats = sipp.stats()
            per_rs = {
                rs: (counts[rs][1] - before[rs]) if counts[rs] is not None and before[rs] is not None else None
                for rs in REALSERVERS
            }
            current_holder = client_next_hop()
            if current_holder is not None and current_holder != holder:
                if holder is not None:
                    events.append({"t": now, "event": "failover", "from": holder, "to": current_holder})
                holder = current_holder
            samples.append({"t": now, **stats, "per_real_server": per_rs, "client_sends_to": current_holder})
            if time.monotonic() - last_said >= 1.5:  # a sample a second: every other one, 2 s apart
                last_said = time.monotonic()
                say(
                    "  t=%5.1fs placed %4d  answered %4d  failed %3d  in progress %3d  %5.1f calls/s  %6.1f ms"
                    "  per server %s"
                    % (
                        now,
                        stats["created"],
                        stats["successful"],
                        stats["failed"],
                        stats["current"],
                        stats["call_rate"],
                        stats["response_ms"],
                        " ".join("%s=%s" % (rs, per_rs[rs]) for rs in REALSERVERS),
                    )
                )
    final = sipp.wait()
    after = processed_counts()
    per_rs = {
        rs: (after[rs] - before[rs]) if after[rs] is not None and before[rs] is not None else None for rs in REALSERVERS
    }
    return {
        "load": load,
        "argv": sipp.argv,
        "result": final,
        "per_real_server": per_rs,
        "samples": samples,
        "events": events,
    }


def balance_deviation(per_rs):
    """Largest deviation of any real server from an equal share, in percent of that share."""
    values = [v for v in per_rs.values() if v is not None]
    total = sum(values)
    if not values or total == 0:
        return None
    share = total / len(per_rs)
    return round(max(abs(v - share) for v in per_rs.values() if v is not None) / share * 100, 2)


def prove(load, say=print):
    from lab import lifecycle, report

    if not SITE.exists():
        raise LabError("%s is missing: nothing to converge the lab with" % SITE)
    OUT.mkdir(parents=True, exist_ok=True)
    say("== lab up")
    lifecycle.ensure_up(say=say)
    say("== ansible-playbook -i inventories/lab site.yml (log: lab/out/site.log)")
    tasks = []
    rc, recap, seconds, output = site(log=OUT / "site.log", progress=say, tasks=tasks)
    for host, counts in sorted(recap.items()):
        say("  %-10s %s" % (host, " ".join("%s=%d" % item for item in counts.items())))
    profile = converge_profile(tasks)
    say("  site.yml: exit %d in %.0fs" % (rc, seconds))
    say("  by role: %s" % ", ".join("%s %.0f s" % item for item in profile["per_role_s"].items()))
    if rc != 0:
        say("\n".join(output.splitlines()[-30:]))
        raise LabError("site.yml failed (exit %d); see lab/out/site.log" % rc)
    flush_client_neighbours()
    holder = wait_until(director_holding, 60, 1, "a director to hold %s" % SIP_VIP)
    say("== load test through %s (active director %s)" % (SIP_VIP, holder))
    run = load_test(load, say=say)
    active = director_holding()
    data = {
        "site": {"exit": rc, "seconds": seconds, "recap": recap, **profile},
        "load": run["load"],
        "sipp_argv": run["argv"],
        "calls": {
            "attempted": run["result"]["created"],
            "succeeded": run["result"]["successful"],
            "failed": run["result"]["failed"],
            "sipp_exit": run["result"]["exit"],
            "seconds": run["result"]["seconds"],
        },
        "calls_per_real_server": run["per_real_server"],
        "balance_deviation_percent": balance_deviation(run["per_real_server"]),
        "active_director": active,
        "ipvsadm": ipvsadm_view(active) if active else "",
        "samples": run["samples"],
        "events": run["events"],
    }
    report.write(data, OUT)
    say(report.table(data))
    say("report: %s, %s" % (OUT / "report.json", OUT / "report.png"))
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab.proof", description="make lab: converge the lab and prove it")
    parser.add_argument("--rate", type=float, default=TUTORIAL_LOAD["rate"], help="calls per second (-r)")
    parser.add_argument("--limit", type=int, default=TUTORIAL_LOAD["limit"], help="concurrent calls (-l)")
    parser.add_argument("--duration", type=int, default=TUTORIAL_LOAD["duration_ms"], help="call length, ms (-d)")
    parser.add_argument("--calls", type=int, default=TUTORIAL_LOAD["calls"], help="total calls (-m)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("lab: error: the lab needs root", file=sys.stderr)
        return 1
    load = {"rate": args.rate, "limit": args.limit, "duration_ms": args.duration, "calls": args.calls, "service": "200"}
    try:
        data = prove(load)
    except LabError as error:
        print("lab: error: %s" % error, file=sys.stderr)
        return 1
    return 0 if data["calls"]["failed"] == 0 and data["calls"]["succeeded"] == args.calls else 2


if __name__ == "__main__":
    sys.exit(main())
