"""Cluster Autoscaler for the Neuron managed node group: scale up from 0 when a model server is
Pending, remove empty Neuron nodes after an idle time, never a node that serves a model.

Facts (kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md, "Auto-Discovery Setup",
and aws_manager.go parseASGAutoDiscoverySpec at cluster-autoscaler-1.35.0):
- `--node-group-auto-discovery=asg:tag=<key>[=<value>],...` finds the ASGs that carry every listed
  tag (with that value where one is given). The chart (9.59.0 templates/deployment.yaml) renders it
  from `autoDiscovery.tags` when `autoDiscovery.clusterName` is set; its default tags are
  `k8s.io/cluster-autoscaler/enabled` and `k8s.io/cluster-autoscaler/<cluster>`;
- EKS puts those two tags on EVERY managed node group's ASG (EKS user guide, managed-node-groups:
  "Amazon EKS tags managed node group resources so that they are configured to use the Kubernetes
  Cluster Autoscaler"), the system group's too: the default would let the autoscaler resize and
  drain the system nodes. Discovery therefore keys on `NEURON_GROUP_TAG=<cluster>`, a tag only the
  Neuron group's ASG gets (here), and so do the scaling permissions. Nodes of an undiscovered group
  are "not autoscaled": never considered for removal (core/scaledown/eligibility/eligibility.go),
  so the system nodes need no scale-down-disabled annotation;
- scaling from 0 needs the node's labels, taints and extended resources as ASG tags:
  `k8s.io/cluster-autoscaler/node-template/label/<name>: <value>`,
  `.../node-template/taint/<key>: <value>:<effect>`, `.../node-template/resources/<resource>: <amount>`
  (CA knows CPU/memory/GPU from the instance type, not aws.amazon.com/neuroncore);
- IAM: Describe* on `*`, plus `autoscaling:DescribeTags` and `ec2:DescribeLaunchTemplateVersions`
  for auto-discovery and launch templates, `eks:DescribeNodegroup` for managed node groups; the
  README recommends restricting the mutating actions by ASG or by tag conditions.
EKS managed node groups do not take arbitrary tags onto their ASG (aws/containers-roadmap#608),
so the tags are set on the ASG itself with `aws.autoscaling.Tag`.
"""

from __future__ import annotations

import json
from typing import Any, Optional, TypedDict

import pulumi
from pulumi_aws import autoscaling
from pulumi_kubernetes.helm.v3 import Release, RepositoryOptsArgs

from components import catalog
from components.cluster import SYSTEM_NODE_LABELS
from components.pod_identity import PodIdentityRole, policy_document
from components.settings.scaling import NeuronAutoscalerSettings

CHART_REPO = "https://kubernetes.github.io/autoscaler"
NAMESPACE, SERVICE_ACCOUNT = "kube-system", "cluster-autoscaler"
DISCOVERY_TAG = "k8s.io/cluster-autoscaler/enabled"
# On the Neuron ASG only, value = the cluster's name (a key with the name in it could exceed the
# 128 characters of a tag key with a 100-character cluster name)
NEURON_GROUP_TAG = "genai-platform/cluster-autoscaler"
TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
# The device plugin's extended resources (components.md): cores and whole Neuron devices
NEURON_DEVICE_RESOURCE = "aws.amazon.com/neuron"


def cluster_tag(cluster_name: str) -> str:
    """The per-cluster discovery tag key (value `owned`)."""
    return f"k8s.io/cluster-autoscaler/{cluster_name}"


def discovery_selector(cluster_name: str) -> str:
    """The one tag the autoscaler discovers the Neuron group's ASG by (`autoDiscovery.tags`)."""
    return f"{NEURON_GROUP_TAG}={cluster_name}"


def node_template_tags(cluster_name: str, instance: catalog.NeuronInstance) -> dict[str, str]:
    """ASG tags: EKS's own discovery tags (kept: the Tag resources are named by position and a key
    change replaces one, whose delete would remove the key its successor just set), and what a
    Neuron node of `instance` will carry once it joins."""
    return {
        DISCOVERY_TAG: "true",
        cluster_tag(cluster_name): "owned",
        f"{TEMPLATE}/label/{catalog.NEURON_NODE_LABEL}": catalog.NEURON_NODE_LABEL_VALUE,
        f"{TEMPLATE}/taint/{catalog.NEURON_TAINT_KEY}": "true:NoSchedule",
        f"{TEMPLATE}/resources/{catalog.NEURON_CORE_RESOURCE}": str(instance.neuron_cores),
        f"{TEMPLATE}/resources/{NEURON_DEVICE_RESOURCE}": str(instance.chips),
    }


