"""Static facts the platform relies on: Neuron instance shapes, Bedrock profile ids, versions.

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

# The EKS managed add-ons this program installs (cluster.addonVersions may pin these).
EKS_ADDONS: tuple[str, ...] = (
    "vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "metrics-server", "aws-ebs-csi-driver",
    "aws-efs-csi-driver",  # with the shared model cache (components/shared_cache.py)
    "amazon-cloudwatch-observability",  # container logs, with monitoring.logs (components/monitoring/logs.py)
)
LOGS_ADDON = "amazon-cloudwatch-observability"
EFS_CSI_ADDON = "aws-efs-csi-driver"

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


def launched_neuron_type(instance_types: list[str], capacity_type: str) -> tuple[NeuronInstance, str]:
    """The Neuron type a managed node group is sized for, and why that one.

    ON_DEMAND managed node groups use the "prioritized" allocation strategy: the order of
    `instanceTypes` decides which type launches first (EKS User Guide, "Managed node groups",
    capacity types; EC2 Auto Scaling `OnDemandAllocationStrategy` "prioritized"), so the first
    type is what runs. SPOT uses price-capacity-optimized: any listed type may launch, so the one
    with the fewest NeuronCores is what every plan has to fit.
    """
    if capacity_type == "SPOT":
        smallest = min((NEURON_INSTANCES[t] for t in instance_types), key=lambda i: i.neuron_cores)
        return smallest, "SPOT may launch any listed type; the one with the fewest NeuronCores"
    return NEURON_INSTANCES[instance_types[0]], "ON_DEMAND launches the first of instanceTypes"


# Bedrock cross-region (system-defined) inference profile id prefixes: `us.anthropic.claude-...`.
# The prefix names a geography; where a profile routes depends on the model and on the source
# region, so no route table is kept here: IAM allows the foundation model in any region, only
# through the profile (components/bedrock_access.py), and preflight reads the profile's routes
# with GetInferenceProfile (Bedrock user guide, "Supported Regions and models for inference
# profiles": the `models` field of GetInferenceProfile lists each destination region).
INFERENCE_PROFILE_PREFIXES: tuple[str, ...] = ("us", "eu", "apac", "jp", "au", "us-gov", "global")
# Global profiles (`global.` ids) route to commercial regions worldwide and are offered in the
# commercial (`aws`) partition only (Bedrock user guide, "Global cross-Region inference").
GLOBAL_PROFILE_PREFIX = "global"

# Source regions of the default models' geographic profiles (us./eu./apac./us-gov. Claude Haiku
# 4.5 and Sonnet 4.5), used only to pick the default `bedrockModels` for a stack's region. The us.
# profiles are also called from us-west-1 and ca-central-1 (AWS ML blog, "Accelerate generative AI
# innovation in Canada with Amazon Bedrock cross-Region inference", Claude Sonnet/Haiku 4.5 from
# Canada (Central) through us. and global. profiles). A region missing here only loses the
# default: settings then ask for `bedrockModels` (components/settings/model.py).
DEFAULT_PROFILE_SOURCE_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1"),
    "eu": ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3"),
    "apac": (
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-4",
    ),
    "us-gov": ("us-gov-east-1", "us-gov-west-1"),
}

# Foundation models Bedrock serves only through an inference profile, in every region: invoking the
# bare id fails with "Invocation of model ID ... with on-demand throughput isn't supported. Retry your
# request with the ID or ARN of an inference profile that contains this model", and
# ListFoundationModels reports `inferenceTypesSupported: ["INFERENCE_PROFILE"]` for them (Bedrock user
# guide, "Supported foundation models": such models have no single-region support). Other models can
# be profile-only in some regions: preflight reads `inferenceTypesSupported` from GetFoundationModel.
PROFILE_ONLY_MODELS: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r"anthropic\.claude-3-7-sonnet-",                  # Claude 3.7 Sonnet
    r"anthropic\.claude-(sonnet|opus|haiku)-[4-9]",    # Claude 4.x and later: sonnet-4-5, opus-4-1, haiku-4-5
    r"amazon\.nova-premier-",                          # Amazon Nova Premier
    r"meta\.llama4-",                                  # Llama 4 Scout / Maverick
))


def profile_only(model_id: str) -> bool:
    """Bedrock invokes this foundation model only through an inference profile (`us.<id>` ...)."""
    return any(p.match(model_id) for p in PROFILE_ONLY_MODELS)


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


def principal_id(arn: str) -> tuple[str, str, str]:
    """(account, role|user, lower-case name) of an IAM principal ARN, or of an assumed-role session
    (`arn:aws:sts::<account>:assumed-role/<role>/<session>` is its role): IAM names are unique per
    account whatever their path, and not distinguished by case (IAM API Reference, CreateRole
    RoleName), so `role/name` and `role/some/path/Name` are one principal."""
    account, resource = arn.split(":")[4], arn.split(":", 5)[5]
    if resource.startswith("assumed-role/"):
        return account, "role", resource.split("/")[1].lower()
    return account, resource.split("/")[0], resource.rsplit("/", 1)[-1].lower()


def geo_for_region(region: str) -> str | None:
    """The geography whose default Claude profiles are called from `region` (`us`, `eu`, ...), if any."""
    return next((geo for geo, regions in DEFAULT_PROFILE_SOURCE_REGIONS.items() if region in regions), None)


def architecture(instance_type: str) -> str:
    """`arm64` for Graviton families (a `g` after the generation digit: m7g, c6gn, t4g, is4gen),
    else `x86_64` (g5, m7i, ...)."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if re.fullmatch(r"[a-z]+\d+[a-z-]*g[a-z-]*", family) else "x86_64"
