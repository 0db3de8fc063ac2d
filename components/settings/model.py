"""The root `Settings` model and the checks that span sections."""

from __future__ import annotations

import re
from typing import Optional

from pydantic import Field, field_validator, model_validator

from components import catalog
from components.k8s.quantity import cpu_millis, memory_bytes
from components.settings.apps import (
    AccessSettings,
    AgentServerSettings,
    DataStoreSettings,
    GatewaySettings,
    LangfuseSettings,
    OpenWebUISettings,
    SelfHostedModel,
)
from components.settings.errors import bad_value
from components.settings.front_door import FrontDoorSettings, check_front_door
from components.settings.infra import BedrockModel, ClusterSettings, NetworkSettings, NeuronSettings, Section

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")

DEFAULT_CLAUDE_MODELS = {
    "claude-haiku-4-5": "anthropic.claude-haiku-4-5-20251001-v1:0",
    "claude-sonnet-4-5": "anthropic.claude-sonnet-4-5-20250929-v1:0",
}


def default_bedrock_models(region: str) -> list[BedrockModel]:
    """Claude Haiku 4.5 and Sonnet 4.5 through the inference profiles of the region's geography."""
    geo = catalog.geo_for_region(region)
    if geo is None:
        return []
    return [BedrockModel(name=name, model_id=f"{geo}.{model}") for name, model in DEFAULT_CLAUDE_MODELS.items()]


