"""Settings for the in-cluster apps: self-hosted models, gateway, Langfuse, Open WebUI, agent server."""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, field_validator, model_validator

from components import images
from components.k8s.quantity import cpu_millis, memory_bytes
from components.settings.errors import bad_value
from components.settings.infra import Section

_IMAGE = re.compile(r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")


def pinned_image(value: str) -> str:
    """An image reference with an explicit registry and a versioned tag or a digest. A tag
    without a digit (latest, main, stable, main-stable) or with `latest` in it moves."""
    match = _IMAGE.match(value)
    tag = (match.group(3) or "") if match else ""
    if not match or (tag.startswith(":") and (not re.search(r"\d", tag) or "latest" in tag)):
        raise bad_value(
            (), value,
            "a pinned image: registry/repository:<version or commit tag> or @sha256 digest "
            "(moving tags such as latest, main, stable or main-latest are not pinned)",
        )
    return value


PinnedImage = Annotated[str, AfterValidator(pinned_image)]


class Resources(Section):
    """Container requests; limits default to the requests (memory) and 4x (CPU)."""

    cpu: str = "250m"
    memory: str = "512Mi"
    cpu_limit: Optional[str] = None
    memory_limit: Optional[str] = None

    @field_validator("cpu", "cpu_limit")
    @classmethod
    def _cpu(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not 0 < _parsed(cpu_millis, value) <= MAX_CPU_MILLIS:
            raise bad_value((), value, f"a CPU quantity above 0 and at most {MAX_CPU_MILLIS // 1000}, such as 500m or 2")
        return value

    @field_validator("memory", "memory_limit")
    @classmethod
    def _memory(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not 0 < _parsed(memory_bytes, value) <= MAX_MEMORY_BYTES:
            raise bad_value((), value, "a memory quantity above 0 and at most 2Ti, such as 512Mi or 4Gi")
        return value

    @model_validator(mode="after")
    def _limits_cover_requests(self):
        if self.cpu_limit is not None and cpu_millis(self.cpu_limit) < cpu_millis(self.cpu):
            raise bad_value("cpuLimit", self.cpu_limit, f"at least the CPU request ({self.cpu})")
        if self.memory_limit is not None and memory_bytes(self.memory_limit) < memory_bytes(self.memory):
            raise bad_value("memoryLimit", self.memory_limit, f"at least the memory request ({self.memory})")
        return self


TENSOR_PARALLEL_DEGREES = (1, 2, 4, 8, 16, 32)
MAX_CPU_MILLIS = 192_000  # the largest nodes this platform runs have 192 vCPUs
MAX_MEMORY_BYTES = 2 * 2**40
MAX_SLUG = 63 - len("vllm-")  # the Service name vllm-<slug> is a DNS label of at most 63 characters


def _parsed(parse, value: object) -> float:
    """The quantity's number, or -1 when it is not a quantity (so the range check reports it)."""
    try:
        return parse(value)
    except ValueError:
        return -1


class SelfHostedModel(Section):
    """One model served by vLLM on Neuron cores."""

    name: str  # the model name clients ask the gateway for
    hf_model_id: str
    slug: Optional[str] = None
    gated: bool = True
    image: PinnedImage = images.VLLM_NEURON
    neuron_cores: int = 2
    max_model_len: int = Field(default=2048, ge=128, le=131072)  # Llama 3.x context: 128k tokens
    max_num_seqs: int = Field(default=4, ge=1, le=256)
    block_size: int = Field(default=32, ge=8, le=4096)
    replicas: int = Field(default=1, ge=0)
    cache_gib: int = Field(default=50, ge=10, le=16384)  # the largest gp3 volume is 16 TiB
    fallback: Optional[str] = None
    resources: Resources = Resources(cpu="3", memory="10Gi", memory_limit="12Gi", cpu_limit="4")

    @field_validator("neuron_cores")
    @classmethod
    def _tensor_parallel(cls, value: int) -> int:
        if value not in TENSOR_PARALLEL_DEGREES:
            raise bad_value(
                (), value,
                f"one of {', '.join(map(str, TENSOR_PARALLEL_DEGREES))}: it is vLLM's --tensor-parallel-size, "
                "which must divide the model's attention heads",
            )
        return value

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
        if self.slug_written:  # reported as written, not as the Service name it makes
            if len(self.slug) > MAX_SLUG or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", self.slug):
                raise bad_value(
                    "slug", self.slug,
                    f"lowercase letters, digits and '-', not starting or ending with '-', at most {MAX_SLUG} "
                    "characters (the Service is vllm-<slug>, a DNS label)",
                )
            return self
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        if not slug or len(slug) > MAX_SLUG:
            raise bad_value(
                "slug", None,
                f"set when the name ({self.name!r}) does not shorten to 1-{MAX_SLUG} lowercase letters, digits and '-'",
            )
        object.__setattr__(self, "slug", slug)
        return self

    @property
    def slug_written(self) -> bool:
        """Whether the stack sets `slug` (otherwise it is derived from `name`)."""
        return "slug" in self.model_fields_set

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

    min_replicas: int = Field(default=2, ge=1, le=100)
    max_replicas: int = Field(default=10, ge=1, le=100)
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
    # The first admin, created by the program at first start (password: stack output openWebuiAdminPassword)
    admin_email: str = "admin@genai-platform.local"

    @field_validator("admin_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", value):
            raise bad_value((), value, "an email address")
        return value



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

    @field_validator("reader_group")
    @classmethod
    def _group(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][\w.@:-]{0,127}", value):
            raise bad_value((), value, "a group name as the cluster's authenticator maps it, such as genai-readers")
        return value


class DataStoreSettings(Section):
    """The shared PostgreSQL and the Redis instances."""

    postgres_image: PinnedImage = images.POSTGRES
    redis_image: PinnedImage = images.REDIS
    clickhouse_image: PinnedImage = images.CLICKHOUSE
    postgres_gib: int = Field(default=20, ge=5)
    redis_gib: int = Field(default=5, ge=1)

