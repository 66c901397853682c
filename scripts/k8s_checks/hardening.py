"""Every pod hardened: numeric non-root user, seccomp RuntimeDefault, no service-account token;
every container read-only root, no capabilities, no privilege escalation, requests and limits."""
from .pods import pods


def _pod_problems(pod):
    found = []
    security = pod.spec.get("securityContext", {})
    if pod.spec.get("automountServiceAccountToken") is not False:
        found.append("mounts a service-account token")
    if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        found.append("seccomp is not RuntimeDefault")
    for container in pod.containers():
        own = container.get("securityContext", {})
        user = own.get("runAsUser", security.get("runAsUser"))
        if own.get("runAsNonRoot", security.get("runAsNonRoot")) is not True:
            found.append(f"{container['name']}: runAsNonRoot is not set")
        # runAsNonRoot cannot check a user *name* from the image (USER nonroot): it needs a number.
        if not isinstance(user, int) or user == 0:
            found.append(f"{container['name']}: no numeric non-root runAsUser")
        if own.get("readOnlyRootFilesystem") is not True:
            found.append(f"{container['name']}: root file system is writable")
        if own.get("allowPrivilegeEscalation") is not False:
            found.append(f"{container['name']}: privilege escalation allowed")
        if "ALL" not in own.get("capabilities", {}).get("drop", []):
            found.append(f"{container['name']}: capabilities not all dropped")
        resources = container.get("resources", {})
        for kind, needed in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
            missing = [r for r in needed if r not in resources.get(kind, {})]
            if missing:
                found.append(f"{container['name']}: no {kind} for {', '.join(missing)}")
    return found


def hardened(documents):
    return [f"{pod.owner}: {problem}" for pod in pods(documents) for problem in _pod_problems(pod)]


def service_probes(documents):
    """The four services: a startup probe, liveness on /healthz, readiness on /readyz."""
    found = []
    for pod in pods(documents):
        if pod.labels.get("leakstorm.dev/role") != "service":
            continue
        container = pod.containers()[0]
        expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
        for kind, path in expected.items():
            actual = (container.get(kind) or {}).get("httpGet", {}).get("path")
            if actual != path:
                found.append(f"{pod.owner}: {kind} is {actual!r}, want {path}")
    return found