def autoscaler_policy(cluster_name: str, partition: str, region: str, account_id: str, asg_name: str) -> dict[str, Any]:
    """Least privilege: read what discovery needs (in the stack's region); change only the Neuron
    group's ASG, and only while it carries the tag discovery keys on (EKS's tags are on every group)."""
    return policy_document([
        {
            "Sid": "Discover",
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            # These support no resource-level permissions (policies/genai_policies/iam.py RESOURCELESS_ACTIONS)
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
        },
        {
            "Sid": "ReadManagedNodeGroups",
            "Effect": "Allow",
            "Action": ["eks:DescribeNodegroup"],
            "Resource": f"arn:{partition}:eks:{region}:{account_id}:nodegroup/{cluster_name}/*/*",
        },
        {
            "Sid": "ScaleOwnGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            "Resource": f"arn:{partition}:autoscaling:{region}:{account_id}:autoScalingGroup:*:autoScalingGroupName/{asg_name}",
            "Condition": {"StringEquals": {f"aws:ResourceTag/{NEURON_GROUP_TAG}": cluster_name}},
        },
    ])


def chart_values(settings: NeuronAutoscalerSettings, cluster_name: str, region: str) -> dict[str, Any]:
    """Values of the pinned cluster-autoscaler chart."""
    idle = f"{settings.scale_down_idle_minutes}m"
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        # clusterName switches discovery on; the tags replace the chart's defaults, which EKS puts
        # on every managed group (Helm replaces a list value, it does not merge it)
        "autoDiscovery": {"clusterName": cluster_name, "tags": [discovery_selector(cluster_name)]},
        "rbac": {"serviceAccount": {"create": True, "name": SERVICE_ACCOUNT}},
        "extraArgs": {
            # Empty Neuron nodes go after `idle`; model servers carry safe-to-evict=false, so a node
            # that serves one is never drained by the autoscaler
            "scale-down-unneeded-time": idle,
            "scale-down-delay-after-add": idle,
            "expander": "least-waste",
            "balance-similar-node-groups": "true",
            "skip-nodes-with-local-storage": "false",
        },
        # On the system nodes, never on the Neuron nodes it removes
        "nodeSelector": dict(SYSTEM_NODE_LABELS),
        "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}, "limits": {"memory": "600Mi"}},
    }


class ClusterAutoscalerArgs(TypedDict):
    """Inputs of `ClusterAutoscaler`."""

    settings: NeuronAutoscalerSettings
    """Chart version, idle time."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster."""
    cluster_name_value: str
    """Its name as a plain string (tag keys and chart values are built from it)."""
    region: str
    """The stack region."""
    account_id: pulumi.Input[str]
    """The cluster's account."""
    neuron_asg_name: pulumi.Input[str]
    """The Neuron node group's Auto Scaling group."""
    neuron_instance: catalog.NeuronInstance
    """The type the group launches (catalog.launched_neuron_type): its NeuronCores go in the tags."""
    provider: pulumi.ProviderResource
    """Kubernetes provider."""
    tags: dict[str, str]
    """AWS tags."""


class ClusterAutoscaler(pulumi.ComponentResource):
    """The node-template tags on the Neuron ASG, a Pod Identity role, and the pinned Helm release."""

    role_arn: pulumi.Output[str]
    """The autoscaler's IAM role."""

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:autoscaling:ClusterAutoscaler", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster, region = args["cluster_name_value"], args["region"]
        partition = catalog.partition_for(region)

        # Tags on the ASG itself (not propagated to instances: they describe the template)
        tags = [
            autoscaling.Tag(
                f"{name}-tag-{i}", autoscaling_group_name=args["neuron_asg_name"],
                tag=autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False), opts=child,
            )
            for i, (key, value) in enumerate(sorted(node_template_tags(cluster, args["neuron_instance"]).items()))
        ]
        tags.append(autoscaling.Tag(
            f"{name}-discovery-tag", autoscaling_group_name=args["neuron_asg_name"],
            tag=autoscaling.TagTagArgs(key=NEURON_GROUP_TAG, value=cluster, propagate_at_launch=False), opts=child,
        ))

        role = PodIdentityRole(
            f"{name}-role", parent=self, cluster_name=args["cluster_name"], account_id=args["account_id"],
            policy=pulumi.Output.all(args["account_id"], args["neuron_asg_name"]).apply(
                lambda v: json.dumps(autoscaler_policy(cluster, partition, region, v[0], v[1]))),
            service_accounts=[(NAMESPACE, SERVICE_ACCOUNT)], tags=args["tags"],
        )
        Release(
            f"{name}-release",
            name="cluster-autoscaler",
            chart="cluster-autoscaler",
            version=args["settings"].chart_version,
            repository_opts=RepositoryOptsArgs(repo=CHART_REPO),
            namespace=NAMESPACE,
            atomic=True,
            values=chart_values(args["settings"], cluster, region),
            opts=pulumi.ResourceOptions(parent=self, provider=args["provider"], depends_on=[*tags, *role.associations]),
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
