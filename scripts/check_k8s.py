#!/usr/bin/env python3
"""Offline checks of the Kubernetes manifests (deploy/k8s), `make check-k8s`.

1. The copies of compose's files the generators read (deploy/k8s/**/files/) match their sources
   byte for byte (scripts/k8s_checks/sync_files.py, `make k8s-sync` rewrites them).
2. Every overlay renders with plain `kubectl kustomize`, as `kubectl apply -k` builds it.
3. The rendered manifests pass `kubernetes-validate --strict` for Kubernetes 1.32 and the newest
   version it bundles; the k6-operator TestRun, which it can only warn about, passes
   deploy/k8s/schemas/k6-testrun.schema.json.
4. Cross-checks: every Service selects a pod and targets a declared port, every probe port is
   declared, every env URL names an existing Service and port, every Secret/ConfigMap reference
   exists, pods are hardened, the fleet mirrors compose (images, env, risk's memory limit), the
   NetworkPolicies allow exactly the calls the compose fleet makes (plus DNS), the storm script's
   ./lib imports resolve in the runner, the HPA targets something it can scale.
5. Planted mistakes and drifted copies (scripts/k8s_checks/selftest.py) must each make their
   check fail.

Nothing here talks to a cluster.
"""
import pathlib
import shutil
import sys

import kubernetes_validate
import yaml

from k8s_checks import crosschecks, hardening, policies, render, selftest, sync_files, testrun_schema
from k8s_checks.compose_parity import ANY, parity
from k8s_checks.report import Report

ROOT = pathlib.Path(__file__).resolve().parent.parent
VERSIONS = ["1.32.0", kubernetes_validate.latest_version()]
# What an overlay changes on purpose, relative to compose (ANY: present, any value).
ENV_OVERRIDES = {
    "fixed": {"risk": {"RISK_MODE": "fixed"}},
    "storm": {"k6": {
        "RATE": ANY, "DURATION": ANY, "DEEP_SHARE": ANY,
        # Trends as native histograms, so percentiles add up across runners; per-runner p50/p99
        # series would not.
        "K6_PROMETHEUS_RW_TREND_STATS": None, "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM": "true",
    }},
}
# The storm is applied on top of a running fleet: check it together with one.
STORM_FLEET = "local"


def render_all(report):
    rendered = {}
    report.section("Render (plain kubectl kustomize, as kubectl apply -k)")
    for overlay in render.overlays(ROOT):
        documents, error = render.render(overlay)
        kinds = sorted({d["kind"] for d in documents or []})
        report.check(documents is not None, f"{overlay.name}: {len(documents or [])} objects ({', '.join(kinds)})", error)
        if documents is not None:
            rendered[overlay.name] = documents
    return rendered


def validate_all(report, rendered):
    report.section(f"kubernetes-validate --strict (Kubernetes {' and '.join(VERSIONS)})")
    for name, documents in rendered.items():
        for version in VERSIONS:
            code, lines = render.validate(documents, version)
            warnings = [line for line in lines if line.startswith("WARN")]
            errors = [line for line in lines if not line.startswith(("WARN", "INFO"))]
            report.check(code == 0, f"{name} @ {version}: {len(documents)} objects valid", "; ".join(errors))
            for warning in warnings:
                print(f"          {warning}")
            if any(d["kind"] == "TestRun" for d in documents):
                report.problems(f"{name} @ {version}: TestRun matches the k6-operator schema subset",
                                testrun_schema.problems(documents, version))


def cross_check(report, name, documents, compose):
    report.section(f"Cross-checks: {name}")
    report.problems("every Service selects a pod and targets a declared port", crosschecks.services_select_pods(documents))
    report.problems("every probe port is a declared container port", crosschecks.probes_on_declared_ports(documents))
    report.problems("every env URL names an existing Service and port", crosschecks.env_urls_name_services(documents))
    report.problems("every Secret and ConfigMap reference exists", crosschecks.references_exist(documents))
    report.problems("every pod hardened, with requests and limits", hardening.hardened(documents))
    report.problems("services probe /healthz (startup, liveness) and /readyz", hardening.service_probes(documents))
    overlay = name.split(" + ")[-1]
    report.problems("mirrors compose: images, environment, risk's mem_limit",
                    parity(documents, compose, ENV_OVERRIDES.get(overlay, {})))
    report.problems("NetworkPolicies allow exactly the compose fleet's calls", policies.policy_problems(documents, compose, ROOT))
    report.problems("every pod may resolve names (DNS)", policies.dns_problems(documents))
    report.problems("HPAs target a scalable Deployment", crosschecks.hpa_targets(documents))
    report.problems("the storm script's relative imports resolve in the runner", crosschecks.script_imports_resolve(documents))


def main():
    if not shutil.which("kubectl"):
        sys.exit("check-k8s needs kubectl (its built-in kustomize renders the overlays)")
    report = Report()
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    report.section("Copies in the kustomizations (deploy/k8s/**/files/)")
    report.problems("every copy matches its source in the repository", sync_files.problems(ROOT))
    rendered = render_all(report)
    validate_all(report, rendered)
    for name, documents in rendered.items():
        if name == "storm":
            cross_check(report, f"{STORM_FLEET} + storm", rendered[STORM_FLEET] + documents, compose)
        else:
            cross_check(report, name, documents, compose)
    report.section("Planted mistakes must fail the checks")
    if "storm" in rendered and STORM_FLEET in rendered:
        selftest.run_in_memory(report, rendered[STORM_FLEET] + rendered["storm"], compose, ROOT)
    selftest.run_in_files(report, ROOT, VERSIONS)
    report.section("Planted drift in the copies must fail the copy check")
    selftest.run_drift(report, ROOT)
    if report.failures:
        print(f"\n{len(report.failures)} check(s) failed")
        sys.exit(1)
    print("\nall Kubernetes checks passed")


if __name__ == "__main__":
    main()
