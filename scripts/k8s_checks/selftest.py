"""Planted mistakes: each must make the check that guards against it fail. If one stops failing,
the check has stopped catching that kind of mistake, and `make check-k8s` fails."""
import copy
import pathlib
import shutil
import tempfile

from . import crosschecks, hardening, policies, render, sync_files, testrun_schema
from .compose_parity import parity


def _find(documents, kind, name):
    return next(d for d in documents if d.get("kind") == kind and d["metadata"]["name"] == name)


def _container(documents, name):
    return _find(documents, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


def _drop_payments_to_ledger(documents):
    egress = _find(documents, "NetworkPolicy", "payments")["spec"]["egress"]
    egress[:] = [r for r in egress if r["ports"][0]["port"] != 8083]


def _let_grafana_into_postgres(documents):
    rule = _find(documents, "NetworkPolicy", "postgres")["spec"]["ingress"][0]
    rule["from"].append({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "grafana"}}})
    _find(documents, "NetworkPolicy", "grafana")["spec"]["egress"].append(
        {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}}}], "ports": [{"port": 5432}]}
    )


def _set_env(documents, service, name, value):
    for env in _container(documents, service)["env"]:
        if env["name"] == name:
            env["value"] = value


def _mount_scripts_flat(documents):
    runner = _find(documents, "TestRun", "storm")["spec"]["runner"]
    for volume in runner["volumes"]:
        volume.get("configMap", {}).pop("items", None)


# (what is planted, how, which check must then fail)
IN_MEMORY = [
    ("a Service selecting no pod", lambda d: _find(d, "Service", "risk")["spec"]["selector"].update({"app.kubernetes.io/name": "riks"}),
     lambda d, c, r: crosschecks.services_select_pods(d)),
    ("a probe on an undeclared port", lambda d: _container(d, "risk")["readinessProbe"]["httpGet"].update(port="htp"),
     lambda d, c, r: crosschecks.probes_on_declared_ports(d)),
    ("a NetworkPolicy missing a call (payments -> ledger)", _drop_payments_to_ledger,
     lambda d, c, r: policies.policy_problems(d, c, r)),
    ("a NetworkPolicy allowing a call compose never makes (grafana -> postgres)", _let_grafana_into_postgres,
     lambda d, c, r: policies.policy_problems(d, c, r)),
    ("an env URL naming no Service", lambda d: _set_env(d, "gateway", "PAYMENTS_URL", "http://payment:8081"),
     lambda d, c, r: crosschecks.env_urls_name_services(d)),
    ("risk's memory limit drifting from compose", lambda d: _container(d, "risk")["resources"]["limits"].update(memory="2Gi"),
     lambda d, c, r: parity(d, c, {})),
    ("a writable root file system", lambda d: _container(d, "ledger")["securityContext"].pop("readOnlyRootFilesystem"),
     lambda d, c, r: hardening.hardened(d)),
    ("the storm's scripts mounted flat", _mount_scripts_flat,
     lambda d, c, r: crosschecks.script_imports_resolve(d)),
]


def run_in_memory(report, documents, compose, root):
    for what, plant, guard in IN_MEMORY:
        broken = copy.deepcopy(documents)
        plant(broken)
        found = guard(broken, compose, root)
        report.check(bool(found), f"catches {what}", "NOT CAUGHT")
        if found:
            print(f"          -> {found[0]}")


def _copy_of_repo(root, tmp):
    """deploy/ copied; the directories its files/ copies come from linked, at the same paths."""
    shutil.copytree(pathlib.Path(root) / "deploy", pathlib.Path(tmp) / "deploy")
    for shared in ("otel-config", "prometheus", "grafana", "k6"):
        (pathlib.Path(tmp) / shared).symlink_to(pathlib.Path(root) / shared)


def _misspell(path, right, wrong):
    text = path.read_text()
    assert right in text, f"{right} not in {path}"
    path.write_text(text.replace(right, wrong, 1))


