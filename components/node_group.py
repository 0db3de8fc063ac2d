"""A managed node group with its own launch template (IMDSv2, encrypted gp3 root) and node role.

Built with pulumi-aws directly (not pulumi-eks's remote component) so that the node group and
its launch template are visible to the offline engine, the tests and the policy pack, and so
that Neuron AMI types work (pulumi/pulumi-eks#1561).
"""

from __future__ import annotations

import json
from typing import NotRequired, Optional, Sequence, TypedDict

import pulumi
from pulumi_aws import ec2, eks, iam

from components import catalog
from components.settings.infra import NodeScaling

# AWS managed policies of the node role (their ARNs are built in the stack region's partition)
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
)


class Taint(TypedDict):
    """A node taint in the EKS API's form (effect NO_SCHEDULE, ...)."""

    key: str
    value: str
    effect: str


class ManagedNodeGroupArgs(TypedDict):
    """Inputs of `ManagedNodeGroup`."""

    cluster_name: pulumi.Input[str]
    """The EKS cluster."""
    kubernetes_version: str
    """Node Kubernetes version (matches the control plane)."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets for the nodes."""
    ami_type: str
    """EKS AMI type, e.g. AL2023_x86_64_STANDARD or AL2023_x86_64_NEURON."""
    instance_types: Sequence[str]
    """EC2 instance types."""
    capacity_type: str
    """ON_DEMAND or SPOT."""
    scaling: NodeScaling
    """min/max/desired sizes."""
    disk_gib: int
    """Root volume size."""
    labels: dict[str, str]
    """Kubernetes node labels."""
    taints: Sequence[Taint]
    """Kubernetes node taints."""
    tags: dict[str, str]
    """AWS tags."""
    partition: str
    """AWS partition of the stack's region (aws, aws-us-gov, aws-cn): the managed policies' ARNs."""
    node_addons: Sequence[pulumi.Resource]
    """Add-ons a node needs to become Ready (vpc-cni above all): the node group waits for them."""
    autoscaled: NotRequired[bool]
    """The Cluster Autoscaler owns the desired size: Pulumi ignores its drift (never resets it)."""


def node_assume_role_policy() -> dict:
    """EC2 instances may assume the node role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }


class ManagedNodeGroup(pulumi.ComponentResource):
    """An EKS managed node group on a launch template that requires IMDSv2 (hop limit 1)."""

    node_group_name: pulumi.Output[str]
    """The EKS node group name."""
    role_arn: pulumi.Output[str]
    """The node IAM role ARN."""
    autoscaling_group_name: pulumi.Output[str]
    """The EC2 Auto Scaling group EKS created for the group (the autoscaler's tags go on it)."""

    def __init__(self, name: str, args: ManagedNodeGroupArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:cluster:ManagedNodeGroup", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args["tags"]

        # Node role: the EKS worker, CNI, ECR read and SSM managed policies
        partition = args["partition"]
        role = iam.Role(
            f"{name}-role", assume_role_policy=json.dumps(node_assume_role_policy()), tags=tags, opts=child
        )
        attachments = [
            iam.RolePolicyAttachment(
                f"{name}-policy-{i}", role=role.name, policy_arn=catalog.managed_policy_arn(partition, policy), opts=child
            )
            for i, policy in enumerate(NODE_POLICIES)
        ]

        # Launch template: IMDSv2 only, hop limit 1 (pods cannot reach the node's credentials),
        # encrypted gp3 root volume
        template = ec2.LaunchTemplate(
            f"{name}-lt",
            description=f"{name} nodes: IMDSv2, encrypted gp3 root",
            update_default_version=True,
            metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args["disk_gib"], volume_type="gp3", encrypted="true", delete_on_termination="true"
                    ),
                )
            ],
            tag_specifications=[
                ec2.LaunchTemplateTagSpecificationArgs(resource_type="instance", tags={**tags, "Name": name}),
                ec2.LaunchTemplateTagSpecificationArgs(resource_type="volume", tags={**tags, "Name": name}),
            ],
            tags=tags,
            opts=child,
        )

        scaling = args["scaling"]
        group = eks.NodeGroup(
            f"{name}-ng",
            cluster_name=args["cluster_name"],
            version=args["kubernetes_version"],
            node_role_arn=role.arn,
            subnet_ids=args["subnet_ids"],
            ami_type=args["ami_type"],
            capacity_type=args["capacity_type"],
            instance_types=list(args["instance_types"]),
            scaling_config=eks.NodeGroupScalingConfigArgs(
                min_size=scaling.min_size, max_size=scaling.max_size, desired_size=scaling.desired_size
            ),
            update_config=eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=eks.NodeGroupLaunchTemplateArgs(id=template.id, version=template.latest_version.apply(str)),
            labels=args["labels"],
            taints=[eks.NodeGroupTaintArgs(**t) for t in args["taints"]],
            tags=tags,
            # Directly on the add-ons: the cluster has no self-managed add-ons, so a node that boots
            # before vpc-cni exists stays NotReady ("cni plugin not initialized") and the group fails.
            # With the Cluster Autoscaler, desiredSize is its to set (pulumi/pulumi-eks#1293: the
            # documented way is ignoreChanges on the aws.eks.NodeGroup's scalingConfig.desiredSize)
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, *args["node_addons"]],
                                        ignore_changes=["scalingConfig.desiredSize"] if args.get("autoscaled") else None),
        )
        self.node_group_name = group.node_group_name
        self.autoscaling_group_name = group.resources.apply(lambda r: r[0].autoscaling_groups[0].name)
        self.role_arn = role.arn
        self.register_outputs({"node_group_name": self.node_group_name, "role_arn": self.role_arn})
