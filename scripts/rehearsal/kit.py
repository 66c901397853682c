"""Helpers for the rehearsal driver: commands, HTTP, docker stats sampling, the summary."""
import json
import re
import subprocess
import threading
import time
import urllib.request

UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "kB": 1000, "MB": 1000**2, "GB": 1000**3}


def sh(cmd, env=None, check=False, timeout=None, capture=True):
    """Runs a shell command; its output goes to the terminal unless captured."""
    result = subprocess.run(cmd, shell=True, env=env, text=True, timeout=timeout,
                            capture_output=capture)
    if check and result.returncode != 0:
        raise StepFailed(f"`{cmd}` exited {result.returncode}: {(result.stderr or '')[-400:]}")
    return result


def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(what, probe, timeout_s, every_s=3):
    """Polls `probe` until it returns a truthy value; raises StepFailed after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except Exception as err:  # a probe may fail while the thing starts up
            last = err
        time.sleep(every_s)
    raise StepFailed(f"{what}: not within {timeout_s} s (last: {last})")


class StepFailed(Exception):
    pass


def parse_bytes(text):
    match = re.match(r"([\d.]+)\s*([A-Za-z]+)", text.strip())
    return int(float(match.group(1)) * UNITS.get(match.group(2), 1)) if match else 0


def container_memory():
    """`docker stats` once: memory in use per compose service (container names leakstorm-<svc>-N)."""
    out = sh("docker stats --no-stream --format '{{.Name}}\t{{.MemUsage}}'").stdout
    memory = {}
    for line in out.splitlines():
        name, _, usage = line.partition("\t")
        match = re.match(r"leakstorm-(.+)-\d+$", name)
        if match:
            memory[match.group(1)] = parse_bytes(usage.split("/")[0])
    return memory


class Sampler:
    """Calls `sample()` every `period` seconds on a background thread for as long as its `with`
    block runs; the block's end waits for the sample in progress."""

    period = 1

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()

    def sample(self):
        raise NotImplementedError

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.period)


class PeakMemory(Sampler):
    """Samples `docker stats` in the background and keeps each container's highest figure."""

    def __init__(self):
        super().__init__()
        self.peak = {}

    def sample(self):
        for name, used in container_memory().items():
            self.peak[name] = max(used, self.peak.get(name, 0))


class AlertWatch(Sampler):
    """Samples Prometheus's alerts in the background: which jobs `alertname` was ever pending or
    firing for, and which it fired for."""

    period = 2

    def __init__(self, prometheus, alertname):
        super().__init__()
        self.url, self.name = f"{prometheus}/api/v1/alerts", alertname
        self.active, self.fired = set(), set()

    def sample(self):
        try:
            for alert in get_json(self.url)["data"]["alerts"]:
                if alert["labels"].get("alertname") == self.name:
                    job = alert["labels"].get("job", "?")
                    self.active.add(job)
                    if alert["state"] == "firing":
                        self.fired.add(job)
        except Exception:  # Prometheus restarting: the next sample will tell
            pass


class FiredAlerts(Sampler):
    """Samples Prometheus's alerts in the background and keeps those that start firing after the
    watch began (alerts already firing then belong to what came before): (alertname, job,
    scenario label or None)."""

    period = 2

    def __init__(self, prometheus):
        super().__init__()
        self.url = f"{prometheus}/api/v1/alerts"
        self.before = self._firing()
        self.fired = set()

    def _firing(self):
        try:
            alerts = get_json(self.url)["data"]["alerts"]
        except Exception:  # Prometheus restarting: the next sample will tell
            return set()
        return {(a["labels"].get("alertname"), a["labels"].get("job"), a["labels"].get("scenario"))
                for a in alerts if a["state"] == "firing"}

    def sample(self):
        self.fired |= self._firing() - self.before

    def own_fired(self, scenario, host):
        return any(s == scenario and job == host for _, job, s in self.fired)

    def foreign(self, scenario, host):
        """Cause alerts (those naming a scenario) that fired for anything but `scenario` on
        `host`."""
        return sorted(f"{name} ({job})" for name, job, s in self.fired
                      if s is not None and (s != scenario or job != host))


def mib(n):
    return f"{n / 1024**2:.0f} MiB"


def print_table(steps, images, idle, peak):
    print("\n== rehearsal summary ==")
    print(f"{'step':<28} {'result':<6} {'seconds':>8}  detail")
    for s in steps:
        print(f"{s['step']:<28} {s['result']:<6} {s['seconds']:>8.1f}  {s['detail']}")
    print("\nimage sizes")
    for name, size in sorted(images.items()):
        print(f"  {name:<46} {mib(size):>10}")
    print("\ncontainer memory (docker stats): idle / storm peak")
    for name in sorted(set(idle) | set(peak)):
        print(f"  {name:<16} {mib(idle.get(name, 0)):>10} / {mib(peak.get(name, 0)):>10}")
