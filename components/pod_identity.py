"""IAM roles for Kubernetes service accounts through EKS Pod Identity (no static AWS keys)."""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence

import pulumi
from pulumi_aws import eks, iam

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_trust_policy(account_id: str) -> dict[str, Any]:
    """Trust only the EKS Pod Identity service, and only on behalf of this account (confused-deputy
    protection: EKS passes the aws:Source* context keys when Pod Identity assumes a role, as the
    EKS Best Practices Guide's Pod Identity trust policy example relies on); TagSession lets it
    attach the pod's session tags."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def policy_document(statements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """An IAM policy document from statements."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


class PodIdentityRole:
    """A role trusted by EKS Pod Identity, its permissions, and the service-account bindings.

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
    ) -> None:
        child = pulumi.ResourceOptions(parent=parent)
        # account_id: the role's (and so the cluster's) account; Pod Identity assumes same-account roles
        self.role = iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.from_input(account_id).apply(
                lambda a: json.dumps(pod_identity_trust_policy(a))
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
