"""The preview's artifacts, derived from masked resource entries only (so no secret can reach
a file by another path), keyed by path relative to the output directory.

Generic by type token: any `kubernetes:<group>/<version>:<Kind>` becomes a manifest, any
ConfigMap's data entries become files, any IAM-style policy input becomes a JSON document.
Deterministic: keys sorted, lists kept in program order, no timestamps or absolute paths.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from tools.offline.records import StackRun
from tools.preview.masking import Masker

GENERATED_FILES = ("resources.json", "cost.json", "summary.md", "policy.json")
GENERATED_DIRS = ("manifests", "iam", "config", "rules")
CLUSTER_SCOPE = "_cluster"
# kinds that live outside namespaces; a namespaced object without a namespace goes to `default`
CLUSTER_SCOPED_KINDS = frozenset({
    "APIService", "CSIDriver", "CSINode", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "IngressClass", "IngressClassParams", "MutatingWebhookConfiguration", "Namespace", "Node", "PersistentVolume", "PriorityClass",
    "RuntimeClass", "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration", "VolumeAttachment", "FlowSchema", "PriorityLevelConfiguration",
})
# (type prefix or token, input keys holding a policy document)
POLICY_INPUTS = (
    ("aws:iam/", ("assumeRolePolicy", "policy")),
    ("aws:s3/bucketPolicy:BucketPolicy", ("policy",)),
    ("aws:kms/key:Key", ("policy",)),
    ("aws:kms/keyPolicy:KeyPolicy", ("policy",)),
)


# entries

def entries(run: StackRun, masker: Masker) -> list[dict[str, Any]]:
    """Every resource as written to resources.json, sorted by URN, inputs masked."""
    return [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "custom": r.custom,
            "inputs": sort_keys(masker.inputs(r)),
            "dependencies": sorted(r.dependencies),
            # resource options that decide a destroy or an update (tools.preview.teardown, tools.offline.updates)
            **({"protect": True} if r.protect else {}),
            **({"replaceOnChanges": r.replace_on_changes} if r.replace_on_changes else {}),
            **({"deleteBeforeReplace": True} if r.delete_before_replace else {}),
        }
        for r in sorted(run.resources, key=lambda r: r.urn)
    ]


def is_kubernetes_object(entry: dict[str, Any]) -> bool:
    """A Kubernetes object of the cluster (not a provider, component, or Helm release)."""
    type_ = entry["type"]
    if not type_.startswith("kubernetes:") or not entry.get("custom", True):
        return False
    module = type_.split(":")[1]
    if module.split("/")[0] in ("helm.sh", "yaml", "kustomize"):
        return False
    # `kubernetes:<group>/<version>:<Kind>`, or a generic CustomResource carrying its own apiVersion/kind
    return "/" in module or bool(entry["inputs"].get("apiVersion") and entry["inputs"].get("kind"))


def api_version_kind(type_: str) -> tuple[str, str]:
    """`kubernetes:apps/v1:Deployment` -> (`apps/v1`, `Deployment`); core group -> `v1`."""
    _, module, kind = type_.split(":")
    group, _, version = module.partition("/")
    return (version if group == "core" else f"{group}/{version}" if version else group), kind


# Kubernetes manifests

def manifest(entry: dict[str, Any]) -> dict[str, Any]:
    """The object as it would be applied: apiVersion, kind, metadata, then the rest (sorted)."""
    api_version, kind = api_version_kind(entry["type"])
    inputs = dict(entry["inputs"])
    metadata = dict(inputs.pop("metadata", None) or {})
    metadata.setdefault("name", entry["name"])  # real Pulumi would auto-name with a random suffix
    doc = {"apiVersion": inputs.pop("apiVersion", api_version), "kind": inputs.pop("kind", kind),
           "metadata": sort_keys(metadata)}
    doc.update(sort_keys(inputs))
    return doc


def namespace_of(doc: dict[str, Any]) -> str:
    namespace = doc["metadata"].get("namespace")
    if namespace:
        return str(namespace)
    return CLUSTER_SCOPE if doc["kind"] in CLUSTER_SCOPED_KINDS else "default"


def manifests(all_entries: Iterable[dict[str, Any]]) -> dict[str, str]:
    """`manifests/<namespace or _cluster>/<kind>-<name>.yaml` -> YAML."""
    files: dict[str, str] = {}
    for entry in all_entries:
        if not is_kubernetes_object(entry):
            continue
        doc = manifest(entry)
        path = f"manifests/{safe(namespace_of(doc))}/{doc['kind'].lower()}-{safe(str(doc['metadata']['name']))}.yaml"
        files[unique(files, path, entry["name"])] = dump_yaml(doc)
    return files


# IAM and resource policies

def policy_keys(type_: str) -> tuple[str, ...]:
    for prefix, keys in POLICY_INPUTS:
        if type_.startswith(prefix):
            return keys
    return ()


def parse_document(value: Any) -> Any:
    """A policy input (JSON string or object) as data; other strings as they are."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def iam_documents(all_entries: Iterable[dict[str, Any]]) -> dict[str, str]:
    """`iam/<resource name>.json` for every trust, identity and resource policy document."""
    files: dict[str, str] = {}
    for entry in all_entries:
        inputs = entry["inputs"]
        for key in policy_keys(entry["type"]):
            if inputs.get(key) in (None, ""):
                continue
            files[unique(files, f"iam/{safe(entry['name'])}.json", key)] = dump_json(parse_document(inputs[key]))
        inline_policies = (inputs.get("inlinePolicies") or []) if entry["type"].startswith("aws:iam/") else []
        for inline in inline_policies:
            if isinstance(inline, dict) and inline.get("policy"):
                path = f"iam/{safe(entry['name'])}-inline-{safe(str(inline.get('name', 'policy')))}.json"
                files[unique(files, path, "inline")] = dump_json(parse_document(inline["policy"]))
    return files


