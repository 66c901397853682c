#!/usr/bin/env python3
"""Offline checks for the Docker path's known traps (issue 9), each able to fail.

Static: the Dockerfile needs no frontend image and installs what the crates' build scripts run;
built services are never pulled; bind mounts carry SELinux labels; Postgres is probed over TCP;
slow starters have a start_period; the replay writes reports as the host user; the spanmetrics
histogram unit is the one Jaeger reads; k6 durations (seconds) are not labelled ms.
Behaviour: `make storm`'s exit-code mapping and the "may not use the Docker socket" message,
run for real against a stand-in command and a socket this user may not open.
"""
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
failures = []


def check(ok, message):
    print(("  ok    " if ok else "  FAIL  ") + message)
    if not ok:
        failures.append(message)


print("Dockerfile")
dockerfile = (ROOT / "Dockerfile").read_text()
check(not re.search(r"^#\s*syntax=", dockerfile, re.M), "no `# syntax=` line (it makes the engine pull a frontend image)")
apt_lines = " ".join(re.findall(r"apt-get install[^\n]*(?:\\\n[^\n]*)*", dockerfile))
if "tikv-jemalloc-sys" in (ROOT / "Cargo.lock").read_text():
    check(re.search(r"\bmake\b", apt_lines) is not None, "installs make (tikv-jemalloc-sys's build script runs it; rust slim has none)")

print("compose.yaml")
spec = yaml.safe_load((ROOT / "compose.yaml").read_text())
services = spec["services"]
for name, svc in services.items():
    if "build" in svc:
        check(svc.get("pull_policy") == "build", f"{name}: pull_policy build (a built image is never pulled)")
    for volume in svc.get("volumes", []):
        if isinstance(volume, str) and volume.startswith("./"):
            options = volume.split(":")[2].split(",") if volume.count(":") >= 2 else []
            check("z" in options or "Z" in options, f"{name}: bind mount {volume} is labelled for SELinux (:z)")
    health = svc.get("healthcheck")
    if health and name not in {"gateway", "payments", "risk", "ledger"}:
        check("start_period" in health, f"{name}: healthcheck has a start_period (slow first start)")
pg_test = " ".join(services["postgres"]["healthcheck"]["test"])
check(re.search(r"pg_isready\b.*-h\s+127\.0\.0\.1", pg_test) is not None, "postgres: healthy only once it answers on TCP (pg_isready -h 127.0.0.1)")
replay_user = str(services["replay"].get("user", ""))
makefile = (ROOT / "Makefile").read_text()
check("LEAKSTORM_UID" in replay_user and re.search(r"^export LEAKSTORM_UID", makefile, re.M) is not None,
      "replay runs as the host user (LEAKSTORM_UID exported by the Makefile)")

print("spanmetrics unit, collector and Jaeger")
collector = yaml.safe_load((ROOT / "otel-config/collector.yaml").read_text())
jaeger = yaml.safe_load((ROOT / "otel-config/jaeger.yaml").read_text())
unit = collector["connectors"]["spanmetrics"].get("histogram", {}).get("unit")
backend = next(iter(jaeger["extensions"]["jaeger_storage"]["metric_backends"].values()))["prometheus"]
check(unit in ("ms", "s"), f"collector pins the spanmetrics histogram unit ({unit})")
check(backend.get("latency_unit") == unit, f"Jaeger reads the same unit (latency_unit {backend.get('latency_unit')})")

print("Grafana: k6 durations are seconds")
for board_path in (ROOT / "grafana/provisioning/dashboards").glob("*.json"):
    for panel in json.loads(board_path.read_text())["panels"]:
        overrides = panel.get("fieldConfig", {}).get("overrides", [])
        for target in panel.get("targets", []):
            if not re.search(r"k6_\w*duration\w*", target.get("expr", "")):
                continue
            units = [p["value"] for o in overrides if o["matcher"].get("options") == target["refId"]
                     for p in o["properties"] if p["id"] == "unit"]
            unit = units[0] if units else panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
            ok = unit == "s" and "ms" not in target.get("legendFormat", "")
            check(ok, f"{board_path.name} / {panel['title']} / {target['refId']}: shown in s (unit {unit})")

print("make storm: k6's exit 99 (thresholds crossed) is the leak, not a failure")
with tempfile.TemporaryDirectory() as tmp:
    for code, expected in ((99, 0), (0, 0), (1, 1), (107, 107)):
        fake = pathlib.Path(tmp) / "compose"
        fake.write_text(f"#!/bin/sh\nexit {code}\n")
        fake.chmod(0o755)
        result = subprocess.run([ROOT / "scripts/storm.sh"], env={**os.environ, "COMPOSE": str(fake)}, capture_output=True, text=True)
        check(result.returncode == expected, f"k6 exit {code} -> make storm exit {result.returncode} (want {expected})")

print("need-docker: an engine the user may not use is named as such")
with tempfile.TemporaryDirectory() as tmp:
    os.chmod(tmp, 0o755)
    path = pathlib.Path(tmp) / "docker.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    os.chmod(path, 0o600)
    if os.geteuid() == 0:
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        env = {"PATH": os.environ["PATH"], "DOCKER_HOST": f"unix://{path}", "HOME": tmp}
        # A copy nobody can reach: the checkout may sit in a directory only root may enter.
        script = pathlib.Path(tmp) / "need-docker.sh"
        shutil.copy(ROOT / "scripts/need-docker.sh", script)
        script.chmod(0o755)
        result = subprocess.run([*as_nobody, script], env=env, capture_output=True, text=True)
        check(result.returncode == 1 and "docker group" in result.stderr, f"socket without permission: {result.stderr.strip()[:90]}")
    else:
        print("  skip  permission case needs root (to become another user)")
    server.close()
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp}/absent.sock"}
    result = subprocess.run([ROOT / "scripts/need-docker.sh"], env=env, capture_output=True, text=True)
    check(result.returncode == 1 and "No Docker engine answers" in result.stderr, f"no engine: {result.stderr.strip()[:90]}")

if failures:
    print(f"\n{len(failures)} check(s) failed")
    sys.exit(1)
print("\nall Docker path checks passed")