class Settings(Section):
    """Everything a stack can configure. Keys are `genai-platform:<camelCaseField>`."""

    region: str = Field(alias="aws:region")
    account_id: Optional[str] = None
    environment: str = "dev"
    network: NetworkSettings = NetworkSettings()
    cluster: ClusterSettings = ClusterSettings()
    neuron: NeuronSettings = NeuronSettings()
    models: list[SelfHostedModel] = [
        SelfHostedModel(name="llama-3.2-1b", hf_model_id="meta-llama/Llama-3.2-1B-Instruct", slug="llama3-2-1b")
    ]
    bedrock_models: Optional[list[BedrockModel]] = None
    gateway: GatewaySettings = GatewaySettings()
    langfuse: LangfuseSettings = LangfuseSettings()
    open_webui: OpenWebUISettings = OpenWebUISettings()
    agent_server: AgentServerSettings = AgentServerSettings()
    data_stores: DataStoreSettings = DataStoreSettings()
    access: AccessSettings = AccessSettings()
    front_door: FrontDoorSettings = FrontDoorSettings()
    pricing: dict[str, float] = {}
    hf_token_set: bool = Field(default=False, exclude=True)
    sso_client_secret_set: bool = Field(default=False, exclude=True)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise bad_value((), value, "an AWS region such as us-east-1")
        if value not in catalog.AWS_REGIONS:
            raise bad_value((), value, "a region of AWS, AWS GovCloud or AWS China such as us-east-1 (a region "
                                       "opened after this release: add it to AWS_REGIONS in components/catalog.py)")
        return value

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value):
        if value is not None and not re.fullmatch(r"\d{12}", str(value)):
            raise bad_value((), value, "a 12-digit AWS account id")
        return None if value is None else str(value)

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,15}", value):
            raise bad_value((), value, "a short lowercase name such as dev or prod")
        return value

    @field_validator("pricing")
    @classmethod
    def _prices(cls, value: dict[str, float]) -> dict[str, float]:
        for instance_type, price in value.items():
            if not 0 <= price <= catalog.MAX_HOURLY_PRICE:
                raise bad_value((instance_type,), price, f"an hourly price in USD from 0 to {catalog.MAX_HOURLY_PRICE:g}")
        return value

    @model_validator(mode="after")
    def _cross_checks(self):
        if self.bedrock_models is None:
            object.__setattr__(self, "bedrock_models", default_bedrock_models(self.region))
        self._check_bedrock_geo()
        self._check_partition()
        self._check_zones()
        self._check_models()
        self._check_neuron_capacity()
        check_front_door(self)
        return self

    def _check_partition(self) -> None:
        """Admin principals live in the region's partition (arn:aws-cn:... only with cn-* regions)."""
        partition = catalog.partition_for(self.region)
        for i, arn in enumerate(self.cluster.admin_principals):
            if arn.split(":")[1] != partition:
                raise bad_value(
                    ("cluster", "adminPrincipals", i), arn,
                    f"an ARN in the {partition} partition of {self.region}: arn:{partition}:iam::<account>:role/<name>",
                )

    def _check_zones(self) -> None:
        """Explicit availability zones are zones of the stack's region; the Neuron group's zone is
        one of the network's (the AZs of existing subnets are checked when the program runs)."""
        for i, zone in enumerate(self.network.availability_zones or []):
            if not re.fullmatch(re.escape(self.region) + "[a-z]", zone):
                raise bad_value(
                    ("network", "availabilityZones", i), zone,
                    f"a zone of {self.region}: the region name and one letter, such as {self.region}a",
                )
        zone = self.neuron.availability_zone
        if zone is None:
            return
        if not re.fullmatch(re.escape(self.region) + "[a-z]", zone):
            raise bad_value(
                ("neuron", "availabilityZone"), zone,
                f"a zone of {self.region}: the region name and one letter, such as {self.region}a",
            )
        if self.network.availability_zones and zone not in self.network.availability_zones:
            raise bad_value(
                ("neuron", "availabilityZone"), zone,
                f"one of the network's zones (network.availabilityZones): {', '.join(self.network.availability_zones)}",
            )

    def _check_bedrock_geo(self) -> None:
        names = [m.name for m in self.bedrock_models]
        for i, model in enumerate(self.bedrock_models):
            if names.count(model.name) > 1:
                raise bad_value(("bedrockModels", i, "name"), model.name, "unique among bedrockModels")
            if model.geo == catalog.GLOBAL_PROFILE_PREFIX and catalog.partition_for(self.region) != "aws":
                raise bad_value(
                    ("bedrockModels", i, "modelId"), model.model_id,
                    f"a regional model or profile: global inference profiles are not offered in {self.region}",
                )
            routes = catalog.BEDROCK_GEO_ROUTES.get(model.geo or "")
            if routes and self.region not in routes:
                raise bad_value(
                    ("bedrockModels", i, "modelId"), model.model_id,
                    f"a '{model.geo}.' inference profile cannot be called from {self.region}; "
                    f"use a profile whose geography includes {self.region}",
                )

    def _check_models(self) -> None:
        smallest = self.neuron.smallest_instance
        bedrock_names = {m.name for m in self.bedrock_models}
        if not self.models and not self.bedrock_models:
            raise bad_value("models", [], "at least one model in models or bedrockModels: the gateway would serve none")
        if not self.models and self.neuron.desired_size > 0:  # minSize <= desiredSize already holds
            raise bad_value(
                ("neuron", "desiredSize"), self.neuron.desired_size,
                "0 (with minSize 0) when models is empty: a Neuron node would run, and be billed, with nothing to serve",
            )
        names: set[str] = set()
        slugs: dict[str, int] = {}
        for i, model in enumerate(self.models):
            if model.neuron_cores > smallest.neuron_cores:
                raise bad_value(
                    ("models", i, "neuronCores"), model.neuron_cores,
                    f"at most {smallest.neuron_cores}, the NeuronCores of one {smallest.name} node "
                    f"(neuron.instanceTypes); choose a larger instance type or fewer cores",
                )
            self._check_model_fits(i, model, smallest)
            if model.name in names or model.name in bedrock_names:
                raise bad_value(("models", i, "name"), model.name, "unique across models and bedrockModels")
            names.add(model.name)
            if model.slug in slugs:
                self._duplicate_slug(i, model, slugs[model.slug])
            slugs[model.slug] = i
            if model.fallback is not None and model.fallback not in bedrock_names:
                raise bad_value(
                    ("models", i, "fallback"), model.fallback,
                    f"the name of a Bedrock model: {', '.join(sorted(bedrock_names)) or '(none configured)'}",
                )
            if model.gated and model.replicas > 0 and not self.hf_token_set:
                raise bad_value(
                    ("hfToken",), None,
                    f"required: model '{model.hf_model_id}' is gated on Hugging Face; "
                    "run `pulumi config set --secret hfToken hf_...`",
                )

    def _duplicate_slug(self, i: int, model: SelfHostedModel, first: int) -> None:
        """Two models would share the Service vllm-<slug> (and its cache path): report the slug as written."""
        other = self.models[first]
        how = "sets the same slug" if other.slug_written else f"derives the same slug from its name {other.name!r}"
        if model.slug_written:
            raise bad_value(
                ("models", i, "slug"), model.slug,
                f"unique among models (each one is the Service vllm-<slug>): models[{first}] {how}",
            )
        raise bad_value(
            ("models", i, "slug"), None,
            f"a unique slug: derived from the name {model.name!r} it would be {model.slug!r}, and models[{first}] {how} "
            f"(both would be the Service vllm-{model.slug})",
        )

    def _check_model_fits(self, i: int, model: SelfHostedModel, node: catalog.NeuronInstance) -> None:
        """A model's pod must fit one node of the smallest Neuron type in the group."""
        if cpu_millis(model.resources.cpu) > node.vcpus * 1000 or memory_bytes(model.resources.memory) > node.memory_gib * 2**30:
            raise bad_value(
                ("models", i, "resources"), f"cpu {model.resources.cpu}, memory {model.resources.memory}",
                f"requests that fit one {node.name} node ({node.vcpus} vCPUs, {node.memory_gib} GiB), "
                "or a larger type in neuron.instanceTypes",
            )

    def _check_neuron_capacity(self) -> None:
        """The group runs desiredSize nodes (no cluster autoscaler): unless it idles at 0, they must
        have the cores of every model replica, or some model servers never start. Checked against
        the type that launches (catalog.launched_neuron_type), not the largest one listed."""
        needed = sum(m.neuron_cores * m.replicas for m in self.models)
        node, why = self.neuron.launched_instance
        desired = self.neuron.desired_size
        if desired > 0 and needed > desired * node.neuron_cores:
            raise bad_value(
                ("neuron", "desiredSize"), desired,
                f"enough nodes for the models' {needed} NeuronCores (neuronCores x replicas); {desired} x {node.name} "
                f"({node.neuron_cores} NeuronCores each, assumed because {why}) have {desired * node.neuron_cores}. "
                "Raise desiredSize, put a larger type first in neuron.instanceTypes, or set replicas: 0 on the models "
                "to keep idle",
            )

    @property
    def cluster_name(self) -> str:
        """The EKS cluster name (explicit, or `genai-<environment>`)."""
        return self.cluster.name or f"genai-{self.environment}"

    def fallback_for(self, model: SelfHostedModel) -> Optional[str]:
        """The Bedrock model a self-hosted model falls back to (the first one by default)."""
        if model.fallback:
            return model.fallback
        return self.bedrock_models[0].name if self.bedrock_models else None
