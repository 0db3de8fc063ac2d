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
    availability_zones: Sequence[str]
    """The group's AZs: one when the model caches are zonal EBS volumes (a node of a multi-AZ group
    scaling 0 -> 1 could come up where the volume cannot attach) or neuron.availabilityZone is
    set; every private subnet's AZ with the shared EFS cache."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets, in `availability_zones`."""
    autoscaled: bool
    """The Cluster Autoscaler owns the group's desired size."""
    tags: dict[str, str]
    """AWS tags."""
    region: str
    """The stack's region (its partition names the node role's managed policies)."""
    node_addons: Sequence[pulumi.Resource]
    """The cluster's node add-ons (`Cluster.node_addons`): the node group waits for them."""


class NeuronNodeGroup(pulumi.ComponentResource):
    """Managed nodes with ami_type AL2023_x86_64_NEURON (driver included), the taint
    `aws.amazon.com/neuron=true:NoSchedule` and a label model servers select on.
    `minSize: 0` lets the group idle without instance cost."""

    node_group_name: pulumi.Output[str]
    """The EKS node group name."""
    role_arn: pulumi.Output[str]
    """The node IAM role ARN."""
    availability_zones: pulumi.Output[list[str]]
    """The group's AZs."""
    autoscaling_group_name: pulumi.Output[str]
    """Its EC2 Auto Scaling group."""

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
                "autoscaled": args["autoscaled"],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.node_group_name = group.node_group_name
        self.role_arn = group.role_arn
        self.availability_zones = pulumi.Output.from_input(list(args["availability_zones"]))
        self.autoscaling_group_name = group.autoscaling_group_name
        self.register_outputs({
            "node_group_name": self.node_group_name, "role_arn": self.role_arn,
            "availability_zones": self.availability_zones, "autoscaling_group_name": self.autoscaling_group_name,
        })
