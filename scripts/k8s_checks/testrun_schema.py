"""The k6-operator's TestRun against deploy/k8s/schemas/k6-testrun.schema.json.

kubernetes-validate only warns on custom resources. The schema covers the TestRun fields this
project uses; its core types ($defs/io.k8s.*) come from the strict Kubernetes schemas that
kubernetes-validate bundles for the version being checked.
"""
import json
import pathlib

import jsonschema
import kubernetes_validate

SCHEMA = pathlib.Path(__file__).resolve().parents[2] / "deploy/k8s/schemas/k6-testrun.schema.json"


def schema_for(version):
    bundled = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    definitions = json.loads((bundled / f"v{version}-local-strict" / "_definitions.json").read_text())
    schema = json.loads(SCHEMA.read_text())
    schema["$defs"] = {**definitions["$defs"], **schema["$defs"]}
    return schema


def problems(documents, version):
    validator = jsonschema.Draft202012Validator(schema_for(version))
    found = []
    for doc in documents:
        if doc.get("kind") != "TestRun":
            continue
        for error in validator.iter_errors(doc):
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            found.append(f"TestRun {doc['metadata'].get('name')} {where}: {error.message[:200]}")
    return found
