"""The root `Settings` model and the checks that span sections."""

from __future__ import annotations

import re
from typing import Optional

from pydantic import Field, field_validator, model_validator

from components import catalog
from components.k8s.quantity import cpu_millis, memory_bytes
from components.retention import DataRetention
from components.settings.agent_server import AgentServerSettings
from components.settings.apps import (
    AccessSettings,
    DataStoreSettings,
    GatewaySettings,
    LangfuseSettings,
    OpenWebUISettings,
    SelfHostedModel,
)
from components.settings.capacity import check_system_capacity
from components.settings.errors import bad_value
from components.settings.front_door import FrontDoorSettings, check_front_door, grafana_host_follows_monitoring
from components.settings.gateway import resolve_routing
from components.settings.infra import BedrockModel, ClusterSettings, NetworkSettings, NeuronSettings, Section
from components.settings.monitoring import MonitoringSettings, check_receiver
from components.settings.scaling import ModelAutoscalingSettings, ModelCacheSettings, NeuronAutoscalerSettings
from components.settings.scaling_checks import check_scaling

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")

DEFAULT_CLAUDE_MODELS = {
    "claude-haiku-4-5": "anthropic.claude-haiku-4-5-20251001-v1:0",
    "claude-sonnet-4-5": "anthropic.claude-sonnet-4-5-20250929-v1:0",
}


def default_bedrock_models(region: str) -> list[BedrockModel]:
    """Claude Haiku 4.5 and Sonnet 4.5 through the inference profiles of the region's geography
    (none where the catalog knows no such geography for the region)."""
    geo = catalog.geo_for_region(region)
    if geo is None:
        return []
    return [BedrockModel(name=name, model_id=f"{geo}.{model}") for name, model in DEFAULT_CLAUDE_MODELS.items()]


