"""The gateway as the program renders it, run on loopback against the stand-in backends.

Used by ``tests/test_gateway_rendered.py`` and ``tools/gateway_bench.py``: turns the offline
engine's records into LiteLLM's ``config.yaml`` and the ``litellm`` Deployment's environment
(``RenderedGateway``, ``loopback_config``, ``loopback_env``) and starts everything
(``run_gateway``). What differs from production, and nothing else:

- Each in-cluster address becomes a loopback one: every vLLM ``api_base`` -> its ``OpenAIStub``;
  ``LANGFUSE_HOST`` -> the ``OtlpStub``; ``REDIS_HOST``/``REDIS_PORT`` -> a real Redis started
  with the rendered Redis password; Bedrock -> the ``BedrockStub`` through LiteLLM's endpoint
  override env ``AWS_BEDROCK_RUNTIME_ENDPOINT`` (the config file stays as rendered).
- ``general_settings.database_url`` is removed from the config and ``DATABASE_URL`` from the
  environment: LiteLLM's DB mode needs Prisma query engines that are downloaded at run time,
  which cannot happen here (see ``tests/gateway/proxy.py``).
- AWS credentials come the way EKS Pod Identity delivers them, from a stand-in Pod Identity
  agent (``AWS_CONTAINER_CREDENTIALS_FULL_URI`` + ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``,
  the variables EKS injects into the pod), so no static AWS key is configured here either.
- ``tests/gateway/proxy.py`` adds its offline settings (bundled cost map, no HF downloads, a
  short OTel batch delay).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from tests.gateway.proxy import ProxyURL, run_proxy
from tests.gateway.redis_server import RedisServer, run_redis
from tests.gateway.stubs import BedrockStub, OpenAIStub, OtlpStub, RecordedRequest, Response, StubServer

CONFIG_MAP = "litellm-config"
CONFIG_KEY = "config.yaml"
GATEWAY_DEPLOYMENT = "litellm"
LANGFUSE_DEPLOYMENT = "langfuse"
CLUSTER_DOMAIN = ".svc.cluster.local"

# Rendered env vars that name an in-cluster address, and what stands in for each
LOOPBACK_ENV = ("LANGFUSE_HOST", "REDIS_HOST", "REDIS_PORT")
# Rendered env vars the proxy does not get here (DB mode needs Prisma engines: see module doc)
DROPPED_ENV = ("DATABASE_URL",)
# The variables EKS Pod Identity injects into a pod whose service account has an association
POD_IDENTITY_ENV = ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")



# ---------------------------------------------------------------------------------------------
# From the engine's records
# ---------------------------------------------------------------------------------------------


def _named(run: Any, type_: str, name: str) -> Any:
    """The one resource of ``type_`` whose Kubernetes name is exactly ``name``."""
    [record] = [r for r in run.of_type(type_) if (r.inputs.get("metadata") or {}).get("name") == name]
    return record


def _container_env(run: Any, deployment: str) -> list[dict[str, Any]]:
    containers = _named(run, "kubernetes:apps/v1:Deployment", deployment).inputs["spec"]["template"]["spec"]["containers"]
    container = next((c for c in containers if c["name"] == deployment), containers[0])
    return list(container.get("env") or [])


def _secrets(run: Any) -> dict[str, dict[str, str]]:
    return {
        r.inputs["metadata"]["name"]: dict(r.inputs.get("stringData") or {})
        for r in run.of_type("kubernetes:core/v1:Secret")
    }


def resolve_env(entries: list[dict[str, Any]], secrets: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """A container's env as the kubelet would set it: literals, and secretKeyRefs looked up."""
    out: dict[str, str] = {}
    for entry in entries:
        if "value" in entry:
            out[entry["name"]] = str(entry["value"])
            continue
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref is None:
            raise ValueError(f"env {entry['name']}: only literal values and secretKeyRefs are supported: {entry}")
        out[entry["name"]] = secrets[ref["name"]][ref["key"]]
    return out


