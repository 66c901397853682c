"""NetworkPolicies against the calls the compose fleet makes.

Expected calls are read from compose.yaml, not written down a second time: every `host:port` in a
service's environment or in the config files compose mounts into it, where `host` is another
compose service. The calls the policies allow are computed from the rendered NetworkPolicies
(podSelector, namespaceSelector, ports by number or name), both sides: the caller's egress and
the callee's ingress. The two sets must be equal.
"""
import pathlib
import re

from .pods import Pod, by_kind, pods, selects

# `replay` is compose's one-off report runner; the Kubernetes fleet has no replay (docs/kubernetes.md).
COMPOSE_ONLY = {"replay"}
# The k6-operator's own traffic, which compose has no counterpart for: the starter and the
# runners' REST API on 6565.
OPERATOR_CALLS = {("k6", "k6", 6565)}
KUBE_DNS = Pod("kube-dns", "kube-dns", "kube-system", {"k8s-app": "kube-dns"}, {}, {53: 53})


def compose_calls(compose, root):
    names = set(compose["services"]) - COMPOSE_ONLY
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, sorted(names))) + r"):(\d+)\b")
    calls = set()
    for caller in names:
        definition = compose["services"][caller]
        texts = [str(v) for v in (definition.get("environment") or {}).values()]
        for volume in definition.get("volumes") or []:
            source = pathlib.Path(root) / str(volume).split(":")[0]
            if str(volume).startswith("./") and source.exists():
                files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
                texts += [f.read_text() for f in files]
        for text in texts:
            calls |= {(caller, host, int(port)) for host, port in pattern.findall(text) if host != caller}
    return calls


def _namespace_labels(documents, namespace):
    ns = next((d for d in by_kind(documents, "Namespace") if d["metadata"]["name"] == namespace), {})
    return {**ns.get("metadata", {}).get("labels", {}), "kubernetes.io/metadata.name": namespace}


def _peer_matches(documents, peer, policy_namespace, pod):
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        ns_selector = peer["namespaceSelector"].get("matchLabels", {})
        if ns_selector and not selects(ns_selector, _namespace_labels(documents, pod.namespace)):
            return False
    elif pod.namespace != policy_namespace:
        return False
    pod_selector = peer.get("podSelector", {}).get("matchLabels", {})
    return not pod_selector or selects(pod_selector, pod.labels)


def _port_matches(rule_ports, pod, port, protocol):
    if not rule_ports:
        return True
    for entry in rule_ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        number = pod.resolve_port(entry["port"]) if "port" in entry else port
        if number is not None and number <= port <= entry.get("endPort", number):
            return True
    return False


def _allows(documents, subject, peer_pod, port, direction, protocol="TCP"):
    """Whether the policies isolating `subject` in `direction` let it talk to `peer_pod` on port."""
    key, peers = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    port_owner = peer_pod if direction == "Egress" else subject
    isolating = [
        p for p in by_kind(documents, "NetworkPolicy")
        if p["metadata"].get("namespace") == subject.namespace
        and direction in _policy_types(p["spec"])
        and selects_all_or(p["spec"].get("podSelector", {}).get("matchLabels", {}), subject.labels)
    ]
    if not isolating:
        return True
    for policy in isolating:
        for rule in policy["spec"].get(key) or []:
            peer_ok = not rule.get(peers) or any(
                _peer_matches(documents, peer, policy["metadata"].get("namespace"), peer_pod) for peer in rule[peers]
            )
            if peer_ok and _port_matches(rule.get("ports"), port_owner, port, protocol):
                return True
    return False


def _policy_types(spec):
    # Kubernetes' default: Ingress always, Egress when the policy has egress rules.
    return spec.get("policyTypes") or ["Ingress"] + (["Egress"] if "egress" in spec else [])


def selects_all_or(selector, labels):
    return not selector or selects(selector, labels)


def allowed_calls(documents):
    fleet = pods(documents)
    calls = set()
    for caller in fleet:
        for callee in fleet:
            for port in set(callee.ports.values()):
                if _allows(documents, caller, callee, port, "Egress") and _allows(documents, callee, caller, port, "Ingress"):
                    calls.add((caller.node, callee.node, port))
    return calls


def expected_calls(documents, compose, root):
    present = {p.node for p in pods(documents)}
    wanted = compose_calls(compose, root) | OPERATOR_CALLS
    return {c for c in wanted if c[0] in present and c[1] in present}


def policy_problems(documents, compose, root):
    allowed, expected = allowed_calls(documents), expected_calls(documents, compose, root)
    found = [f"compose calls {a} -> {b}:{p}, the NetworkPolicies block it" for a, b, p in sorted(expected - allowed)]
    found += [f"the NetworkPolicies allow {a} -> {b}:{p}, which compose never calls" for a, b, p in sorted(allowed - expected)]
    return found


def dns_problems(documents):
    return [
        f"{pod.owner} cannot resolve names (no egress to kube-dns on UDP 53)"
        for pod in pods(documents)
        if not _allows(documents, pod, KUBE_DNS, 53, "Egress", protocol="UDP")
    ]
