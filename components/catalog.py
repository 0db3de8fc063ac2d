"""Static facts the platform relies on: Neuron instance shapes, Bedrock geo routing, versions.

Each table lives here once; settings validation, the Bedrock IAM policy, the device plugin's
node affinity, the preflight checks and the cost estimate all read from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# EKS versions in standard support that this program is tested against (1.34 leaves
# standard support on 2026-12-02; keep it for upgrades in flight).
SUPPORTED_EKS_VERSIONS: tuple[str, ...] = ("1.34", "1.35")
DEFAULT_EKS_VERSION = "1.35"

# Managed node group AMI types (AL2 AMIs are no longer published).
SYSTEM_AMI_TYPES = {"x86_64": "AL2023_x86_64_STANDARD", "arm64": "AL2023_ARM_64_STANDARD"}
NEURON_AMI_TYPE = "AL2023_x86_64_NEURON"

# The EKS managed add-ons components/cluster.py installs (cluster.addonVersions may pin these).
EKS_ADDONS: tuple[str, ...] = (
    "vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "metrics-server", "aws-ebs-csi-driver",
)

# An hourly price above this in `pricing` is a typo: the largest EC2 instances cost a few hundred $/hour.
MAX_HOURLY_PRICE = 1000.0

# Node taint / resource names used by the Neuron device plugin and the workloads.
NEURON_TAINT_KEY = "aws.amazon.com/neuron"
NEURON_CORE_RESOURCE = "aws.amazon.com/neuroncore"
NEURON_NODE_LABEL = "genai-platform/accelerator"
NEURON_NODE_LABEL_VALUE = "neuron"


@dataclass(frozen=True)
class NeuronInstance:
    """One Inferentia2 / Trainium1 instance type."""

    name: str
    chips: int
    neuron_cores: int
    vcpus: int
    memory_gib: int
    accelerator_memory_gib: int

    @property
    def family(self) -> str:
        """Quota family, `inf` or `trn` (Service Quotas counts vCPUs per family)."""
        return re.match(r"[a-z]+", self.name).group(0)  # trn1n.32xlarge -> trn


NEURON_INSTANCES: dict[str, NeuronInstance] = {
    i.name: i
    for i in (
        NeuronInstance("inf2.xlarge", chips=1, neuron_cores=2, vcpus=4, memory_gib=16, accelerator_memory_gib=32),
        NeuronInstance("inf2.8xlarge", chips=1, neuron_cores=2, vcpus=32, memory_gib=128, accelerator_memory_gib=32),
        NeuronInstance("inf2.24xlarge", chips=6, neuron_cores=12, vcpus=96, memory_gib=384, accelerator_memory_gib=192),
        NeuronInstance("inf2.48xlarge", chips=12, neuron_cores=24, vcpus=192, memory_gib=768, accelerator_memory_gib=384),
        NeuronInstance("trn1.2xlarge", chips=1, neuron_cores=2, vcpus=8, memory_gib=32, accelerator_memory_gib=32),
        NeuronInstance("trn1.32xlarge", chips=16, neuron_cores=32, vcpus=128, memory_gib=512, accelerator_memory_gib=512),
        NeuronInstance("trn1n.32xlarge", chips=16, neuron_cores=32, vcpus=128, memory_gib=512, accelerator_memory_gib=512),
    )
}

NEURON_FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(name.split(".", 1)[0] for name in NEURON_INSTANCES))

# Cross-region inference profiles: geo prefix -> the regions a request may be routed to.
# A profile can only be called from a source region inside its geography, and the caller
# needs InvokeModel on the foundation model in every destination region.
BEDROCK_GEO_ROUTES: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-2"),
    "eu": ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3"),
    "apac": (
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-4",
    ),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "us-gov": ("us-gov-east-1", "us-gov-west-1"),
}
# Global cross-Region inference profiles (`global.` ids) route to commercial regions worldwide;
# they are called from commercial (`aws` partition) regions only.
GLOBAL_PROFILE_PREFIX = "global"


# The regions of the partitions this program deploys to (aws, aws-us-gov, aws-cn), as listed by
# the pinned botocore's endpoints data; tests/test_settings.py keeps the two in step.
AWS_REGIONS: frozenset[str] = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
    "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
    "us-west-1", "us-west-2",
    "us-gov-east-1", "us-gov-west-1",
    "cn-north-1", "cn-northwest-1",
})


def partition_for(region: str) -> str:
    """AWS partition of a region (`aws`, `aws-us-gov`, `aws-cn`)."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


def managed_policy_arn(partition: str, name: str) -> str:
    """An AWS managed IAM policy: `arn:aws-cn:iam::aws:policy/AmazonEKS_CNI_Policy`."""
    return f"arn:{partition}:iam::aws:policy/{name}"


def eks_access_policy_arn(partition: str, name: str) -> str:
    """An EKS access policy: `arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`."""
    return f"arn:{partition}:eks::aws:cluster-access-policy/{name}"


def geo_for_region(region: str) -> str | None:
    """The inference-profile geography a region belongs to (`us`, `eu`, `apac`, ...), if any."""
    for geo in ("us", "eu", "apac", "us-gov"):
        if region in BEDROCK_GEO_ROUTES[geo]:
            return geo
    return None


def architecture(instance_type: str) -> str:
    """`arm64` for Graviton families (a `g` after the generation digit: m7g, c6gn, t4g, is4gen),
    else `x86_64` (g5, m7i, ...)."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if re.fullmatch(r"[a-z]+\d+[a-z-]*g[a-z-]*", family) else "x86_64"
