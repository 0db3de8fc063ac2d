"""Plain Kubernetes manifests from a `StackRun`: what `kubectl apply` would receive.

The Kubernetes provider sends each object's inputs (camelCase) plus `apiVersion` and `kind`;
both are derived here from the type token (`kubernetes:apps/v1:Deployment` -> `apps/v1`,
`Deployment`; the core group `kubernetes:core/v1:Service` -> `v1`) and checked against the
inputs. Secret values stay in memory only: `masked=True` replaces each secret leaf by
`[secret]` (keeping the shape, so a masked Secret still has a `stringData` map) for anything
written out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from tools.offline.records import MASK, ResourceRecord, StackRun

# Keys the Pulumi SDK or provider may add to inputs that Kubernetes never sees
INTERNAL_PREFIXES = ("__",)


def api_version_kind(type_token: str) -> tuple[str, str]:
    """`kubernetes:apps/v1:Deployment` -> (`apps/v1`, `Deployment`); core group -> `v1`."""
    provider, group_version, kind = type_token.split(":")
    if provider != "kubernetes":
        raise ValueError(f"not a Kubernetes type: {type_token}")
    group, _, version = group_version.rpartition("/")
    return (version if group in ("", "core") else f"{group}/{version}"), kind


def _mask_leaves(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_leaves(v) for v in value]
    return MASK


def _masked(value: Any, secret_paths: set[str], path: str = "") -> Any:
    if (path or "$") in secret_paths:
        return _mask_leaves(value)
    if isinstance(value, dict):
        return {k: _masked(v, secret_paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, secret_paths, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _strip_internal(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if not k.startswith(INTERNAL_PREFIXES)}


def manifest(record: ResourceRecord, masked: bool = True) -> dict[str, Any]:
    """One object as applied: apiVersion, kind, metadata, then the other fields (sorted)."""
    api_version, kind = api_version_kind(record.type)
    inputs = _masked(record.inputs, record.secret_paths) if masked else record.inputs
    inputs = _strip_internal(inputs)
    for key, expected in (("apiVersion", api_version), ("kind", kind)):
        if inputs.get(key, expected) != expected:
            raise ValueError(f"{record.urn}: {key} {inputs[key]!r} disagrees with type {record.type}")
    metadata = _strip_internal(dict(inputs.get("metadata") or {}))
    rest = {k: inputs[k] for k in sorted(inputs) if k not in ("apiVersion", "kind", "metadata")}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **rest}


def manifests(run: StackRun, masked: bool = True) -> list[dict[str, Any]]:
    """Every Kubernetes object of a run, as plain manifests."""
    return [manifest(record, masked) for record in run.kubernetes_objects()]


def object_id(obj: dict[str, Any]) -> str:
    """`Kind/namespace/name` (cluster-scoped objects: `Kind/name`)."""
    meta = obj["metadata"]
    return "/".join(p for p in (obj["kind"], meta.get("namespace"), meta["name"]) if p)


def write_manifests(objects: Iterable[dict[str, Any]], directory: Path) -> list[Path]:
    """One YAML file per object (`<kind>-<namespace>-<name>.yaml`); only pass masked manifests."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for obj in objects:
        path = directory / (object_id(obj).replace("/", "-").lower() + ".yaml")
        if path.exists():
            raise FileExistsError(f"two objects map to {path.name}")
        path.write_text(yaml.safe_dump(obj, sort_keys=False))
        paths.append(path)
    return paths
