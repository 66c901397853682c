"""The Kubernetes fleet mirrors compose.yaml: the same images, environment and risk's memory limit."""
import re

from .crosschecks import env_values
from .pods import pods

UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}
DEFAULTED = re.compile(r"\$\{[A-Z0-9_]+:-([^}]*)\}")
# Set by Kubernetes on purpose, absent from compose: the pod's identity for the trace store.
# An overlay may set these to any value (the storm's load knobs).
ANY = object()
K8S_ONLY_ENV = {"POD_NAME", "POD_NAMESPACE", "OTEL_RESOURCE_ATTRIBUTES", "PGDATA"}


def to_bytes(quantity):
    number, unit = re.fullmatch(r"([\d.]+)([A-Za-z]*)", str(quantity)).groups()
    return int(float(number) * UNITS[unit.lower()])


def compose_env(definition):
    """A compose service's environment with ${VAR:-default} taken at its default."""
    return {k: DEFAULTED.sub(r"\1", str(v)) for k, v in (definition.get("environment") or {}).items()}


def _pod_for(documents, node):
    return next((p for p in pods(documents) if p.node == node), None)


def parity(documents, compose, env_overrides):
    """Problems where a Kubernetes pod differs from its compose service. `env_overrides` maps
    service -> {VAR: value} the overlay changes on purpose (fixed: RISK_MODE=fixed); None drops
    a variable on purpose."""
    found = []
    for service, definition in compose["services"].items():
        pod = _pod_for(documents, service)
        if pod is None:
            continue
        container = pod.containers()[0]
        if container.get("image") != definition.get("image"):
            found.append(f"{service}: image {container.get('image')} but compose runs {definition.get('image')}")
        k8s_env = dict(env_values(documents, container))
        merged = {**compose_env(definition), **env_overrides.get(service, {})}
        wanted = {name: value for name, value in merged.items() if value is not None}
        for name, value in wanted.items():
            if name not in k8s_env:
                found.append(f"{service}: compose sets {name}, Kubernetes does not")
            elif value is not ANY and k8s_env[name] != value:
                found.append(f"{service}: {name}={k8s_env[name]!r}, compose has {value!r}")
        extra = set(k8s_env) - set(wanted) - K8S_ONLY_ENV
        if extra:
            found.append(f"{service}: env {sorted(extra)} not in compose")
        if "mem_limit" in definition:
            limit = container.get("resources", {}).get("limits", {}).get("memory")
            if limit is None or to_bytes(limit) != to_bytes(definition["mem_limit"]):
                found.append(f"{service}: memory limit {limit}, compose mem_limit {definition['mem_limit']}")
    return found
