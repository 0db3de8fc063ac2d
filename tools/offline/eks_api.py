"""What the EKS API refuses, for the offline engine: a second access entry for one principal,
an access entry that EKS rejects outright, and a node group that would boot without a CNI.

The monitor calls these while it registers resources; each raises `EksApiError` with the
exception name and message EKS would answer with, so a run fails where `pulumi up` would.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from tools.offline.records import ResourceRecord

ADDON = "aws:eks/addon:Addon"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
# With bootstrapSelfManagedAddons=false EKS installs no CNI: a node stays NotReady ("cni plugin not
# initialized") until the vpc-cni add-on runs on it, and the managed node group ends CREATE_FAILED
# (EKS User Guide, "Amazon VPC CNI": the add-on is what gives pods and nodes their network).
CNI_ADDON = "vpc-cni"
_STS_SESSION = re.compile(r"^arn:aws[a-z-]*:sts::\d{12}:")


class EksApiError(Exception):
    """An error the EKS API would return (`str()` starts with the exception name)."""


def check_access_entry(cluster: str, principal: str, groups: Iterable[str], existing: dict[str, str]) -> None:
    """CreateAccessEntry's rules: one entry per principal ARN per cluster, the creator's bootstrap
    entry included (EKS API Reference, CreateAccessEntry principalArn; a second one is
    ResourceInUseException), no STS session principals (same page), and no Kubernetes group starting
    with `system:` (the error EKS returns is quoted in terraform-aws-modules/terraform-aws-eks#2915).
    `existing`: `principal_key` of each principal with an entry -> what created that entry."""
    if _STS_SESSION.match(principal):
        raise EksApiError(
            f"InvalidParameterException: CreateAccessEntry on cluster {cluster}: principalArn {principal} is an STS "
            "session; access entries take the IAM role or user ARN"
        )
    for group in groups:
        if group.startswith("system:"):
            raise EksApiError(
                f"InvalidParameterException: CreateAccessEntry on cluster {cluster}: The kubernetes group name "
                f"{group} is invalid, it cannot start with system:"
            )
    if principal_key(principal) in existing:
        raise EksApiError(
            f"ResourceInUseException: CreateAccessEntry on cluster {cluster}: the specified access entry resource "
            f"is already in use on this cluster (principal {principal} already has one: "
            f"{existing[principal_key(principal)]})"
        )


def principal_key(arn: str) -> str:
    """One IAM principal however its ARN is written: EKS keeps the principal's unique id with the
    entry (EKS User Guide, "Create access entries"), and an IAM name is unique in its account
    whatever its path and case (IAM API Reference, CreateRole), so `role/x` and `role/path/X` are one role."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "iam":
        return arn
    resource = parts[5]
    return f"{parts[4]}:{resource.split('/')[0]}/{resource.rsplit('/', 1)[-1].lower()}"


def check_node_group(record: ResourceRecord, records: list[ResourceRecord]) -> None:
    """A managed node group on a cluster without self-managed add-ons must wait for vpc-cni: it
    depends on the add-on directly, so the add-on exists before any node boots."""
    cluster = _cluster_named(record.inputs.get("clusterName"), records)
    if cluster is None or cluster.inputs.get("bootstrapSelfManagedAddons", True):
        return
    by_urn = {r.urn: r for r in records}
    waits_for = {by_urn[u].inputs.get("addonName") for u in record.dependencies if u in by_urn and by_urn[u].type == ADDON}
    if CNI_ADDON not in waits_for:
        raise EksApiError(
            f"CREATE_FAILED: node group {record.name} on cluster {cluster.inputs.get('name')}: NodeCreationFailure, "
            f"instances failed to join the cluster (cni plugin not initialized): the cluster was created with "
            f"bootstrapSelfManagedAddons=false and the node group does not depend on the {CNI_ADDON} add-on"
        )


def _cluster_named(name: Optional[str], records: list[ResourceRecord]) -> Optional[ResourceRecord]:
    for record in records:
        if record.type == "aws:eks/cluster:Cluster" and record.inputs.get("name") == name:
            return record
    return None
