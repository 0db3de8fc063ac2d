"""The harness's own gateway: a hand-written LiteLLM config run against the stand-in backends.

``gateway_config`` is shaped like the config the Pulumi program renders for LiteLLM
(``hosted_vllm/`` model on a vLLM ``api_base``, ``bedrock/`` Claude through a cross-region
inference profile, simple-shuffle routing with a vLLM -> Bedrock fallback, ``langfuse_otel`` +
``prometheus`` callbacks, Redis response cache, master key, Open WebUI user header).
``run_harness_gateway`` starts the three stubs, Redis and the real proxy with it (fake AWS keys:
the Bedrock stub records the SigV4 header but does not verify it) and stops them all in reverse.
``tests/test_gateway_proxy_harness.py`` proves the harness with it; the program's rendered config
goes through ``tools/gateway_bench.run_gateway`` instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.gateway.proxy import ProxyURL, run_proxy
from tests.gateway.redis_server import RedisServer, run_redis
from tests.gateway.stubs import BedrockStub, OpenAIStub, OtlpStub

MASTER_KEY = "sk-harness-master-0123456789"
LANGFUSE_PUBLIC_KEY = "pk-lf-harness-public"
LANGFUSE_SECRET_KEY = "sk-lf-harness-secret"
FAKE_AWS_ACCESS_KEY_ID = "AKIAHARNESSFAKEKEY01"
USER_HEADER = "X-OpenWebUI-User-Id"
USER_ID = "owui-user-7f3a"

LLAMA = "llama-3.2-1b"
CLAUDE = "claude-haiku-4-5"
CLAUDE_PROFILE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def gateway_config(vllm_api_base: str, bedrock_endpoint: str) -> dict[str, Any]:
    """A LiteLLM config shaped like the one the program renders (stand-in endpoints)."""
    return {
        "model_list": [
            {
                "model_name": LLAMA,
                "litellm_params": {"model": f"hosted_vllm/{LLAMA}", "api_base": vllm_api_base},
            },
            {
                "model_name": CLAUDE,
                "litellm_params": {
                    "model": f"bedrock/{CLAUDE_PROFILE}",
                    "aws_region_name": "us-east-1",
                    "aws_bedrock_runtime_endpoint": bedrock_endpoint,
                },
            },
        ],
        "router_settings": {
            "routing_strategy": "simple-shuffle",
            "fallbacks": [{LLAMA: [CLAUDE]}],
            "num_retries": 1,
            "timeout": 30,
        },
        "litellm_settings": {
            "callbacks": ["langfuse_otel", "prometheus"],
            "cache": True,
            "cache_params": {
                "type": "redis",
                "host": "os.environ/REDIS_HOST",
                "port": "os.environ/REDIS_PORT",
                "ttl": 600,
            },
        },
        "general_settings": {
            "master_key": "os.environ/LITELLM_MASTER_KEY",
            "user_header_name": USER_HEADER,
        },
    }


@dataclass
class Gateway:
    url: ProxyURL
    vllm: OpenAIStub
    bedrock: BedrockStub
    otlp: OtlpStub
    redis: RedisServer


@contextlib.contextmanager
def run_harness_gateway(workdir: Path) -> Iterator[Gateway]:
    """Stubs, Redis and the proxy with ``gateway_config``; raises ``RedisUnavailable`` without Redis."""
    with contextlib.ExitStack() as stack:  # unwinds in reverse: proxy, Redis, then the stubs
        vllm = stack.enter_context(OpenAIStub())
        bedrock = stack.enter_context(BedrockStub())
        otlp = stack.enter_context(OtlpStub())
        redis = stack.enter_context(run_redis())
        env = {
            "LITELLM_MASTER_KEY": MASTER_KEY,
            "LANGFUSE_PUBLIC_KEY": LANGFUSE_PUBLIC_KEY,
            "LANGFUSE_SECRET_KEY": LANGFUSE_SECRET_KEY,
            # langfuse_otel reads LANGFUSE_OTEL_HOST, else LANGFUSE_HOST, and appends /api/public/otel
            "LANGFUSE_HOST": otlp.host,
            "REDIS_HOST": redis.host,
            "REDIS_PORT": str(redis.port),
            "AWS_ACCESS_KEY_ID": FAKE_AWS_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": "harness-fake-secret-key",
            "AWS_REGION": "us-east-1",
        }
        url = stack.enter_context(run_proxy(gateway_config(vllm.api_base, bedrock.url), env, workdir=workdir))
        yield Gateway(url, vllm, bedrock, otlp, redis)
