"""Settings for the in-cluster apps: self-hosted models, gateway, Langfuse, Open WebUI, data stores,
people's access. The shared workload shapes are in `workload.py`, the agent server's in `agent_server.py`."""

from __future__ import annotations

import math
import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from components import images
from components.settings.errors import bad_value
from components.settings.gateway import EconomySettings, GatewayClients, ModelGroup
from components.settings.infra import Section
from components.settings.workload import Autoscaling, PinnedImage, Resources

TENSOR_PARALLEL_DEGREES = (1, 2, 4, 8, 16, 32)
MAX_SLUG = 63 - len("vllm-")  # the Service name vllm-<slug> is a DNS label of at most 63 characters


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
    # Replicas: KEDA scales between these on the queue depth; minReplicas 0 lets an idle model
    # scale to zero (the gateway falls back to Bedrock while it is cold)
    min_replicas: int = Field(default=1, ge=0, le=100)
    max_replicas: int = Field(default=1, ge=1, le=100)
    # Waiting requests (vllm:num_requests_waiting) per replica before KEDA adds one
    target_waiting_requests: int = Field(default=2, ge=1, le=1000)
    # With minReplicas 0: scale to zero after this long without traffic (KEDA cooldownPeriod)
    idle_minutes: int = Field(default=15, ge=1, le=1440)
    # The model's cache: its gp3 volume with modelCache.kind ebs (the largest is 16 TiB); on the shared
    # EFS cache what it is expected to store (the cost estimate prices that much)
    cache_gib: int = Field(default=50, ge=10, le=16384)
    fallback: Optional[str] = None
    # Gateway limits for this server: requests / tokens per minute (enforced across gateway
    # replicas through Redis) and requests in flight per gateway replica (default max_num_seqs)
    rpm: Optional[int] = Field(default=None, ge=1)
    tpm: Optional[int] = Field(default=None, ge=1)
    max_parallel_requests: Optional[int] = Field(default=None, ge=1)
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

    @model_validator(mode="before")
    @classmethod
    def _old_replicas_key(cls, data):
        if isinstance(data, dict) and "replicas" in data:
            raise bad_value(
                "replicas", data["replicas"],
                "removed: set minReplicas and maxReplicas (KEDA scales between them on queue depth; "
                "minReplicas 0 lets the model scale to zero when idle)",
            )
        return data

    @model_validator(mode="after")
    def _replica_range(self):
        if self.min_replicas > self.max_replicas:
            raise bad_value("minReplicas", self.min_replicas, f"at most maxReplicas ({self.max_replicas})")
        return self

    @property
    def autoscaled(self) -> bool:
        """KEDA owns the replica count (it varies between minReplicas and maxReplicas)."""
        return self.min_replicas != self.max_replicas

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

    @model_validator(mode="after")
    def _parallel_within_batch(self):
        if self.max_parallel_requests is not None and self.max_parallel_requests > self.max_num_seqs:
            raise bad_value(
                "maxParallelRequests", self.max_parallel_requests,
                f"at most maxNumSeqs ({self.max_num_seqs}): vLLM runs that many sequences at once, "
                "more would only queue inside the server",
            )
        return self

    @property
    def parallel_cap(self) -> int:
        """Requests one gateway replica sends this server at once (LiteLLM max_parallel_requests)."""
        return self.max_parallel_requests or self.max_num_seqs

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


RoutingStrategy = Literal[
    "simple-shuffle", "least-busy", "usage-based-routing", "usage-based-routing-v2",
    "latency-based-routing", "cost-based-routing",
]


class GatewaySettings(Section):
    """LiteLLM proxy: routing, retries, cache, scaling, cost and access control."""

    image: PinnedImage = images.LITELLM
    replicas: int = Field(default=2, ge=1)
    autoscaling: Optional[Autoscaling] = Autoscaling()
    routing_strategy: RoutingStrategy = "simple-shuffle"
    num_retries: int = Field(default=2, ge=0, le=10)
    timeout_seconds: int = Field(default=120, ge=5)
    allowed_fails: int = Field(default=3, ge=1)
    cooldown_seconds: int = Field(default=30, ge=1)
    # The response cache is opt-in per request (`cache: {"use-cache": true}`); 0 turns it off
    cache_ttl_seconds: int = Field(default=3600, ge=0)
    economy: Optional[EconomySettings] = EconomySettings()
    model_groups: Optional[list[ModelGroup]] = None  # default: `chat` = first Bedrock model + economy model
    aliases: Optional[dict[str, str]] = None  # default: fast -> chat, economy -> the economy model
    bedrock_rpm: Optional[int] = Field(default=None, ge=1)  # per Bedrock deployment, across replicas
    bedrock_tpm: Optional[int] = Field(default=None, ge=1)
    clients: GatewayClients = GatewayClients()
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
    # The gateway model for Open WebUI's background tasks (titles, tags, follow-ups), never an agent
    # (default: the first Bedrock model, else the first self-hosted one); checked in Settings
    task_model: Optional[str] = None

    @field_validator("admin_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", value):
            raise bad_value((), value, "an email address")
        return value



class AccessSettings(Section):
    """Kubernetes RBAC for people."""

    reader_group: str = "genai-readers"

    @field_validator("reader_group")
    @classmethod
    def _group(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][\w.@:-]{0,127}", value):
            raise bad_value((), value, "a group name as the cluster's authenticator maps it, such as genai-readers")
        # CreateAccessEntry refuses such groups: "The kubernetes group name ... cannot start with system:"
        if value.startswith("system:"):
            raise bad_value((), value, "a group name that does not start with system: (EKS access entries refuse those)")
        return value


class DataStoreSettings(Section):
    """The shared PostgreSQL and the Redis instances."""

    postgres_image: PinnedImage = images.POSTGRES
    redis_image: PinnedImage = images.REDIS
    clickhouse_image: PinnedImage = images.CLICKHOUSE
    postgres_gib: int = Field(default=20, ge=5)
    redis_gib: int = Field(default=5, ge=1)

