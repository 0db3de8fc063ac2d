"""Settings for the AWS base: network, EKS cluster, node groups, Bedrock models."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from components import catalog
from components.endpoint_access import is_placeholder, private_cidr_problem, public_cidr_problem
from components.settings.errors import bad_value, unquoted_version

_IAM_PRINCIPAL_ARN = re.compile(
    r"^arn:aws(-us-gov|-cn)?:iam::\d{12}:(role|user)(/[\w+=,.@-]+)*/[\w+=,.@-]{1,128}$"
)
_BEDROCK_MODEL_ID = re.compile(r"^(?:(?P<geo>[a-z-]+)\.)?(?P<model>[a-z0-9-]+\.[a-z0-9][a-z0-9.-]*(?::\d+)?)$")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
# family letters, generation digit, attribute letters (m6i, c6gn, x2iedn, m7i-flex), a dot, a size
_INSTANCE_TYPE = re.compile(
    r"^[a-z]+\d+[a-z]*(-[a-z0-9]+)?\.(nano|micro|small|medium|large|\d*xlarge|metal(-\d+xl)?)$"
)


def _unique(values: list, what: str, written: Optional[list] = None) -> list:
    """`written` (default `values`) unchanged, or an error at the first repeated item of `values`."""
    written = values if written is None else written
    for i, value in enumerate(values):
        if value in values[:i]:
            raise bad_value((i,), written[i], f"unique: {what} lists it twice")
    return written


class Section(BaseModel):
    """Base for every settings section: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


MAX_NODES_PER_GROUP = 450  # EKS quota: nodes per managed node group


class NodeScaling(Section):
    """Managed node group size; `desiredSize` must lie within [minSize, maxSize]."""

    min_size: int = Field(default=1, ge=0, le=MAX_NODES_PER_GROUP)
    max_size: int = Field(default=2, ge=1, le=MAX_NODES_PER_GROUP)
    desired_size: int = Field(default=1, ge=0, le=MAX_NODES_PER_GROUP)

    @model_validator(mode="after")
    def _sizes_ordered(self):
        if self.min_size > self.max_size:
            raise bad_value("minSize", self.min_size, f"must be <= maxSize ({self.max_size})")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise bad_value(
                "desiredSize", self.desired_size, f"must be within [minSize, maxSize] = [{self.min_size}, {self.max_size}]"
            )
        return self


