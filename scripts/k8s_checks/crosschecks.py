"""Cross-checks on rendered manifests, in the spirit of scripts/check_observability.py: what the
schemas cannot see (names that must point at something that exists)."""
import base64
import posixpath
import re

from .pods import by_kind, pods, selects

URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([A-Za-z0-9.-]+)(?::(\d+))?")
DEFAULT_PORTS = {"http": 80, "https": 443, "postgres": 5432, "postgresql": 5432, "grpc": 443}


def services_select_pods(documents):
    found = []
    for service in by_kind(documents, "Service"):
        name, selector = service["metadata"]["name"], service["spec"].get("selector")
        chosen = [p for p in pods(documents) if p.namespace == service["metadata"].get("namespace") and selects(selector, p.labels)]
        if not chosen:
            found.append(f"Service {name} selects no pod ({selector})")
            continue
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            if any(p.resolve_port(target) is None for p in chosen):
                found.append(f"Service {name} port {port['port']} targets {target!r}, not a declared container port")
    return found


def probes_on_declared_ports(documents):
    found = []
    for pod in pods(documents):
        for container in pod.containers():
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe = container.get(kind) or {}
                handler = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
                if handler and pod.resolve_port(handler["port"]) is None:
                    found.append(f"{pod.owner} {container['name']} {kind} on port {handler['port']!r}, not a declared container port")
    return found


def _key_value(documents, kind, name, key):
    for doc in by_kind(documents, kind):
        if doc["metadata"]["name"] == name:
            if kind == "Secret" and key in doc.get("data", {}):
                return base64.b64decode(doc["data"][key]).decode()
            return doc.get("data", {}).get(key, doc.get("stringData", {}).get(key))
    return None


def env_values(documents, container):
    """(name, value) of a container's env, Secret and ConfigMap references resolved."""
    for env in container.get("env", []):
        source = env.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            yield env["name"], _key_value(documents, "Secret", ref["name"], ref["key"])
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            yield env["name"], _key_value(documents, "ConfigMap", ref["name"], ref["key"])
        elif "value" in env:
            yield env["name"], env["value"]


def env_urls_name_services(documents):
    found = []
    services = {s["metadata"]["name"]: {p["port"] for p in s["spec"].get("ports", [])} for s in by_kind(documents, "Service")}
    for pod in pods(documents):
        for container in pod.containers():
            for name, value in env_values(documents, container):
                match = URL.match(value or "")
                if not match:
                    continue
                host = match.group(1).split(".")[0]
                scheme = value.split(":", 1)[0]
                port = int(match.group(2) or DEFAULT_PORTS.get(scheme, 0))
                if host not in services:
                    found.append(f"{pod.owner} {name}={value}: no Service named {host}")
                elif port not in services[host]:
                    found.append(f"{pod.owner} {name}={value}: Service {host} has no port {port}")
    return found


def references_exist(documents):
    """Every Secret or ConfigMap a pod names (env, volumes, volume items) exists with those keys."""
    found = []
    for pod in pods(documents):
        for container in pod.containers():
            for env in container.get("env", []):
                for kind, ref_name in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                    ref = env.get("valueFrom", {}).get(ref_name)
                    if ref and _key_value(documents, kind, ref["name"], ref["key"]) is None:
                        found.append(f"{pod.owner} env {env['name']}: {kind} {ref['name']} has no key {ref['key']}")
        for volume in pod.spec.get("volumes", []):
            source = volume.get("configMap") or volume.get("secret")
            if not source:
                continue
            kind = "ConfigMap" if "configMap" in volume else "Secret"
            name = source.get("name") or source.get("secretName")
            if not any(d["metadata"]["name"] == name for d in by_kind(documents, kind)):
                found.append(f"{pod.owner} volume {volume['name']}: no {kind} {name}")
            for item in source.get("items", []):
                if _key_value(documents, kind, name, item["key"]) is None:
                    found.append(f"{pod.owner} volume {volume['name']}: {kind} {name} has no key {item['key']}")
    return found


def _mounted_files(documents, pod):
    """Path -> content of what the pod's ConfigMap volumes put in its file system."""
    files = {}
    volumes = {v["name"]: v for v in pod.spec.get("volumes", [])}
    for container in pod.containers():
        for mount in container.get("volumeMounts", []):
            source = volumes.get(mount["name"], {}).get("configMap")
            if not source:
                continue
            cm = next((d for d in by_kind(documents, "ConfigMap") if d["metadata"]["name"] == source["name"]), {})
            items = source.get("items") or [{"key": k, "path": k} for k in cm.get("data", {})]
            for item in items:
                files[posixpath.join(mount["mountPath"], item["path"])] = cm.get("data", {}).get(item["key"])
    return files


IMPORT = re.compile(r"""^\s*import\s[^'"]*['"](\.{1,2}/[^'"]+)['"]""", re.M)


def script_imports_resolve(documents):
    """The TestRun's script exists where it says, and every relative import it makes (transitively)
    resolves in the mounted layout: a ConfigMap mounted flat would break `./lib/*.js`."""
    found = []
    for doc in by_kind(documents, "TestRun"):
        pod = next(p for p in pods(documents) if p.owner == f"TestRun/{doc['metadata']['name']}")
        files = _mounted_files(documents, pod)
        todo, seen = [doc["spec"]["script"].get("localFile")], set()
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            if files.get(path) is None:
                found.append(f"TestRun {doc['metadata']['name']}: {path} is not in the runner's file system")
                continue
            for relative in IMPORT.findall(files[path]):
                todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(path), relative)))
    return found


def hpa_targets(documents):
    """An HPA scales an existing Deployment that sets no replicas (or each apply would reset
    them) and requests the resource the HPA measures in percent."""
    found = []
    for hpa in by_kind(documents, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        target = next((d for d in by_kind(documents, ref["kind"]) if d["metadata"]["name"] == ref["name"]), None)
        if target is None:
            found.append(f"HPA {hpa['metadata']['name']}: no {ref['kind']} {ref['name']}")
            continue
        if "replicas" in target["spec"]:
            found.append(f"HPA {hpa['metadata']['name']}: {ref['name']} sets replicas, which fights the HPA")
        for metric in hpa["spec"].get("metrics", []):
            resource = metric.get("resource", {})
            if resource.get("target", {}).get("type") == "Utilization":
                for container in target["spec"]["template"]["spec"]["containers"]:
                    if resource["name"] not in container.get("resources", {}).get("requests", {}):
                        found.append(f"HPA {hpa['metadata']['name']}: {container['name']} requests no {resource['name']}")
    return found
