"""IAM roles for Kubernetes service accounts through EKS Pod Identity (no static AWS keys)."""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence

import pulumi
from pulumi_aws import eks, iam

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_trust_policy(
    account_id: str, cluster_name: str, service_accounts: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """Trust only the EKS Pod Identity service, on behalf of this account (confused-deputy
    protection: EKS passes the aws:Source* context keys when Pod Identity assumes a role, as the
    EKS Best Practices Guide's Pod Identity trust policy example relies on), and only for the
    pods of these (namespace, service account) pairs on this cluster: one statement per namespace,
    so that no namespace gets another's service account. The conditions read the session tags
    Pod Identity adds to its AssumeRole request (EKS User Guide "pod-id-abac": eks-cluster-name,
    kubernetes-namespace, kubernetes-service-account, ...; "pod-id-role" scopes a trust policy with
    them as aws:RequestTag/<key>), which is why the trust also allows sts:TagSession."""
    by_namespace: dict[str, set[str]] = {}
    for namespace, account in service_accounts:
        by_namespace.setdefault(namespace, set()).add(account)
    if not by_namespace:
        raise ValueError("a Pod Identity role needs at least one (namespace, service account) it is for")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"EksPodIdentity{i}",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": account_id,
                        "aws:RequestTag/eks-cluster-name": cluster_name,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": sorted(accounts),
                    }
                },
            }
            for i, (namespace, accounts) in enumerate(sorted(by_namespace.items()), start=1)
        ],
    }


def policy_document(statements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """An IAM policy document from statements."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


class PodIdentityRole:
    """A role trusted by EKS Pod Identity, its permissions, and the service-account bindings.

    The trust admits only the pods of `cluster_name` that use `service_accounts` (associated here)
    or `addon_service_accounts` (pairs an EKS add-on associates itself, e.g. the EBS CSI driver).
    Not a component of its own: the owning component (Bedrock access, Langfuse storage, the EBS
    CSI driver) is the parent of every resource created here.
    """

    def __init__(
        self,
        name: str,
        *,
        parent: pulumi.Resource,
        cluster_name: pulumi.Input[str],
        policy: Optional[pulumi.Input[str]] = None,
        managed_policy_arns: Sequence[str] = (),
        service_accounts: Sequence[tuple[str, str]] = (),
        tags: Optional[dict[str, str]] = None,
        account_id: pulumi.Input[str],
        depends_on: Sequence[pulumi.Resource] = (),
        addon_service_accounts: Sequence[tuple[str, str]] = (),
    ) -> None:
        child = pulumi.ResourceOptions(parent=parent)
        # account_id: the role's (and so the cluster's) account; Pod Identity assumes same-account roles.
        # Trusted: the pairs associated below, and those an EKS add-on associates itself (addon_service_accounts)
        trusted = [*service_accounts, *addon_service_accounts]
        if not trusted:
            raise ValueError(f"PodIdentityRole {name}: name the (namespace, service account) pairs it is for")
        self.role = iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.all(account_id, cluster_name).apply(
                lambda values: json.dumps(pod_identity_trust_policy(values[0], values[1], trusted))
            ),
            description=f"EKS Pod Identity role {name}",
            tags=tags,
            opts=child,
        )
        if policy is not None:
            iam.RolePolicy(f"{name}-policy", role=self.role.id, policy=policy, opts=child)
        for i, arn in enumerate(managed_policy_arns):
            iam.RolePolicyAttachment(f"{name}-managed-{i}", role=self.role.name, policy_arn=arn, opts=child)
        self.associations = [
            eks.PodIdentityAssociation(
                f"{name}-{namespace}-{account}",
                cluster_name=cluster_name,
                namespace=namespace,
                service_account=account,
                role_arn=self.role.arn,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
            )
            for namespace, account in service_accounts
        ]
        self.arn = self.role.arn