class NetworkSettings(Section):
    """The VPC: created here, or existing ids to reuse."""

    vpc_cidr: str = "10.0.0.0/16"
    az_count: int = Field(default=2, ge=2, le=3)
    availability_zones: Optional[list[str]] = None
    nat_gateways: Literal["single", "perAz"] = "single"
    existing_vpc_id: Optional[str] = None
    existing_public_subnet_ids: list[str] = []
    existing_private_subnet_ids: list[str] = []

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value)
        except ValueError:
            raise bad_value((), value, "an IPv4 CIDR such as 10.0.0.0/16") from None
        if net.version != 4 or not 16 <= net.prefixlen <= 20:
            raise bad_value((), value, "an IPv4 CIDR between /16 and /20 (room for 6 subnets)")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        return None if value is None else _unique(value, "availabilityZones")

    @field_validator("existing_private_subnet_ids", "existing_public_subnet_ids")
    @classmethod
    def _subnet_ids(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for i, subnet in enumerate(value):
            if not _SUBNET_ID.match(subnet):
                raise bad_value((i,), subnet, "a subnet id: subnet- and 8 or 17 hex digits, such as subnet-0123456789abcdef0")
        return _unique(value, to_camel(info.field_name))

    @model_validator(mode="after")
    def _consistent(self):
        if self.availability_zones is not None and len(self.availability_zones) != self.az_count:
            raise bad_value(
                "availabilityZones", self.availability_zones, f"must list exactly azCount ({self.az_count}) zones"
            )
        if self.existing_vpc_id:
            if not re.fullmatch(r"vpc-[0-9a-f]{8,17}", self.existing_vpc_id):
                raise bad_value("existingVpcId", self.existing_vpc_id, "a VPC id such as vpc-0123456789abcdef0")
            if len(self.existing_private_subnet_ids) < 2:
                raise bad_value(
                    "existingPrivateSubnetIds", self.existing_private_subnet_ids,
                    "at least two private subnet ids in different AZs when existingVpcId is set",
                )
        elif self.existing_private_subnet_ids or self.existing_public_subnet_ids:
            raise bad_value("existingVpcId", None, "required when existing subnet ids are given")
        for i, subnet in enumerate(self.existing_public_subnet_ids):
            if subnet in self.existing_private_subnet_ids:
                raise bad_value(("existingPublicSubnetIds", i), subnet, "a public subnet; it is also in existingPrivateSubnetIds")
        return self


class SystemNodeSettings(NodeScaling):
    """The system node group that runs every non-Neuron workload."""

    instance_types: list[str] = ["m6i.xlarge"]
    disk_gib: int = Field(default=50, ge=20, le=1000)
    min_size: int = Field(default=2, ge=1, le=MAX_NODES_PER_GROUP)
    max_size: int = Field(default=4, ge=1, le=MAX_NODES_PER_GROUP)
    desired_size: int = Field(default=2, ge=1, le=MAX_NODES_PER_GROUP)

    @field_validator("instance_types")
    @classmethod
    def _not_neuron(cls, value: list[str]) -> list[str]:
        if not value:
            raise bad_value((), value, "at least one instance type such as m6i.xlarge")
        for i, name in enumerate(value):
            if not _INSTANCE_TYPE.match(name):
                raise bad_value(
                    (i,), name,
                    "an EC2 instance type: family and generation, optional attributes, a dot and a size "
                    "(nano ... large, Nxlarge, metal), such as m6i.xlarge",
                )
            if name in catalog.NEURON_INSTANCES:
                raise bad_value(
                    (i,), name, "a general-purpose EC2 instance type such as m6i.xlarge (Neuron types go in neuron.instanceTypes)"
                )
            if catalog.architecture(name) != catalog.architecture(value[0]):
                raise bad_value(
                    (i,), name,
                    f"the same CPU architecture as {value[0]} ({catalog.architecture(value[0])}): "
                    "one node group runs one AMI type",
                )
        return value

    @property
    def ami_type(self) -> str:
        """AL2023 for the instance types' architecture (x86_64 or Graviton arm64)."""
        return catalog.SYSTEM_AMI_TYPES[catalog.architecture(self.instance_types[0])]


class ClusterSettings(Section):
    """The EKS control plane and its system node group."""

    name: Optional[str] = None
    version: str = catalog.DEFAULT_EKS_VERSION
    public_access_cidrs: list[str] = []
    admin_principals: list[str] = []
    reader_principals: list[str] = []
    creator_principal: Optional[str] = None
    log_types: list[Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]] = [
        "api", "audit", "authenticator",
    ]
    deletion_protection: bool = False
    # `pulumi up` runs inside the cluster's VPC (runner, bastion, VPN): preflight then accepts a private endpoint
    deployer_in_vpc: bool = False
    # networks in or connected to the VPC (runner subnet, VPN clients) let through to the private endpoint on 443
    private_access_cidrs: list[str] = []
    system_nodes: SystemNodeSettings = SystemNodeSettings()
    addon_versions: dict[str, str] = {}

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value):
        if isinstance(value, float) and str(value) not in catalog.SUPPORTED_EKS_VERSIONS:
            raise unquoted_version(value, catalog.SUPPORTED_EKS_VERSIONS)
        value = str(value)
        if value not in catalog.SUPPORTED_EKS_VERSIONS:
            raise bad_value((), value, f"one of the supported EKS versions {', '.join(catalog.SUPPORTED_EKS_VERSIONS)}")
        return value

    @field_validator("public_access_cidrs", "private_access_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str], info: ValidationInfo) -> list[str]:
        problem_of = public_cidr_problem if info.field_name == "public_access_cidrs" else private_cidr_problem
        for i, cidr in enumerate(value):
            problem = problem_of(cidr)
            if problem:
                raise bad_value((i,), cidr, problem)
        return value

    @field_validator("log_types")
    @classmethod
    def _audit_logged(cls, value: list[str]) -> list[str]:
        if "audit" not in value:
            raise bad_value(
                (), value, "must include audit (the control plane audit log the eks-audit-logging policy requires), "
                "e.g. [api, audit, authenticator]",
            )
        return value

    @field_validator("addon_versions")
    @classmethod
    def _addons(cls, value: dict[str, str]) -> dict[str, str]:
        for addon in value:
            if addon not in catalog.EKS_ADDONS:
                raise bad_value((addon,), addon, f"an add-on this program installs: {', '.join(catalog.EKS_ADDONS)} "
                                "(remove this key, pin the right one)",
                                fix=f"pulumi config rm --path 'cluster.addonVersions[\"{addon}\"]'")
        return value

    @field_validator("creator_principal")
    @classmethod
    def _creator(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _IAM_PRINCIPAL_ARN.match(value):
            raise bad_value((), value, "the IAM role or user ARN that created the cluster, such as arn:aws:iam::123456789012:role/ci")
        return value

    @field_validator("admin_principals", "reader_principals")
    @classmethod
    def _principals(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for i, arn in enumerate(value):
            if not _IAM_PRINCIPAL_ARN.match(arn):
                raise bad_value((i,), arn, "an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admin")
        # EKS takes one access entry per principal, whatever its ARN's path or case (ResourceInUseException)
        what = f"{to_camel(info.field_name)} (one principal whatever its path or case)"
        return _unique([catalog.principal_id(arn) for arn in value], what, value)

    @model_validator(mode="after")
    def _one_entry_per_principal(self):
        admins = {catalog.principal_id(arn) for arn in self.admin_principals}
        for i, arn in enumerate(self.reader_principals):
            if catalog.principal_id(arn) in admins:
                raise bad_value(("readerPrincipals", i), arn, "a principal that is not in adminPrincipals: EKS gives a "
                                "principal one access entry (an admin can read already); remove it from one of the lists")
        return self

    @field_validator("name")
    @classmethod
    def _name(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9_]{0,99}", value):
            raise bad_value((), value, "1-100 letters, digits, '-' or '_', starting with a letter")
        return value

    @property
    def endpoint_public_access(self) -> bool:
        """The public endpoint is on only when restricted to explicit CIDRs."""
        return bool(self.public_access_cidrs)

    @property
    def placeholder_cidrs(self) -> list[str]:
        """`publicAccessCidrs` entries still holding the committed placeholder."""
        return [c for c in self.public_access_cidrs if is_placeholder(c)]


class NeuronSettings(NodeScaling):
    """The Inferentia2/Trainium node group; `minSize: 0` lets it idle at no instance cost."""

    instance_types: list[str] = ["inf2.xlarge"]
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    # The one AZ of the group: the model cache is a zonal (EBS) volume, and a group that spans AZs
    # would bring a node up where the volume cannot attach. Default: the network's first AZ.
    availability_zone: Optional[str] = None
    disk_gib: int = Field(default=200, ge=100, le=2000)
    min_size: int = Field(default=0, ge=0, le=MAX_NODES_PER_GROUP)
    max_size: int = Field(default=2, ge=1, le=MAX_NODES_PER_GROUP)
    desired_size: int = Field(default=1, ge=0, le=MAX_NODES_PER_GROUP)

    @field_validator("instance_types")
    @classmethod
    def _neuron_types(cls, value: list[str]) -> list[str]:
        allowed = ", ".join(catalog.NEURON_INSTANCES)
        if not value:
            raise bad_value((), value, f"at least one Neuron instance type ({allowed})")
        for i, name in enumerate(value):
            family = name.split(".", 1)[0]
            if family not in catalog.NEURON_FAMILIES:
                raise bad_value((i,), name, f"not a Neuron (inf2/trn1/trn1n) instance type; allowed: {allowed}")
            if name not in catalog.NEURON_INSTANCES:
                raise bad_value((i,), name, f"unknown Neuron size; allowed: {allowed}")
        return value

    @property
    def launched_instance(self) -> tuple[catalog.NeuronInstance, str]:
        """The type the group's nodes are sized as (first for ON_DEMAND, smallest for SPOT) and why."""
        return catalog.launched_neuron_type(self.instance_types, self.capacity_type)

    @property
    def smallest_instance(self) -> catalog.NeuronInstance:
        """The type with the fewest NeuronCores: a pod may land on any type in the group."""
        return min((catalog.NEURON_INSTANCES[t] for t in self.instance_types), key=lambda i: i.neuron_cores)


class BedrockModel(Section):
    """A Claude (or other) model reached through Amazon Bedrock."""

    name: str
    model_id: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}", value):
            raise bad_value((), value, "a model name of letters, digits, '.', '_' or '-'")
        return value

    @field_validator("model_id")
    @classmethod
    def _model_id(cls, value: str) -> str:
        match = _BEDROCK_MODEL_ID.match(value or "")
        if not match:
            raise bad_value(
                (), value,
                "a Bedrock model or inference profile id such as us.anthropic.claude-haiku-4-5-20251001-v1:0",
            )
        geo = match.group("geo")
        prefixes = catalog.INFERENCE_PROFILE_PREFIXES
        if geo and geo not in prefixes:
            raise bad_value((), value, f"unknown inference profile prefix '{geo}.'; allowed: {', '.join(prefixes)}")
        return value

    @property
    def is_profile(self) -> bool:
        """The id is a cross-region inference profile (`us.anthropic...`), not a bare model id."""
        return self.geo is not None

    @property
    def geo(self) -> Optional[str]:
        """The cross-region inference profile's geography (`us`, `eu`, ..., `global`) or None."""
        return _BEDROCK_MODEL_ID.match(self.model_id).group("geo")

    @property
    def foundation_model_id(self) -> str:
        """The model id without the inference profile prefix."""
        return _BEDROCK_MODEL_ID.match(self.model_id).group("model")


def dns_label(value: str, path: tuple = ()) -> str:
    """Validate a Kubernetes DNS-1035 label (service names)."""
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise bad_value(path, value, "a DNS label: lowercase letters, digits and '-', starting with a letter, at most 63 chars")
    return value