@dataclass(frozen=True)
class RenderedGateway:
    """What the program renders for the gateway in one stack (from the offline engine)."""

    stack: str
    namespace: str
    config_text: str
    env_entries: list[dict[str, Any]]
    secrets: dict[str, dict[str, str]]
    langfuse_env: dict[str, str]
    """The Langfuse web Deployment's env, secrets resolved (its headless-init project keys)."""

    @classmethod
    def from_run(cls, run: Any) -> RenderedGateway:
        config_map = _named(run, "kubernetes:core/v1:ConfigMap", CONFIG_MAP)
        secrets = _secrets(run)
        return cls(
            stack=run.stack,
            namespace=config_map.inputs["metadata"]["namespace"],
            config_text=config_map.inputs["data"][CONFIG_KEY],
            env_entries=_container_env(run, GATEWAY_DEPLOYMENT),
            secrets=secrets,
            langfuse_env=resolve_env(_container_env(run, LANGFUSE_DEPLOYMENT), secrets),
        )

    @property
    def config(self) -> dict[str, Any]:
        return yaml.safe_load(self.config_text)

    @property
    def env(self) -> dict[str, str]:
        """The gateway container's env with every secretKeyRef resolved (the production values)."""
        return resolve_env(self.env_entries, self.secrets)

    @property
    def master_key(self) -> str:
        return self.env["LITELLM_MASTER_KEY"]

    def model_names(self) -> list[str]:
        return [m["model_name"] for m in self.config["model_list"]]


def render(stack: str = "dev") -> RenderedGateway:
    """Run the program offline for ``stack`` and take the gateway's rendered files."""
    from tools.offline.engine import run_stack

    return RenderedGateway.from_run(run_stack(stack))


def _served_model(params: Mapping[str, Any]) -> str:
    """The vLLM server a deployment calls, by the model it serves (``hosted_vllm/<name>``): a model
    group's self-hosted deployment reaches the same server as the model's own deployment."""
    return params["model"].split("/", 1)[1]


def loopback_config(config: Mapping[str, Any], api_bases: Mapping[str, str]) -> dict[str, Any]:
    """The rendered config with each deployment's in-cluster ``api_base`` replaced by its server's
    stub (``api_bases``: served model name -> URL) and ``general_settings.database_url`` removed;
    nothing else changes."""
    out = copy.deepcopy(dict(config))
    for entry in out["model_list"]:
        params = entry["litellm_params"]
        if "api_base" in params:
            if CLUSTER_DOMAIN not in params["api_base"]:
                raise ValueError(f"{entry['model_name']}: api_base {params['api_base']} is not an in-cluster address")
            params["api_base"] = api_bases[_served_model(params)]
    out.get("general_settings", {}).pop("database_url", None)
    return out


def loopback_env(
    rendered: RenderedGateway, *, langfuse_url: str, redis_host: str, redis_port: int, extra: Mapping[str, str] = {}
) -> dict[str, str]:
    """The rendered gateway env, same names, with in-cluster addresses mapped to loopback ones."""
    env = rendered.env
    for name in LOOPBACK_ENV:
        if name not in env:
            raise KeyError(f"the rendered {GATEWAY_DEPLOYMENT} Deployment no longer sets {name}")
    if CLUSTER_DOMAIN not in env["LANGFUSE_HOST"] or CLUSTER_DOMAIN not in env["REDIS_HOST"]:
        raise ValueError(f"expected in-cluster LANGFUSE_HOST/REDIS_HOST, got {env}")
    env.update(LANGFUSE_HOST=langfuse_url, REDIS_HOST=redis_host, REDIS_PORT=str(redis_port))
    for name in DROPPED_ENV:
        env.pop(name, None)
    left = {k: v for k, v in env.items() if CLUSTER_DOMAIN in v}
    if left:
        raise ValueError(f"in-cluster addresses without a loopback stand-in: {left}")
    env.update(extra)
    return env


# ---------------------------------------------------------------------------------------------
# Stand-ins
# ---------------------------------------------------------------------------------------------


