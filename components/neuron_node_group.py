"""The Neuron node group: Inferentia2/Trainium nodes on the Neuron AMI, tainted for model servers."""

from __future__ import annotations

from typing import Optional, Sequence, TypedDict

import pulumi

from components import catalog
from components.node_group import ManagedNodeGroup
from components.settings.infra import NeuronSettings

NEURON_TAINT = {"key": catalog.NEURON_TAINT_KEY, "value": "true", "effect": "NO_SCHEDULE"}


class NeuronNodeGroupArgs(TypedDict):
    """Inputs of `NeuronNodeGroup`."""

    settings: NeuronSettings
    """Instance types, capacity type, scaling, root disk."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster."""
    kubernetes_version: str
    """Node Kubernetes version."""
    availability_zone: str
    """The group's one AZ: model servers keep their compile cache on a zonal EBS volume, so a node
    of a multi-AZ group (scaling 0 -> 1) could come up where the volume cannot attach. (A later
    change moves the cache to a shared ReadWriteMany / S3 store, which scale-out needs.)"""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets, all in `availability_zone`."""
    tags: dict[str, str]
    """AWS tags."""
    region: str
    """The stack's region (its partition names the node role's managed policies)."""
    node_addons: Sequence[pulumi.Resource]
    """The cluster's node add-ons (`Cluster.node_addons`): the node group waits for them."""


class NeuronNodeGroup(pulumi.ComponentResource):
    """Managed nodes with ami_type AL2023_x86_64_NEURON (driver included), the taint
    `aws.amazon.com/neuron=true:NoSchedule` and a label model servers select on.
    `minSize: 0` lets the group idle without instance cost. The group stays in one AZ."""

    node_group_name: pulumi.Output[str]
    """The EKS node group name."""
    role_arn: pulumi.Output[str]
    """The node IAM role ARN."""
    availability_zone: pulumi.Output[str]
    """The group's one AZ."""

    def __init__(self, name: str, args: NeuronNodeGroupArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:neuron:NeuronNodeGroup", name, {}, opts)
        settings = args["settings"]
        group = ManagedNodeGroup(
            name,
            {
                "cluster_name": args["cluster_name"],
                "kubernetes_version": args["kubernetes_version"],
                "subnet_ids": args["subnet_ids"],
                "ami_type": catalog.NEURON_AMI_TYPE,
                "instance_types": settings.instance_types,
                "capacity_type": settings.capacity_type,
                "scaling": settings,
                "disk_gib": settings.disk_gib,
                "labels": {catalog.NEURON_NODE_LABEL: catalog.NEURON_NODE_LABEL_VALUE},
                "taints": [NEURON_TAINT],
                "partition": catalog.partition_for(args["region"]),
                "tags": args["tags"],
                "node_addons": args["node_addons"],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.node_group_name = group.node_group_name
        self.role_arn = group.role_arn
        self.availability_zone = pulumi.Output.from_input(args["availability_zone"])
        self.register_outputs({
            "node_group_name": self.node_group_name, "role_arn": self.role_arn, "availability_zone": self.availability_zone,
        })
