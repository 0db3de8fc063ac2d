"""What `pulumi destroy` would stop at and what it would leave behind, read from the rendered
resources (masked entries), so the summary states it for whatever the settings produce.

Facts relied on:
- Pulumi refuses to delete a `protect`ed resource; unprotect with `protect: false` + `pulumi up`
  or `pulumi state unprotect` (pulumi.com docs, resource option protect).
- S3 refuses DeleteBucket while any object version or delete marker is left (BucketNotEmpty);
  pulumi-aws empties the bucket first only with `forceDestroy` stored by an earlier `up`.
- A volume provisioned through a StorageClass gets its reclaimPolicy (Kubernetes default
  `Delete`); `Retain` keeps the EBS volume after its claim is deleted.
- EKS refuses DeleteCluster while deletion protection is on (EKS API, deletionProtection).
- EKS writes control plane logs to the log group /aws/eks/<cluster>/cluster, which it creates
  itself: it is not a resource of the stack and outlives the cluster.
- KMS deletes a key only after a waiting period of 7-30 days (ScheduleKeyDeletion).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from tools.preview.render import is_kubernetes_object

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
KMS_DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Leftover:
    """One thing a destroy stops at (`blocks`) or leaves behind, and how to remove it."""

    blocks: bool
    what: str
    remove: str


def _kind(entry: dict[str, Any]) -> str:
    return entry["type"].rsplit(":", 1)[-1]


def _meta(entry: dict[str, Any]) -> dict[str, Any]:
    return entry["inputs"].get("metadata") or {}


def _gib(quantity: Any) -> float:
    text = str(quantity)
    for suffix, factor in (("Ti", 1024), ("Gi", 1), ("Mi", 1 / 1024)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text) / 2**30


def claims(entries: Iterable[dict[str, Any]]) -> list[tuple[str, str | None, float]]:
    """(claim, storage class or None for the default, GiB) of every PVC and StatefulSet template."""
    found = []
    for entry in entries:
        if not is_kubernetes_object(entry):
            continue
        meta, spec = _meta(entry), entry["inputs"].get("spec") or {}
        where = f"{meta.get('namespace', 'default')}/"
        if _kind(entry) == "PersistentVolumeClaim":
            size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "0")
            found.append((where + str(meta.get("name") or entry["name"]), spec.get("storageClassName"), _gib(size)))
        elif _kind(entry) == "StatefulSet":
            replicas = int(spec.get("replicas", 1))
            for template in spec.get("volumeClaimTemplates") or []:
                size = ((template["spec"].get("resources") or {}).get("requests") or {}).get("storage", "0")
                for ordinal in range(replicas):  # claims are <template>-<statefulset>-<ordinal>
                    name = f"{template['metadata']['name']}-{meta.get('name') or entry['name']}-{ordinal}"
                    found.append((where + name, template["spec"].get("storageClassName"), _gib(size)))
    return sorted(found)


def retained_claims(entries: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    """Claims whose volumes a destroy leaves behind: their class is this stack's and retains."""
    policies, default = {}, None
    for entry in entries:
        if entry["type"] == STORAGE_CLASS:
            name = str(_meta(entry).get("name") or entry["name"])
            policies[name] = entry["inputs"].get("reclaimPolicy") or "Delete"
            if (_meta(entry).get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
                default = name
    out = []
    for claim, class_name, gib in claims(entries):
        # storageClassName "" binds a pre-made volume (no class): only an absent class means the default
        name = default if class_name is None else class_name
        if policies.get(name or "") == "Retain":
            out.append((claim, name, gib))
    return out


def leftovers(entries: list[dict[str, Any]], region: str) -> list[Leftover]:
    """Everything a destroy of these resources stops at or leaves behind, blockers first."""
    found: list[Leftover] = []
    protected = sorted(f"{e['name']} [{e['type']}]" for e in entries if e.get("protect"))
    if protected:
        found.append(Leftover(True, f"{len(protected)} protected resources: " + ", ".join(protected),
                              "set genai-platform:retainData false (or remove protect) and `pulumi up` first, "
                              "or `pulumi state unprotect <urn>`"))
    for entry in entries:
        inputs = entry["inputs"]
        if entry["type"] in BUCKET_TYPES and not inputs.get("forceDestroy"):
            found.append(Leftover(True, f"bucket {entry['name']}: S3 refuses to delete it while any object version "
                                        "or delete marker is left (BucketNotEmpty)",
                                  "retainData false + `pulumi up` (forceDestroy empties it on destroy), or empty it: "
                                  "python -c \"import boto3; boto3.resource('s3').Bucket('<bucket>')"
                                  ".object_versions.delete()\""))
        elif entry["type"] == "aws:eks/cluster:Cluster" and inputs.get("deletionProtection"):
            found.append(Leftover(True, f"EKS cluster {inputs.get('name') or entry['name']}: deletion protection is on",
                                  "set cluster.deletionProtection false and `pulumi up` first"))
    volumes = retained_claims(entries)
    if volumes:
        total = sum(gib for _, _, gib in volumes)
        listed = ", ".join(f"{claim} ({gib:g} GiB)" for claim, _, gib in volumes)
        found.append(Leftover(False, f"{len(volumes)} EBS volumes, {total:g} GiB (reclaimPolicy Retain), still billed: "
                                     f"{listed}",
                              "before destroying, list them: kubectl get pv -o custom-columns="
                              "CLAIM:.spec.claimRef.name,VOLUME:.spec.csi.volumeHandle; after: "
                              f"aws ec2 delete-volume --region {region} --volume-id <vol-...>"))
    for entry in entries:
        inputs = entry["inputs"]
        if entry["type"] == "aws:eks/cluster:Cluster" and inputs.get("enabledClusterLogTypes"):
            group = f"/aws/eks/{inputs.get('name') or entry['name']}/cluster"
            found.append(Leftover(False, f"CloudWatch log group {group} (created by EKS for "
                                         f"{', '.join(inputs['enabledClusterLogTypes'])} logs, not by the stack)",
                                  f"aws logs delete-log-group --region {region} --log-group-name {group}"))
        elif entry["type"] == "aws:kms/key:Key":
            days = inputs.get("deletionWindowInDays") or KMS_DEFAULT_WINDOW_DAYS
            found.append(Leftover(False, f"KMS key {entry['name']}: pending deletion for {days} days, unusable meanwhile",
                                  "nothing to do (`aws kms cancel-key-deletion` keeps it)"))
        elif is_kubernetes_object(entry) and (
                (_kind(entry) == "Service" and (inputs.get("spec") or {}).get("type") == "LoadBalancer")
                or _kind(entry) == "Ingress"):
            found.append(Leftover(False, f"the load balancer of {_kind(entry)} {_meta(entry).get('name') or entry['name']}: "
                                         "its controller deletes it only if it still runs when the object goes",
                                  "check `aws elbv2 describe-load-balancers` after the destroy"))
    return sorted(found, key=lambda item: not item.blocks)


def teardown_text(entries: list[dict[str, Any]], region: str) -> list[str]:
    items = leftovers(entries, region)
    blockers = [i for i in items if i.blocks]
    head = (f"`pulumi destroy` stops at {len(blockers)} thing(s) until they are unprotected or emptied"
            if blockers else "`pulumi destroy` removes every resource of the stack in one run")
    out = [f"Teardown: {head}"]
    for item in items:
        out += [f"  {'BLOCKS' if item.blocks else 'stays '}  {item.what}", f"          remove: {item.remove}"]
    return out


def teardown_markdown(entries: list[dict[str, Any]], region: str) -> list[str]:
    items = leftovers(entries, region)
    out = ["## Teardown", ""]
    blockers = sum(1 for i in items if i.blocks)
    out.append(f"`pulumi destroy` stops at **{blockers}** thing(s) until they are unprotected or emptied." if blockers
               else "`pulumi destroy` removes every resource of the stack in one run.")
    if items:
        out += ["", "| | what | how to remove it |", "|---|---|---|"]
        out += [f"| {'blocks' if i.blocks else 'stays'} | {i.what.replace('|', '/')} | {i.remove.replace('|', '/')} |"
                for i in items]
    out.append("")
    return out
