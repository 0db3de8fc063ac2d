"""EKS access entries: cluster admins and read-only people, never a second entry for the deployer.

pulumi-eks creates every cluster with `accessConfig.bootstrapClusterCreatorAdminPermissions: true`
(pulumi/pulumi-eks nodejs/eks/cluster/cluster.ts, `createCore`), so EKS itself gives the IAM
identity that runs `pulumi up` a cluster-admin access entry. A principal has at most one access
entry per cluster: a second CreateAccessEntry for it fails with ResourceInUseException (EKS API
Reference, CreateAccessEntry: "You can't specify the same ARN in more than one access entry").
"""

from __future__ import annotations

import pulumi_aws as aws
import pulumi_eks
from pulumi_aws import eks

from components import catalog
from components.settings.infra import ClusterSettings


def deployer_arn() -> str:
    """The IAM user or role that creates the cluster: the caller's identity, an assumed-role session
    turned into its role's ARN (with path, read with iam:GetRole) by getSessionContext, as access
    entries need (they take no STS session principals)."""
    caller = aws.get_caller_identity()
    return aws.iam.get_session_context(arn=caller.arn).issuer_arn


def principal_id(arn: str) -> tuple[str, str, str]:
    """(account, role|user, name): IAM names are unique per account whatever their path, and not
    distinguished by case (IAM API Reference, CreateRole RoleName), so one principal may be written as
    `role/name` or `role/some/path/name`."""
    account, resource = arn.split(":")[4], arn.split(":", 5)[5]
    kind, name = resource.split("/")[0], resource.rsplit("/", 1)[-1]
    return account, kind, name.lower()


def access_entries(
    settings: ClusterSettings, partition: str, reader_group: str, deployer: str
) -> dict[str, pulumi_eks.AccessEntryArgs]:
    """Cluster admins (AmazonEKSClusterAdminPolicy) and readers (`reader_group` only, for the
    genai-reader Role's RoleBinding), minus the deployer, whom EKS already made an admin.
    Keys follow the position in the settings list, so skipping the deployer renames no entry."""
    admin_policy = pulumi_eks.AccessPolicyAssociationArgs(
        policy_arn=catalog.eks_access_policy_arn(partition, "AmazonEKSClusterAdminPolicy"),
        access_scope=eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
    )
    skip = principal_id(deployer)
    entries = {
        f"admin-{i}": pulumi_eks.AccessEntryArgs(principal_arn=arn, access_policies={"cluster-admin": admin_policy})
        for i, arn in enumerate(settings.admin_principals)
        if principal_id(arn) != skip
    }
    entries |= {
        f"reader-{i}": pulumi_eks.AccessEntryArgs(
            principal_arn=arn, type=pulumi_eks.AccessEntryType.STANDARD, kubernetes_groups=[reader_group]
        )
        for i, arn in enumerate(settings.reader_principals)
        if principal_id(arn) != skip
    }
    return entries
