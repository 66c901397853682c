"""The pods a set of rendered documents would run: from Deployments, StatefulSets and k6-operator
TestRuns (whose runner pods the operator builds: labels app=k6, k6_cr=<name>, runner=true plus
spec.runner.metadata.labels; REST API on 6565)."""
from dataclasses import dataclass, field

WORKLOADS = ("Deployment", "StatefulSet")


@dataclass
class Pod:
    node: str  # the compose service this pod plays (app.kubernetes.io/name, or k6)
    owner: str  # kind/name
    namespace: str
    labels: dict
    spec: dict  # pod spec (for a TestRun: the runner spec, shaped like a pod spec)
    ports: dict = field(default_factory=dict)  # port name -> number, and number -> number

    def containers(self):
        return self.spec.get("containers", [])

    def resolve_port(self, port):
        return self.ports.get(port) if isinstance(port, str) else (port if port in self.ports.values() else None)


def _ports(containers):
    ports = {}
    for container in containers:
        for port in container.get("ports", []):
            ports[port["containerPort"]] = port["containerPort"]
            if "name" in port:
                ports[port["name"]] = port["containerPort"]
    return ports


def _testrun_pod(doc):
    runner = doc["spec"].get("runner", {})
    name = doc["metadata"]["name"]
    labels = {**runner.get("metadata", {}).get("labels", {}), "app": "k6", "k6_cr": name, "runner": "true"}
    container = {
        "name": "k6",
        "image": runner.get("image", "grafana/k6:latest"),
        "ports": [{"containerPort": 6565}],
        "env": runner.get("env", []),
        "resources": runner.get("resources", {}),
        "securityContext": runner.get("containerSecurityContext", {}),
        "volumeMounts": runner.get("volumeMounts", []),
    }
    spec = {
        "containers": [container],
        "volumes": runner.get("volumes", []),
        "securityContext": runner.get("securityContext", {}),
    }
    # A string in the TestRun ("false"), a boolean in a pod spec.
    if runner.get("automountServiceAccountToken") in ("true", "false"):
        spec["automountServiceAccountToken"] = runner["automountServiceAccountToken"] == "true"
    return Pod("k6", f"TestRun/{name}", doc["metadata"].get("namespace", "default"), labels, spec, _ports([container]))


def pods(documents):
    found = []
    for doc in documents:
        if doc.get("kind") in WORKLOADS:
            template = doc["spec"]["template"]
            labels = template.get("metadata", {}).get("labels", {})
            node = labels.get("app.kubernetes.io/name", doc["metadata"]["name"])
            spec = template["spec"]
            owner = f"{doc['kind']}/{doc['metadata']['name']}"
            found.append(Pod(node, owner, doc["metadata"].get("namespace", "default"), labels, spec, _ports(spec["containers"])))
        elif doc.get("kind") == "TestRun":
            found.append(_testrun_pod(doc))
    return found


def by_kind(documents, kind):
    return [d for d in documents if d.get("kind") == kind]


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
