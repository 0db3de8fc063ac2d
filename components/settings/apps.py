"""Settings for the in-cluster apps: self-hosted models, gateway, Langfuse, Open WebUI, agent server."""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, field_validator, model_validator

from components import images
from components.settings.errors import bad_value
from components.settings.infra import Section, dns_label

_IMAGE = re.compile(r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")


def pinned_image(value: str) -> str:
    """An image reference with an explicit registry and a tag other than `latest` (or a digest)."""
    if not _IMAGE.match(value) or value.endswith((":latest", ":main")):
        raise bad_value((), value, "a pinned image: registry/repository:tag (not latest/main) or @sha256 digest")
    return value


PinnedImage = Annotated[str, AfterValidator(pinned_image)]


class Resources(Section):
    """Container requests; limits default to the requests (memory) and 4x (CPU)."""

    cpu: str = "250m"
    memory: str = "512Mi"
    cpu_limit: Optional[str] = None
    memory_limit: Optional[str] = None


class SelfHostedModel(Section):
    """One model served by vLLM on Neuron cores."""

    name: str = "llama-3.2-1b"
    hf_model_id: str = "meta-llama/Llama-3.2-1B-Instruct"
    slug: Optional[str] = None
    gated: bool = True
    image: PinnedImage = images.VLLM_NEURON
    neuron_cores: int = Field(default=2, ge=1)
    max_model_len: int = Field(default=2048, ge=128)
    max_num_seqs: int = Field(default=4, ge=1)
    block_size: int = Field(default=32, ge=8)
    replicas: int = Field(default=1, ge=0)
    cache_gib: int = Field(default=50, ge=10)
    fallback: Optional[str] = None
    resources: Resources = Resources(cpu="3", memory="10Gi", memory_limit="12Gi", cpu_limit="4")


    @field_validator("hf_model_id")
    @classmethod
    def _hf_id(cls, value: str) -> str:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
            raise bad_value((), value, "a Hugging Face model id such as meta-llama/Llama-3.2-1B-Instruct")
        return value

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, value: int) -> int:
        if value > 1:
            raise bad_value(
                (), value,
                "0 (idle) or 1: the compiled-model cache is a ReadWriteOnce volume; "
                "add another entry to `models` (its own cache) to serve more copies",
            )
        return value

    @model_validator(mode="after")
    def _slug(self):
        slug = self.slug or re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        dns_label(f"vllm-{slug}", ("slug",))
        object.__setattr__(self, "slug", slug)
        return self

    @property
    def service_name(self) -> str:
        """Deployment and Service name, e.g. `vllm-llama3-2-1b`."""
        return f"vllm-{self.slug}"

    @property
    def num_gpu_blocks_override(self) -> int:
        """Neuron plugin rule: ceil(max_model_len / block_size) * max_num_seqs."""
        return math.ceil(self.max_model_len / self.block_size) * self.max_num_seqs


class Autoscaling(Section):
    """A HorizontalPodAutoscaler on CPU utilisation."""

    min_replicas: int = Field(default=2, ge=1)
    max_replicas: int = Field(default=10, ge=1)
    target_cpu_percent: int = Field(default=70, ge=10, le=100)

    @model_validator(mode="after")
    def _ordered(self):
        if self.min_replicas > self.max_replicas:
            raise bad_value("minReplicas", self.min_replicas, f"must be <= maxReplicas ({self.max_replicas})")
        return self


RoutingStrategy = Literal[
    "simple-shuffle", "least-busy", "usage-based-routing", "usage-based-routing-v2",
    "latency-based-routing", "cost-based-routing",
]


class GatewaySettings(Section):
    """LiteLLM proxy: routing, retries, cache, scaling."""

    image: PinnedImage = images.LITELLM
    replicas: int = Field(default=2, ge=1)
    autoscaling: Optional[Autoscaling] = Autoscaling()
    routing_strategy: RoutingStrategy = "simple-shuffle"
    num_retries: int = Field(default=2, ge=0, le=10)
    timeout_seconds: int = Field(default=120, ge=5)
    allowed_fails: int = Field(default=3, ge=1)
    cooldown_seconds: int = Field(default=30, ge=1)
    cache_ttl_seconds: int = Field(default=3600, ge=0)
    resources: Resources = Resources(cpu="500m", memory="1Gi", memory_limit="2Gi")



class LangfuseSettings(Section):
    """Langfuse v4 web + worker and their stores."""

    web_image: PinnedImage = images.LANGFUSE_WEB
    worker_image: PinnedImage = images.LANGFUSE_WORKER
    web_replicas: int = Field(default=1, ge=1)
    worker_replicas: int = Field(default=1, ge=1)
    org_name: str = "genai-platform"
    project_name: str = "gateway"
    admin_email: str = "admin@genai-platform.local"
    event_retention_days: int = Field(default=30, ge=1)
    clickhouse_gib: int = Field(default=50, ge=10)


    @field_validator("admin_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", value):
            raise bad_value((), value, "an email address")
        return value


class OpenWebUISettings(Section):
    """Open WebUI: replicas, sign-up policy, data volume."""

    image: PinnedImage = images.OPEN_WEBUI
    replicas: int = Field(default=1, ge=1)
    enable_signup: bool = False
    default_user_role: Literal["pending", "user", "admin"] = "pending"
    data_gib: int = Field(default=10, ge=1)



class AgentServerSettings(Section):
    """The custom agent server (default: Open WebUI Pipelines)."""

    image: PinnedImage = images.PIPELINES
    args: list[str] = []
    env: dict[str, str] = {}
    container_port: int = Field(default=9099, ge=1, le=65535)
    replicas: int = Field(default=1, ge=1)
    health_path: str = "/"
    api_key_env: str = "PIPELINES_API_KEY"


    @field_validator("env")
    @classmethod
    def _no_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if re.search(r"(KEY|TOKEN|SECRET|PASSWORD)", key.upper()):
                raise bad_value((key,), "<hidden>", "not a literal: put credentials in secret config, never in plain env")
        return value


class AccessSettings(Section):
    """Kubernetes RBAC for people."""

    reader_group: str = "genai-readers"


class DataStoreSettings(Section):
    """The shared PostgreSQL and the Redis instances."""

    postgres_image: PinnedImage = images.POSTGRES
    redis_image: PinnedImage = images.REDIS
    clickhouse_image: PinnedImage = images.CLICKHOUSE
    postgres_gib: int = Field(default=20, ge=5)
    redis_gib: int = Field(default=5, ge=1)

