#!/usr/bin/env python3
"""The copies of compose's configuration files inside the kustomizations, `make k8s-sync`.

kustomize's default load restrictor (the only one `kubectl apply -k` has) loads nothing from
outside a kustomization's directory, so the generators read copies under `<kustomization>/files/`.
A copy keeps its source's repository path: `deploy/k8s/base/files/prometheus/alerts.yml` copies
`prometheus/alerts.yml`. So the generators' entries are the only list of what is copied: this
derives every source from them, writes the copies (run as a script) and reports every copy that
differs from its source (`make check-k8s`). Byte for byte, so the ConfigMaps and their hash
suffixes are exactly the ones the sources give.

Run: scripts/k8s_checks/sync_files.py [ROOT]   (make k8s-sync)
"""
import difflib
import os
import pathlib
import shutil
import sys

import yaml

FILES = "files"
# Not a copy: says what the directory is, for whoever opens it there.
NOTE = "README.md"
FIX = "make k8s-sync"


def _kustomizations(root):
    return sorted((root / "deploy/k8s").glob("**/kustomization.yaml"))


def _entries(kustomization):
    """The paths every generator reads (files without their optional `key=`, and env files)."""
    spec = yaml.safe_load(kustomization.read_text()) or {}
    for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
        for entry in generator.get("files", []):
            yield entry.split("=", 1)[-1]
        yield from generator.get("envs", [])


def copies(root):
    """(copy, source, problem) for each generator path under files/, and a problem
    (None, None, message) for each path that reaches out of its kustomization."""
    for kustomization in _kustomizations(root):
        directory = kustomization.parent
        for path in _entries(kustomization):
            parts = pathlib.PurePosixPath(path).parts
            if ".." in parts:
                outside = pathlib.Path(os.path.normpath(directory / path)).relative_to(root).as_posix()
                yield None, None, (f"{kustomization.relative_to(root)}: {path} is outside the kustomization, "
                                   f"which `kubectl apply -k` refuses: list {FILES}/{outside} and run `{FIX}`")
            elif parts[0] == FILES:
                yield directory / path, root.joinpath(*parts[1:]), None
            # Anything else is a file of the kustomization's own, not a copy.


def _leftovers(root, listed):
    """Files under a files/ directory that no generator lists (an entry removed, a copy left)."""
    for kustomization in _kustomizations(root):
        tree = kustomization.parent / FILES
        yield from sorted(p for p in tree.rglob("*") if p.is_file() and p != tree / NOTE and p not in listed)


def _first_change(copy, source):
    """The first differing line, so the report shows what moved."""
    diff = difflib.unified_diff(copy.read_text(errors="replace").splitlines(),
                                source.read_text(errors="replace").splitlines(), n=0, lineterm="")
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    return f"; first change (- copy, + source): {changed[0][:100]!r}" if changed else ""


def problems(root):
    """Every copy that is missing, differs from its source or is left over, each with its fix."""
    root = pathlib.Path(root).resolve()
    found, listed = [], set()
    for copy, source, problem in copies(root):
        if problem:
            found.append(problem)
            continue
        listed.add(copy)
        name, origin = copy.relative_to(root), source.relative_to(root)
        if not source.is_file():
            found.append(f"{name}: its source {origin} does not exist")
        elif not copy.is_file():
            found.append(f"{name} is missing: run `{FIX}`")
        elif copy.read_bytes() != source.read_bytes():
            found.append(f"{name} differs from {origin}: edit {origin}, then run `{FIX}`{_first_change(copy, source)}")
    found += [f"{p.relative_to(root)} is used by no generator: run `{FIX}` (deletes it)" for p in _leftovers(root, listed)]
    return found


def sync(root):
    """Writes every copy that differs from its source and deletes left-over copies. Returns what it did."""
    root = pathlib.Path(root).resolve()
    done, listed = [], set()
    for copy, source, problem in copies(root):
        if problem:
            sys.exit(problem.replace(f" and run `{FIX}`", ", then run this again"))
        if not source.is_file():
            sys.exit(f"{copy.relative_to(root)}: its source {source.relative_to(root)} does not exist")
        listed.add(copy)
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
            done.append(f"wrote {copy.relative_to(root)} from {source.relative_to(root)}")
    for path in _leftovers(root, listed):
        path.unlink()
        done.append(f"deleted {path.relative_to(root)} (no generator uses it)")
    return done


if __name__ == "__main__":
    ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
    for line in sync(ROOT) or ["every copy under deploy/k8s/**/files matches its source"]:
        print(line)