class Settings(Section):
    """Everything a stack can configure. Keys are `genai-platform:<camelCaseField>`."""

    region: str = Field(alias="aws:region")
    account_id: Optional[str] = None
    environment: str = "dev"
    retain_data: bool = True
    """Keep stored data on `pulumi destroy` (protect, Retain); false lets a dev stack go in one destroy."""
    network: NetworkSettings = NetworkSettings()
    cluster: ClusterSettings = ClusterSettings()
    neuron: NeuronSettings = NeuronSettings()
    model_cache: ModelCacheSettings = ModelCacheSettings()
    neuron_autoscaler: NeuronAutoscalerSettings = NeuronAutoscalerSettings()
    model_autoscaling: ModelAutoscalingSettings = ModelAutoscalingSettings()
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
    monitoring: MonitoringSettings = MonitoringSettings()
    pricing: dict[str, float] = {}
    hf_token_set: bool = Field(default=False, exclude=True)
    sso_client_secret_set: bool = Field(default=False, exclude=True)
    alert_webhook_url_set: bool = Field(default=False, exclude=True)

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
            object.__setattr__(self, "bedrock_models", self._default_bedrock_models())
        self._check_bedrock_models()
        self._check_partition()
        self._check_zones()
        self._check_models()
        self._check_agent_model()
        self._check_task_model()
        check_system_capacity(self)
        resolve_routing(self)  # gateway groups, aliases and economy model refer to the models
        check_scaling(self)
        grafana_host_follows_monitoring(self)
        check_front_door(self)
        check_receiver(self)
        return self

    def _check_partition(self) -> None:
        """Principal ARNs live in the region's partition (arn:aws-cn:... only with cn-* regions)."""
        partition = catalog.partition_for(self.region)
        cluster = self.cluster
        principals = [(("adminPrincipals", i), arn) for i, arn in enumerate(cluster.admin_principals)]
        principals += [(("readerPrincipals", i), arn) for i, arn in enumerate(cluster.reader_principals)]
        principals += [(("creatorPrincipal",), cluster.creator_principal)] if cluster.creator_principal else []
        for path, arn in principals:
            if arn.split(":")[1] != partition:
                raise bad_value(
                    ("cluster", *path), arn,
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

    def _default_bedrock_models(self) -> list[BedrockModel]:
        """The default Claude profiles of the region's geography; where there are none, say what to
        set rather than deploy a gateway without Bedrock models."""
        models = default_bedrock_models(self.region)
        if models:
            return models
        if catalog.partition_for(self.region) == "aws":
            example = ", ".join(
                f"{{name: {name}, modelId: {catalog.GLOBAL_PROFILE_PREFIX}.{model}}}"
                for name, model in DEFAULT_CLAUDE_MODELS.items()
            )
            offer = (f"e.g. the global profiles [{example}] if Bedrock offers them in {self.region} "
                     f"(`aws bedrock list-inference-profiles --region {self.region}` lists the ids; preflight checks)")
        else:
            offer = (f"model or profile ids Bedrock offers in {self.region} "
                     f"(`aws bedrock list-inference-profiles --region {self.region}`)")
        raise bad_value(
            "bedrockModels", None,
            f"required in {self.region}: there are no default us./eu./apac. Claude profiles for this region, "
            f"so the gateway would have no Bedrock models. Set the models to call, {offer}; "
            "or [] to deploy without Bedrock",
        )

    def _check_bedrock_models(self) -> None:
        """Unique names; profile ids of the region's partition; no bare id of a model that Bedrock
        invokes only through an inference profile. Where a profile routes is not checked here:
        routes are per model and change (preflight reads them with GetInferenceProfile)."""
        names = [m.name for m in self.bedrock_models]
        partition = catalog.partition_for(self.region)
        for i, model in enumerate(self.bedrock_models):
            where = ("bedrockModels", i, "modelId")
            if names.count(model.name) > 1:
                raise bad_value(("bedrockModels", i, "name"), model.name, "unique among bedrockModels")
            if model.geo == catalog.GLOBAL_PROFILE_PREFIX and partition != "aws":
                raise bad_value(where, model.model_id,
                                f"a regional model or profile: global inference profiles are not offered in {self.region}")
            regional_profile = model.is_profile and model.geo != catalog.GLOBAL_PROFILE_PREFIX
            if regional_profile and (model.geo == "us-gov") != (partition == "aws-us-gov"):
                raise bad_value(where, model.model_id,
                                f"a profile of the {partition} partition of {self.region}: "
                                "'us-gov.' profiles are called from GovCloud regions only, the others never from there")
            if not model.is_profile and catalog.profile_only(model.model_id):
                geo = catalog.geo_for_region(self.region) or (catalog.GLOBAL_PROFILE_PREFIX if partition == "aws" else None)
                fix = f"{geo}.{model.model_id}" if geo else f"<prefix>.{model.model_id}"
                raise bad_value(
                    where, model.model_id,
                    f"an inference profile id: Bedrock invokes {model.model_id} only through a cross-region inference "
                    f"profile, not by its bare model id. Use {fix} (a us./eu./apac./jp./au./global. profile "
                    f"offered in {self.region}, see `aws bedrock list-inference-profiles --region {self.region}`)",
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
            if model.gated and not self.hf_token_set:
                raise bad_value(
                    ("hfToken",), None,
                    f"required: model '{model.hf_model_id}' is gated on Hugging Face; "
                    "run `pulumi config set --secret hfToken hf_...`",
                )

    def _check_agent_model(self) -> None:
        model = self.agent_server.model
        served = [m.name for m in self.models] + [m.name for m in self.bedrock_models]
        if model is not None and model not in served:
            raise bad_value(("agentServer", "model"), model, f"a model the gateway serves: {', '.join(served)}")

    def _check_task_model(self) -> None:
        model = self.open_webui.task_model
        served = [m.name for m in self.models] + [m.name for m in self.bedrock_models]
        if model is not None and model not in served:
            raise bad_value(("openWebui", "taskModel"), model,
                            f"a model the gateway serves (Open WebUI's task model is never an agent): {', '.join(served)}")

    @property
    def task_model(self) -> str:
        """The gateway model Open WebUI sends its background tasks to: `openWebui.taskModel`, else the
        first Bedrock model (always on, priced per token), else the first self-hosted one."""
        served = [m.name for m in self.bedrock_models] + [m.name for m in self.models]
        return self.open_webui.task_model or served[0]

    @property
    def agent_model(self) -> str:
        """The gateway model the agent server's agents use: `agentServer.model`, else the first Bedrock
        model (always on), else the first self-hosted one."""
        served = [m.name for m in self.bedrock_models] + [m.name for m in self.models]
        return self.agent_server.model or served[0]

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

    @property
    def retention(self) -> DataRetention:
        """What a destroy does to volumes, buckets and the credentials that guard stored data."""
        return DataRetention(retain=self.retain_data)

    @property
    def cluster_name(self) -> str:
        """The EKS cluster name (explicit, or `genai-<environment>`)."""
        return self.cluster.name or f"genai-{self.environment}"

    def fallback_for(self, model: SelfHostedModel) -> Optional[str]:
        """The Bedrock model a self-hosted model falls back to (the first one by default)."""
        if model.fallback:
            return model.fallback
        return self.bedrock_models[0].name if self.bedrock_models else None