# (file under deploy/k8s, right text, misspelling, overlay to render, which check must catch it)
IN_FILES = [
    ("base/fleet/service-common.yaml", "readinessProbe:", "readinesProbe:", "local", "kubernetes-validate"),
    ("overlays/storm/testrun.yaml", "  parallelism:", "  paralellism:", "storm", "TestRun schema"),
    ("overlays/storm/testrun.yaml", "readOnlyRootFilesystem:", "readOnlyRootFileSystem:", "storm", "TestRun schema"),
]


def _caught(guard, documents, version):
    if guard == "kubernetes-validate":
        code, lines = render.validate(documents, version)
        return [line for line in lines if line.startswith("ERROR")] or ([] if code == 0 else [f"exit {code}"])
    return testrun_schema.problems(documents, version)


def run_in_files(report, root, versions):
    """Misspelled fields in the YAML files themselves, rendered by kustomize like the real ones."""
    for path, right, wrong, overlay, guard in IN_FILES:
        with tempfile.TemporaryDirectory() as tmp:
            _copy_of_repo(root, tmp)
            k8s = pathlib.Path(tmp) / "deploy/k8s"
            _misspell(k8s / path, right, wrong)
            documents, error = render.render(k8s / "overlays" / overlay)
            if documents is None:
                report.check(False, f"{wrong.strip()} in {path} still renders", error)
                continue
            for version in versions:
                found = _caught(guard, documents, version)
                report.check(bool(found), f"{guard} {version} rejects {wrong.strip(' :')} in {path}", "NOT CAUGHT")
                if found:
                    print(f"          -> {found[0][:170]}")



def _append(path, text):
    with open(path, "a") as file:
        file.write(text)


def _change_source(tmp, root):
    # The source directory becomes a real copy first: the change must never reach the repository.
    (tmp / "otel-config").unlink()
    shutil.copytree(root / "otel-config", tmp / "otel-config")
    _append(tmp / "otel-config/collector.yaml", "# changed for compose, not synced\n")


BASE, STORM = "deploy/k8s/base", "deploy/k8s/overlays/storm"
# (what is planted, how, a path the failure must name, whether `make k8s-sync` repairs it)
DRIFT = [
    ("a copy edited by hand", lambda t, r: _append(t / BASE / "files/prometheus/alerts.yml", "# tuned for the cluster only\n"),
     f"{BASE}/files/prometheus/alerts.yml", True),
    ("a source changed without syncing", _change_source, f"{BASE}/files/otel-config/collector.yaml", True),
    ("a copy missing", lambda t, r: (t / STORM / "files/k6/lib/config.js").unlink(), f"{STORM}/files/k6/lib/config.js", True),
    ("a copy no generator uses", lambda t, r: _append(t / BASE / "files/prometheus/old-alerts.yml", "groups: []\n"),
     f"{BASE}/files/prometheus/old-alerts.yml", True),
    ("a generator reading outside its kustomization again",
     lambda t, r: _misspell(t / BASE / "kustomization.yaml", "=files/otel-config/jaeger.yaml", "=../../../otel-config/jaeger.yaml"),
     "../../../otel-config/jaeger.yaml", False),
]


def run_drift(report, root):
    """Copies in files/ drifting from compose's files, planted in a temporary copy of the tree."""
    root = pathlib.Path(root)
    for what, plant, named, repairable in DRIFT:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = pathlib.Path(tmp)
            _copy_of_repo(root, tmp)
            plant(tmp, root)
            found = [p for p in sync_files.problems(tmp) if named in p]
            report.check(bool(found), f"catches {what}", "NOT CAUGHT")
            if found:
                print(f"          -> {found[0][:260]}")
            if repairable:
                sync_files.sync(tmp)
                report.problems(f"`make k8s-sync` repairs {what}", sync_files.problems(tmp))
            else:
                # The restrictor check itself: the plain render must refuse what `kubectl apply -k` would.
                documents, error = render.render(tmp / "deploy/k8s/overlays/local")
                report.check(documents is None, "plain `kubectl kustomize` refuses it too", "RENDERED")
                if documents is None:
                    print(f"          -> {error.splitlines()[-1][-200:]}")
