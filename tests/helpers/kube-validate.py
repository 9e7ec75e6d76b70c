#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks `supctl generate kube` output against the Kubernetes API offline.

  kube-validate.py yaml|json < OUTPUT

Reads YAML documents (or one JSON v1 List) and checks every object against the models of the
Kubernetes Python client (Debian's python3-kubernetes): every key must be a field of the API
object it sits in, every value of that field's type, and every required field present (the
client's own deserializer checks that). Quantities must parse, names must be DNS-1035 labels.
Prints the objects as one JSON array for the caller to check values; exits 1 on the first
problem, naming its path."""
import json
import re
import sys

import yaml
from kubernetes import client
from kubernetes.utils import parse_quantity

KINDS = {("apps/v1", "Deployment"): "V1Deployment", ("v1", "Service"): "V1Service"}
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


def fail(path, msg):
    print(f"kube-validate: {path}: {msg}", file=sys.stderr)
    sys.exit(1)


def check(value, typ, path):
    """Walks value as the client's type string typ ('V1PodSpec', 'list[V1Container]',
    'dict(str, str)', 'int', 'str', 'bool', 'object')."""
    if typ.startswith("list["):
        if not isinstance(value, list):
            fail(path, f"expected a list, got {value!r}")
        for i, v in enumerate(value):
            check(v, typ[5:-1], f"{path}[{i}]")
    elif typ.startswith("dict("):
        if not isinstance(value, dict):
            fail(path, f"expected a map, got {value!r}")
        inner = typ[5:-1].split(", ", 1)[1]
        for k, v in value.items():
            if not isinstance(k, str):
                fail(path, f"key {k!r} is not a string")
            check(v, inner, f"{path}.{k}")
    elif typ == "str":
        if not isinstance(value, str):
            fail(path, f"expected a string, got {value!r}")
    elif typ == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            fail(path, f"expected an integer, got {value!r}")
    elif typ == "bool":
        if not isinstance(value, bool):
            fail(path, f"expected a boolean, got {value!r}")
    elif typ == "object":  # IntOrString
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            fail(path, f"expected an integer or string, got {value!r}")
    else:
        cls = getattr(client, typ)
        if not isinstance(value, dict):
            fail(path, f"expected a {typ} object, got {value!r}")
        fields = {json_name: cls.openapi_types[py] for py, json_name in cls.attribute_map.items()}
        for k, v in value.items():
            if k not in fields:
                fail(path, f"'{k}' is not a field of {typ}")
            check(v, fields[k], f"{path}.{k}")


class FakeResponse:
    def __init__(self, obj):
        self.data = json.dumps(obj)


def validate(obj, path):
    kind = KINDS.get((obj.get("apiVersion"), obj.get("kind")))
    if not kind:
        fail(path, f"unexpected apiVersion/kind {obj.get('apiVersion')}/{obj.get('kind')}")
    check(obj, kind, path)
    try:  # required fields and enum checks of the client's models
        client.ApiClient().deserialize(FakeResponse(obj), kind)
    except ValueError as e:
        fail(path, str(e))
    if not DNS1035.match(obj["metadata"]["name"]):
        fail(path, f"metadata.name {obj['metadata']['name']!r} is not a DNS-1035 label")
    if kind == "V1Deployment":
        sel = obj["spec"]["selector"]["matchLabels"]
        labels = obj["spec"]["template"]["metadata"]["labels"]
        if any(labels.get(k) != v for k, v in sel.items()):
            fail(path, "spec.selector does not select the Pod template's labels")
        for c in obj["spec"]["template"]["spec"]["containers"]:
            if not c.get("image"):
                fail(path, f"container {c['name']!r} has no image")
            if not DNS1035.match(c["name"]):
                fail(path, f"container name {c['name']!r} is not a DNS-1035 label")
            for q in c.get("resources", {}).get("limits", {}).values():
                parse_quantity(q)
            for p in c.get("ports", []):
                if not 1 <= p["containerPort"] <= 65535 or p.get("protocol") not in ("TCP", "UDP", "SCTP"):
                    fail(path, f"bad container port {p!r}")
    else:
        names = [p.get("name") for p in obj["spec"]["ports"]]
        if len(names) > 1 and (None in names or len(set(names)) != len(names)):
            fail(path, "with several Service ports each needs a unique name")


def main():
    text = sys.stdin.read()
    if sys.argv[1] == "json":
        doc = json.loads(text)
        if doc.get("apiVersion") != "v1" or doc.get("kind") != "List":
            fail("$", "expected a v1 List")
        objs = doc["items"]
    else:
        if not text.startswith("---\n"):
            fail("$", "documents must start with ---")
        objs = [d for d in yaml.safe_load_all(text) if d is not None]
    for i, o in enumerate(objs):
        validate(o, f"[{i}]")
    json.dump(objs, sys.stdout)


main()
