"""Rendering the overlays with kubectl's kustomize, and kubernetes-validate on the result."""
import pathlib
import subprocess
import sys
import tempfile

import yaml

# Plain, with kustomize's default load restrictor, exactly as `kubectl apply -k` builds: a
# generator that reads a file from outside its kustomization fails here as it would for a user.
KUSTOMIZE = ["kubectl", "kustomize"]


def render(directory):
    """Returns (documents, error text); documents is None when kustomize failed."""
    result = subprocess.run([*KUSTOMIZE, str(directory)], capture_output=True, text=True)
    if result.returncode != 0:
        return None, result.stderr.strip()
    return [d for d in yaml.safe_load_all(result.stdout) if d], ""


def validate(documents, version):
    """kubernetes-validate --strict on the rendered documents: (exit code, output lines)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as rendered:
        yaml.safe_dump_all(documents, rendered, sort_keys=False)
        rendered.flush()
        result = subprocess.run(
            # The `kubernetes-validate` command, run by this interpreter (no PATH or shim needed).
            [sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet", "-k", version, rendered.name],
            capture_output=True, text=True,
        )
    lines = [line.replace(rendered.name, "<rendered>") for line in (result.stdout + result.stderr).splitlines()]
    return result.returncode, lines


def overlays(root):
    return sorted(p for p in (pathlib.Path(root) / "deploy/k8s/overlays").iterdir() if (p / "kustomization.yaml").exists())
