#!/usr/bin/env python3
"""`make rehearsal`: the Docker path run for real, through the real Makefile targets, on the local
engine with stand-in images (scripts/rehearsal/standins.sh). Every step is timed and checked; the
summary is printed and written to reports/rehearsal-<time>.json. It stops by itself and always
ends with `make down`. Knobs: REHEARSAL_RATE, REHEARSAL_STORM (k6 duration), REPLAY_PROFILE.
"""
import datetime
import json
import os
import pathlib
import socket
import sys
import time

from kit import (AlertWatch, FiredAlerts, PeakMemory, StepFailed, container_memory, get_json, print_table,
                 sh, wait_for)
from promql_check import PromqlWatch

# The other leak scenarios' storms for the alert and panel checks: (scenario, k6 settings, seconds
# to wait after the storm for its alert and every query's data). Orphaned loops never end, so they
# come last; their loops leak on the path of payments that end in review (deep-scored ones).
SCENARIO_STORMS = (
    ("blocking-pileup", {"DURATION": "40s", "DEEP_SHARE": "0.2", "LARGE_SHARE": "0"}, 60),
    ("held-connection", {"DURATION": "40s", "DEEP_SHARE": "0", "LARGE_SHARE": "1"}, 60),
    ("unbounded-queue", {"DURATION": "45s", "DEEP_SHARE": "0", "LARGE_SHARE": "0"}, 60),
    ("orphaned-loop", {"DURATION": "40s", "DEEP_SHARE": "0.2", "LARGE_SHARE": "0"}, 60),
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
os.chdir(ROOT)
FILES = "compose.yaml:scripts/rehearsal/compose.rehearsal.yaml"
ENV = {**os.environ, "COMPOSE_FILE": FILES, "RATE": os.environ.get("REHEARSAL_RATE", "20"),
       "DURATION": os.environ.get("REHEARSAL_STORM", "45s"), "REPLAY_PROFILE": os.environ.get("REPLAY_PROFILE", "quick")}


def free_port(usual):
    """The usual port if nothing listens on it, else one the kernel picks."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", usual))
            return usual
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]


PORTS = {"REHEARSAL_GATEWAY_PORT": free_port(8080), "REHEARSAL_JAEGER_PORT": free_port(16686),
         "REHEARSAL_PROMETHEUS_PORT": free_port(9090)}
ENV.update({k: str(v) for k, v in PORTS.items()})
PROM = f"http://127.0.0.1:{PORTS['REHEARSAL_PROMETHEUS_PORT']}"
JAEGER = f"http://127.0.0.1:{PORTS['REHEARSAL_JAEGER_PORT']}"
HEALTHCHECKED = {"postgres", "ledger", "risk", "payments", "gateway", "jaeger", "prometheus"}
steps, figures = [], {"images": {}, "memory_idle": {}, "memory_peak": {}}


def step(name):
    """Runs the decorated function as a timed step; a failure is recorded and re-raised."""
    def wrap(fn):
        started, detail, result = time.monotonic(), "", "ok"
        print(f"\n== {name} ==", flush=True)
        try:
            detail = fn() or ""
        except (StepFailed, Exception) as err:  # every failure ends up in the summary
            result, detail = "FAIL", str(err)[:300]
        steps.append({"step": name, "result": result, "seconds": round(time.monotonic() - started, 1), "detail": detail})
        print(f"-- {name}: {result} {detail}", flush=True)
        if result != "ok":
            raise StepFailed(name)
    return wrap


def make(target, env=None, **extra):
    run_env = {**(env or ENV), **extra}
    print(f"$ make {target}", flush=True)
    return sh(f"make --no-print-directory {target}", env=run_env, capture=False)


def compose_states():
    out = sh("docker compose ps --all --format json", env=ENV).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {r["Service"]: (r["State"], r.get("Health", "")) for r in rows}


def alerts(name):
    data = get_json(f"{PROM}/api/v1/alerts")["data"]["alerts"]
    return [a["state"] for a in data if a["labels"].get("alertname") == name]


def risk_mode():
    out = sh("docker compose run --rm --no-deps --entrypoint /usr/local/bin/leakstorm replay mode --risk-url http://risk:8082",
             env=ENV).stdout.strip()
    return out.splitlines()[-1] if out else ""


def hosts():
    """Each scenario's host service, from the CLI's catalog (not a copy of the list)."""
    out = sh("target/debug/leakstorm scenario --catalog", check=True).stdout
    return {entry["scenario"]: entry["host"] for entry in json.loads(out)}


def run():
    host = hosts()

    @step("stand-in images")
    def _():
        sh("scripts/rehearsal/standins.sh", check=True, capture=False)

    sh("docker compose --profile storm --profile replay down --volumes --remove-orphans", env=ENV)

    cold = sh("docker image inspect leakstorm/gateway:dev").returncode != 0

    @step("make up" + (" (cold build)" if cold else ""))
    def _():
        if make("up").returncode != 0:
            raise StepFailed("make up failed")
        states = compose_states()
        bad = {s: st for s, st in states.items() if st[0] != "running" or (s in HEALTHCHECKED and st[1] != "healthy")}
        if bad or not HEALTHCHECKED <= set(states):
            raise StepFailed(f"not all healthy: {states}")
        figures["memory_idle"] = container_memory()
        built = "images built from nothing" if cold else "images from the build cache"
        return f"{len(states)} containers running, {len(HEALTHCHECKED)} healthchecks healthy; {built}"

    @step("make storm (leaky)")
    def _():
        with (PeakMemory() as peak, AlertWatch(PROM, "DetachedTaskLeak") as leak_alert,
              PromqlWatch(PROM, "detached-spawn") as panels, FiredAlerts(PROM) as fired):
            status = make("storm").returncode
            # The alert needs `for: 15s` above threshold; leaked work outlives the storm by 30 s.
            wait_for("DetachedTaskLeak firing for risk", lambda: "risk" in leak_alert.fired, 90)
            try:
                wait_for("every detached-spawn panel and alert query returning data", panels.all_seen, 60)
            except StepFailed:
                raise StepFailed(f"no data from {panels.missing()}") from None
        figures["memory_peak"] = peak.peak
        figures["leak_alert_jobs"] = sorted(leak_alert.active)
        if status != 0:
            raise StepFailed(f"make storm exited {status} in leaky mode")
        # Only the service that leaks: its callers' connection tasks are not leaked work.
        if leak_alert.active != {"risk"}:
            raise StepFailed(f"DetachedTaskLeak pending or firing for {sorted(leak_alert.active)}, want risk only")
        if fired.foreign("detached-spawn", host["detached-spawn"]):
            raise StepFailed(f"other alerts fired during the detached-spawn storm: {fired.foreign('detached-spawn', 'risk')}")
        return (f"rate {ENV['RATE']}/s for {ENV['DURATION']}; DetachedTaskLeak fired for "
                f"{sorted(leak_alert.fired)} and no other alert naming a cause; heap alert {alerts('HeapGrowthToLimit')}; "
                f"{len(panels.seen)} detached-spawn panel and alert queries returned data")

    @step("traces via Jaeger API")
    def _():
        services = set(get_json(f"{JAEGER}/api/services")["data"] or [])
        if not {"gateway", "payments", "risk", "ledger"} <= services:
            raise StepFailed(f"services in the trace store: {sorted(services)}")
        traces = get_json(f"{JAEGER}/api/traces?service=gateway&limit=50&lookback=1h")["data"]
        deepest = max((len({p['serviceName'] for p in t['processes'].values()}) for t in traces), default=0)
        if not traces or deepest < 3:
            raise StepFailed(f"{len(traces)} gateway traces, at most {deepest} services in one")
        return f"{len(traces)} gateway traces read, up to {deepest} services per trace"

    @step("make fix, alerts resolve")
    def _():
        if make("fix").returncode != 0 or risk_mode() != "fixed":
            raise StepFailed("risk is not in fixed mode after make fix")
        wait_for("DetachedTaskLeak resolved", lambda: "firing" not in alerts("DetachedTaskLeak"), 240, every_s=5)
        return "risk fixed; DetachedTaskLeak no longer firing"

    @step("scenarios: each fires its own alert, and only it")
    def _():
        checked = []
        for scenario, storm, wait_s in SCENARIO_STORMS:
            status = make("scenario", NAME=scenario, MODE="leaky").returncode
            if status != 0:
                raise StepFailed(f"make scenario NAME={scenario} MODE=leaky exited {status}")
            with PromqlWatch(PROM, scenario) as queries, FiredAlerts(PROM) as fired:
                status = make("storm", **storm).returncode
                # 99: k6's thresholds crossed, as a leaky storm does; anything else is a failure.
                if status not in (0, 99):
                    raise StepFailed(f"{scenario}: make storm exited {status}")
                try:
                    wait_for(f"{scenario}: its alert for {host[scenario]} and every query's data",
                             lambda: fired.own_fired(scenario, host[scenario]) and queries.all_seen(), wait_s)
                except StepFailed:
                    raise StepFailed(f"{scenario}: alert fired {fired.own_fired(scenario, host[scenario])}, "
                                     f"no data from {queries.missing()}") from None
            if fired.foreign(scenario, host[scenario]):
                raise StepFailed(f"{scenario}: other alerts fired: {fired.foreign(scenario, host[scenario])}")
            status = make("scenario", NAME=scenario, MODE="fixed").returncode
            if status != 0:
                raise StepFailed(f"make scenario NAME={scenario} MODE=fixed exited {status}: "
                                 "the next storm would run against a leaky mode")
            checked.append(f"{scenario} ({len(queries.seen)} queries)")
        return "own alert fired for its host, no other cause alert; queries with data: " + ", ".join(checked)

    @step("make replay (quick)")
    def _():
        # The host user owns ./reports with mode 0755, as `mkdir` leaves it; as root, a stand-in
        # uid plays that user, so writing as the image's uid 65532 would fail here too.
        uid = int(os.environ.get("REHEARSAL_UID", "4242")) if os.getuid() == 0 else os.getuid()
        reports = ROOT / "reports"
        reports.mkdir(exist_ok=True)
        os.chown(reports, uid, uid)
        reports.chmod(0o755)
        make("break")
        before = {p.name for p in reports.iterdir()}
        status = make("replay", LEAKSTORM_UID=str(uid), LEAKSTORM_GID=str(uid)).returncode
        os.chown(reports, os.getuid(), os.getgid())
        new = [p for p in reports.iterdir() if p.name not in before and p.is_dir()]
        if status != 0 or not new:
            raise StepFailed(f"make replay exited {status}, new report dirs {new}")
        report = new[0] / "report.json"
        owner = report.stat().st_uid
        verdict = json.loads(report.read_text())["verdict"]
        sh(f"chown -R {os.getuid()}:{os.getgid()} {new[0]}")
        mode = risk_mode()
        problems = [m for m, bad in (
            (f"report owned by uid {owner}, not {uid}", owner != uid),
            (f"verdict {verdict}", not (verdict["leak_reproduced"] and verdict["fix_verified"])),
            (f"risk left in {mode} mode, was leaky", mode != "leaky"))
            if bad]
        if problems:
            raise StepFailed("; ".join(problems))
        return f"{new[0].relative_to(ROOT)}: leak reproduced, fix verified; written as uid {uid}; risk back to leaky"

    @step("restart without OOM")
    def _():
        pid = sh("docker inspect -f '{{.State.Pid}}' $(docker compose ps -q risk)", env=ENV, check=True).stdout.strip()
        sh(f"kill -9 {pid}", check=True)
        wait_for("risk restarted and healthy", lambda: compose_states().get("risk") == ("running", "healthy"), 120)
        out = make_ps()
        if "OOM-killed" in out or "not for memory" not in out:
            raise StepFailed(f"make ps says: {out}")
        return out

    @step("OOM round")
    def _():
        oom_env = {**ENV, "COMPOSE_FILE": FILES + ":scripts/rehearsal/compose.oom.yaml"}
        sh("docker compose up --detach --wait risk", env=oom_env, check=True)
        limit = sh("docker inspect -f '{{.HostConfig.Memory}}' $(docker compose ps -q risk)", env=oom_env).stdout.strip()
        make("storm", env=oom_env, DURATION=os.environ.get("REHEARSAL_OOM_STORM", "30s"), RATE="30")
        out = wait_for("make ps names the OOM kill", lambda: (lambda o: "OOM-killed" in o and o)(make_ps()), 60)
        return f"risk limit {int(limit) // 2**20} MiB; {out}"

    @step("make down")
    def _():
        if make("down").returncode != 0 or any(s for s in compose_states()):
            raise StepFailed(f"left running: {compose_states()}")


def make_ps():
    out = sh("make --no-print-directory ps", env=ENV).stdout
    return next((line for line in out.splitlines() if line.startswith("risk")), out[-200:]).strip()


def image_sizes():
    names = [line.split()[0] for line in (ROOT / "docker/standins/images.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    names += [f"leakstorm/{s}:dev" for s in ("gateway", "payments", "risk", "ledger", "replay")]
    for name in names:
        size = sh(f"docker image inspect -f '{{{{.Size}}}}' {name}").stdout.strip()
        if size.isdigit():
            figures["images"][name] = int(size)


def main():
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        run()
    except StepFailed:
        pass
    finally:
        if not steps or steps[-1]["step"] != "make down":
            sh("docker compose --profile storm --profile replay down --remove-orphans", env=ENV, capture=False)
    image_sizes()
    print_table(steps, figures["images"], figures["memory_idle"], figures["memory_peak"])
    out = ROOT / "reports" / f"rehearsal-{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    settings = {k: ENV[k] for k in ("RATE", "DURATION", "REPLAY_PROFILE", *PORTS)}
    out.write_text(json.dumps({"started_at": started.isoformat(), "settings": settings,
                               "steps": steps, **figures}, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    failed = [s for s in steps if s["result"] != "ok"]
    print(f"rehearsal: {len(steps) - len(failed)} passed, {len(failed)} failed")
    # Repeated last, where a truncated CI log still shows it.
    for s in failed:
        print(f"  failed: {s['step']}: {s['detail']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