# config files

def config_files(all_entries: Iterable[dict[str, Any]]) -> dict[str, str]:
    """`config/<configmap name>/<key>` for every ConfigMap data entry (the files apps read)."""
    files: dict[str, str] = {}
    for entry in all_entries:
        if entry["type"] != "kubernetes:core/v1:ConfigMap":
            continue
        name = str((entry["inputs"].get("metadata") or {}).get("name") or entry["name"])
        folder = unique_dir(files, f"config/{safe(name)}", (entry["inputs"].get("metadata") or {}).get("namespace"))
        for key, value in sorted((entry["inputs"].get("data") or {}).items()):
            files[f"{folder}/{safe(key)}"] = value if isinstance(value, str) else dump_json(value)
    return files


# alert rules

def rule_files(all_entries: Iterable[dict[str, Any]]) -> dict[str, str]:
    """`rules/<namespace>-<name>.yaml` for every PrometheusRule: its spec is a plain Prometheus rule
    file (`groups:`), the one `promtool check rules` reads."""
    files: dict[str, str] = {}
    for entry in all_entries:
        if entry["type"] != "kubernetes:monitoring.coreos.com/v1:PrometheusRule":
            continue
        meta = entry["inputs"].get("metadata") or {}
        path = f"rules/{safe(str(meta.get('namespace', 'default')))}-{safe(str(meta.get('name') or entry['name']))}.yaml"
        files[unique(files, path, entry["name"])] = dump_yaml(entry["inputs"].get("spec") or {})
    return files


# writing

def build(all_entries: list[dict[str, Any]], cost: dict[str, Any], summary_md: str,
          policy: dict[str, Any] | None = None) -> dict[str, str]:
    """Every artifact, relative path -> text, in path order."""
    files = {
        **({"policy.json": dump_json(policy)} if policy is not None else {}),
        "resources.json": dump_json(all_entries),
        "cost.json": dump_json(cost),
        "summary.md": summary_md,
        **manifests(all_entries),
        **iam_documents(all_entries),
        **config_files(all_entries),
        **rule_files(all_entries),
    }
    return dict(sorted(files.items()))


def write(out_dir: Path, files: dict[str, str]) -> None:
    """Replace the generated part of `out_dir` with `files` (stale files never linger)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in GENERATED_DIRS:
        shutil.rmtree(out_dir / folder, ignore_errors=True)
    for name in GENERATED_FILES:
        (out_dir / name).unlink(missing_ok=True)
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))


# formatting helpers

def sort_keys(value: Any) -> Any:
    """Dicts with sorted keys, recursively (lists keep their order: it is meaningful)."""
    if isinstance(value, dict):
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(v) for v in value]
    return value


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """Block style for multi-line strings (config files and scripts diff line by line); libyaml's
    emitter where PyYAML has it (the same text as the pure-Python one, several times faster)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(value: Any) -> str:
    """YAML in the given key order, block style, wide lines."""
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096)


def safe(name: str) -> str:
    """A path component: no separators, never `.`/`..`."""
    cleaned = "".join(c if c.isalnum() or c in "-_.@+=" else "_" for c in name)
    return cleaned if cleaned.strip(".") else f"_{cleaned}"


def unique(files: dict[str, str], path: str, tag: str) -> str:
    """`path`, or `path` with `~tag` (then a counter) before the extension when already taken."""
    if path not in files:
        return path
    stem, dot, ext = path.rpartition(".")
    candidate, n = f"{stem}~{safe(tag)}{dot}{ext}", 2
    while candidate in files:
        candidate, n = f"{stem}~{safe(tag)}{n}{dot}{ext}", n + 1
    return candidate


def unique_dir(files: dict[str, str], folder: str, namespace: Optional[str]) -> str:
    """`folder`, or `folder~<namespace>` when another ConfigMap of that name already used it."""
    if not any(p.startswith(folder + "/") for p in files):
        return folder
    candidate, n = f"{folder}~{safe(namespace or 'default')}", 2
    while any(p.startswith(candidate + "/") for p in files):
        candidate, n = f"{folder}~{safe(namespace or 'default')}{n}", n + 1
    return candidate