class PodIdentityAgentStub(StubServer):
    """The EKS Pod Identity agent's credentials endpoint (``GET /v1/credentials``).

    Answers only requests carrying the pod's token in ``Authorization`` (as the agent does), with
    temporary credentials in the container-credentials format botocore reads.
    """

    name = "pod-identity-agent"
    ACCESS_KEY_ID = "ASIAPODIDENTITYSTUB1"

    def __init__(self, token: str, port: int = 0) -> None:
        super().__init__(port)
        self.token = token

    @property
    def credentials_uri(self) -> str:
        return f"{self.url}/v1/credentials"

    def route(self, request: RecordedRequest) -> Response:
        if request.method != "GET" or request.path != "/v1/credentials":
            return Response.json({"message": "not found"}, status=404)
        if request.header("authorization") != self.token:
            return Response.json({"message": "invalid token"}, status=401)
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=6)
        return Response.json(
            {
                "AccessKeyId": self.ACCESS_KEY_ID,
                "SecretAccessKey": "pod-identity-stub-secret-key",
                "Token": "pod-identity-stub-session-token",
                "AccountId": "123456789012",
                "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )


def _bedrock_ids(config: Mapping[str, Any]) -> dict[str, str]:
    """Bedrock model name -> the model id LiteLLM sends (``bedrock/<id>``)."""
    return {
        m["model_name"]: m["litellm_params"]["model"].split("/", 1)[1]
        for m in config["model_list"]
        if m["litellm_params"]["model"].startswith("bedrock/")
    }


def vllm_models(config: Mapping[str, Any]) -> list[str]:
    """One name per vLLM server (deployments of several groups may share one)."""
    return sorted({_served_model(m["litellm_params"]) for m in config["model_list"] if "api_base" in m["litellm_params"]})


@dataclass
class GatewayRun:
    """Everything running for one gateway: the proxy, its backends, Redis."""

    url: ProxyURL
    rendered: RenderedGateway
    config: dict[str, Any]
    """The config the proxy runs (the rendered one on loopback)."""
    env: dict[str, str]
    vllm: dict[str, OpenAIStub]
    """One stub per self-hosted model, by model name."""
    bedrock: BedrockStub
    otlp: OtlpStub
    agent: PodIdentityAgentStub
    redis: RedisServer
    redis_password: str
    bedrock_ids: dict[str, str] = field(default_factory=dict)

    @property
    def master_key(self) -> str:
        return self.env["LITELLM_MASTER_KEY"]

    def redis_client(self):
        import redis

        return redis.Redis(host=self.redis.host, port=self.redis.port, password=self.redis_password, socket_timeout=5)


@contextlib.contextmanager
def _backends(rendered: RenderedGateway) -> Iterator[tuple[dict[str, OpenAIStub], BedrockStub, OtlpStub, PodIdentityAgentStub, RedisServer, str]]:
    config = rendered.config
    password = rendered.env["REDIS_PASSWORD"]
    token = f"pod-identity-token-{uuid.uuid4().hex}"
    with contextlib.ExitStack() as stack:  # unwinds in reverse
        vllm = {name: stack.enter_context(OpenAIStub(models=[name])) for name in vllm_models(config)}
        bedrock = stack.enter_context(BedrockStub())
        otlp = stack.enter_context(OtlpStub())
        agent = stack.enter_context(PodIdentityAgentStub(token))
        redis_server = stack.enter_context(run_redis())
        # The rendered gateway authenticates to Redis with the generated password: require it
        redis_server.client().config_set("requirepass", password)
        yield vllm, bedrock, otlp, agent, redis_server, password


@contextlib.contextmanager
def run_gateway(
    rendered: RenderedGateway, workdir: Optional[Path] = None, extra_env: Mapping[str, str] = {},
    startup_timeout: float = 60.0, proxy_port: Optional[int] = None,
    before_proxy: Optional[Callable[[OtlpStub, RedisServer], None]] = None,
) -> Iterator[GatewayRun]:
    """Start the backends, Redis and the real proxy with the rendered config and env
    (``extra_env`` replaces harness settings, e.g. the test-speed OTel export delay).
    ``proxy_port`` and ``before_proxy`` (called with the OTLP capture and Redis once they are up)
    let a caller start its own services while the proxy starts (the e2e run)."""
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gateway-rendered-")))
        workdir.mkdir(parents=True, exist_ok=True)
        vllm, bedrock, otlp, agent, redis_server, password = stack.enter_context(_backends(rendered))
        token_file = workdir / "eks-pod-identity-token"
        token_file.write_text(agent.token)
        config = loopback_config(rendered.config, {name: stub.api_base for name, stub in vllm.items()})
        env = loopback_env(
            rendered,
            langfuse_url=otlp.url,
            redis_host=redis_server.host,
            redis_port=redis_server.port,
            extra={
                "AWS_BEDROCK_RUNTIME_ENDPOINT": bedrock.url,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": agent.credentials_uri,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
                **extra_env,
            },
        )
        if before_proxy is not None:
            before_proxy(otlp, redis_server)
        url = stack.enter_context(run_proxy(config, env, workdir=workdir / "proxy", startup_timeout=startup_timeout,
                                            port=proxy_port))
        yield GatewayRun(url, rendered, config, env, vllm, bedrock, otlp, agent, redis_server, password,
                         _bedrock_ids(rendered.config))


