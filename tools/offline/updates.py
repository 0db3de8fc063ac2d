"""What `pulumi up` would do to a live stack when its configuration changes, as far as the
providers decide it: which resources it replaces, which updates Kubernetes refuses, and which
replacements delete stored data. The offline engine renders one configuration; comparing two
renderings (`update_findings(old, new)`, resource entries as `tools.preview.render.entries`
writes them) is the update from the first to the second; the PR diff reports what it finds.

Rules, from the sources:
- pulumi-kubernetes replaces an object when a "force new" field changes
  (pulumi/pulumi-kubernetes provider/pkg/provider/diff.go `forceNew`): metadata.name/namespace
  everywhere; StorageClass parameters/provisioner; StatefulSet podManagementPolicy,
  revisionHistoryLimit, selector, serviceName, volumeClaimTemplates; a PVC's accessModes,
  selector, storageClassName, volumeName (its size may grow in place).
- Kubernetes refuses other updates of immutable fields: StorageClass parameters, provisioner,
  reclaimPolicy, volumeBindingMode (ValidateStorageClassUpdate).
- Pulumi also replaces on the `replaceOnChanges` option; an object with a fixed name must then
  be deleted first (`deleteBeforeReplace`), or the new one collides with the old one.
- An S3 bucket is replaced when its name changes (terraform-provider-aws `bucket` ForceNew).
- An EFS file system is replaced when availability_zone_name, creation_token, encrypted,
  kms_key_id or performance_mode change (terraform-provider-aws internal/service/efs/file_system.go
  ForceNew; throughput_mode and lifecycle_policy update in place).
- Replacing a claim, a bucket, an EFS file system, or a StatefulSet whose claims go with it (whenDeleted: Delete)
  deletes stored data; Pulumi refuses it for a protected resource.
"""

from __future__ import annotations

from typing import Any

PVC = "kubernetes:core/v1:PersistentVolumeClaim"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
EFS_FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"

FORCE_NEW = {
    STORAGE_CLASS: ("parameters", "provisioner"),
    STATEFUL_SET: ("spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector", "spec.serviceName",
                   "spec.volumeClaimTemplates"),
    PVC: ("spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"),
    **{bucket: ("bucket", "bucketPrefix") for bucket in BUCKETS},
    EFS_FILE_SYSTEM: ("availabilityZoneName", "creationToken", "encrypted", "kmsKeyId", "performanceMode"),
}
IMMUTABLE = {STORAGE_CLASS: ("parameters", "provisioner", "reclaimPolicy", "volumeBindingMode")}
NAME_FIELDS = ("metadata.name", "metadata.namespace")


def changed_paths(old: Any, new: Any, path: str = "", depth: int = 2) -> set[str]:
    """Dotted paths (at most `depth` keys deep) under which `old` and `new` differ."""
    if old == new:
        return set()
    if depth == 0 or not isinstance(old, dict) or not isinstance(new, dict):
        return {path}
    changed: set[str] = set()
    for key in old.keys() | new.keys():
        changed |= changed_paths(old.get(key), new.get(key), f"{path}.{key}" if path else key, depth - 1)
    return changed


def _matches(paths: set[str], fields: tuple[str, ...]) -> list[str]:
    return sorted(p for p in paths if any(p == f or p.startswith(f + ".") or f.startswith(p + ".") for f in fields))


def _holds_data(entry: dict[str, Any]) -> bool:
    if entry["type"] in (PVC, EFS_FILE_SYSTEM, *BUCKETS):
        return True
    spec = entry["inputs"].get("spec") or {}
    retention = (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted", "Retain")
    return entry["type"] == STATEFUL_SET and bool(spec.get("volumeClaimTemplates")) and retention == "Delete"


def update_findings(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    """What updating a stack deployed as `old` to `new` (resource entries) would break: refused
    updates, replacements that collide, and replacements that delete (or, protected, stop at) data."""
    before = {e["urn"]: e for e in old}
    findings = []
    for entry in new:
        previous = before.get(entry["urn"])
        if previous is None or not entry.get("custom", True):
            continue
        paths = changed_paths(previous["inputs"], entry["inputs"])
        if not paths:
            continue
        kube = entry["type"].startswith("kubernetes:")
        by_provider = _matches(paths, FORCE_NEW.get(entry["type"], ()) + (NAME_FIELDS if kube else ()))
        by_option = _matches(paths, tuple(entry.get("replaceOnChanges", ())))
        refused = [p for p in _matches(paths, IMMUTABLE.get(entry["type"], ())) if p not in by_provider + by_option]
        what = f"{entry['name']} [{entry['type']}]"
        if refused:
            findings.append(f"{what}: Kubernetes refuses to update {', '.join(refused)} (immutable)")
        if not (by_provider or by_option):
            continue
        if by_option and not by_provider and kube and (entry["inputs"].get("metadata") or {}).get("name") \
                and not entry.get("deleteBeforeReplace"):
            findings.append(f"{what}: replaced for {', '.join(by_option)} under the same name without "
                            "deleteBeforeReplace: the new object collides with the old one")
        if _holds_data(previous) or _holds_data(entry):
            because = ", ".join(by_provider + by_option)
            findings.append(f"{what}: replaced ({because}), which "
                            + ("Pulumi refuses: it is protected" if previous.get("protect") else "deletes its data"))
    return findings
