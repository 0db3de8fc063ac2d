"""LiteLLM's `config.yaml`, built as data from settings (tests and the real proxy load it).

The seed page's `model_tiers`, `routing_rules`, `cache_rules` and `performance_config` are not
LiteLLM settings; their intent maps onto real features: a routing strategy, fallbacks from each
self-hosted model to Bedrock, retries/cooldowns, and a Redis response cache with a TTL (callers
opt out per request with `cache: {"no-cache": true}`).
"""

from __future__ import annotations

from typing import Any

import yaml

from components.settings import Settings
from components.settings.apps import SelfHostedModel

USER_HEADER = "X-OpenWebUI-User-Id"
VLLM_PORT = 8000


def vllm_api_base(model: SelfHostedModel, namespace: str) -> str:
    """The model's Service, by its cluster DNS name."""
    return f"http://{model.service_name}.{namespace}.svc.cluster.local:{VLLM_PORT}/v1"


# What /metrics exposes: requests, latency (total, upstream, time to first token, the gateway's own
# overhead), tokens, deployment health and fallbacks, and the response cache. LiteLLM's budget,
# rate-limit and spend-queue series need its database features and stay off.
PROMETHEUS_METRICS = [
    "litellm_proxy_total_requests_metric",
    "litellm_proxy_failed_requests_metric",
    "litellm_request_total_latency_metric",
    "litellm_llm_api_latency_metric",
    "litellm_llm_api_time_to_first_token_metric",
    "litellm_overhead_latency_metric",
    "litellm_input_tokens_metric",
    "litellm_output_tokens_metric",
    # USD per request by model: the cost panel and the spend-per-hour alert (components/monitoring)
    "litellm_spend_metric",
    "litellm_deployment_state",
    "litellm_deployment_success_responses",
    "litellm_deployment_failure_responses",
    "litellm_deployment_cooled_down",
    "litellm_deployment_successful_fallbacks",
    "litellm_deployment_failed_fallbacks",
    "litellm_cache_hits_metric",
    "litellm_cache_misses_metric",
]
# Per-caller labels are left out of every series: one series per Open WebUI user, key or client
# address has no bound, and e-mail addresses and client IPs are personal data. Per-user usage is
# in Langfuse's traces instead.
PROMETHEUS_EXCLUDED_LABELS = [
    "end_user", "user", "user_email", "client_ip", "user_agent", "hashed_api_key", "api_key_alias", "team", "team_alias",
]

# Strategies that count usage or latency across replicas need the router's state in Redis;
# simple-shuffle does not, and skipping it saves Redis round trips on every request.
_STATEFUL_STRATEGIES = ("usage-based-routing", "usage-based-routing-v2", "latency-based-routing", "least-busy")


def _shared_router_state() -> dict[str, str]:
    return {"redis_host": env("REDIS_HOST"), "redis_port": env("REDIS_PORT"), "redis_password": env("REDIS_PASSWORD")}


def env(name: str) -> str:
    """A value LiteLLM reads from the environment (a Secret), never written into the file."""
    return f"os.environ/{name}"


def gateway_config(settings: Settings, namespace: str) -> dict[str, Any]:
    """The full proxy configuration."""
    gateway = settings.gateway
    model_list: list[dict[str, Any]] = [
        {
            "model_name": m.name,
            "litellm_params": {"model": f"bedrock/{m.model_id}", "aws_region_name": settings.region},
            "model_info": {"id": f"bedrock-{m.name}", "provider": "bedrock"},
        }
        for m in settings.bedrock_models
    ]
    model_list += [
        {
            "model_name": m.name,
            "litellm_params": {
                "model": f"hosted_vllm/{m.name}",
                "api_base": vllm_api_base(m, namespace),
                "timeout": gateway.timeout_seconds,
            },
            "model_info": {"id": f"vllm-{m.slug}", "provider": "vllm", "hf_model_id": m.hf_model_id},
        }
        for m in settings.models
    ]
    fallbacks = [
        {m.name: [settings.fallback_for(m)]} for m in settings.models if settings.fallback_for(m) is not None
    ]
    return {
        "model_list": model_list,
        "router_settings": {
            "routing_strategy": gateway.routing_strategy,
            "num_retries": gateway.num_retries,
            "timeout": gateway.timeout_seconds,
            "allowed_fails": gateway.allowed_fails,
            "cooldown_time": gateway.cooldown_seconds,
            "fallbacks": fallbacks,
            **(_shared_router_state() if gateway.routing_strategy in _STATEFUL_STRATEGIES else {}),
        },
        "litellm_settings": {
            "callbacks": ["langfuse_otel", "prometheus"],
            "prometheus_metrics_config": [{"group": "gateway", "metrics": PROMETHEUS_METRICS}],
            "prometheus_exclude_labels": PROMETHEUS_EXCLUDED_LABELS,
            # /metrics requires a key by default since LiteLLM made it so (PrometheusAuthMiddleware);
            # the documented opt-out lets Prometheus scrape without holding the master key. The series
            # carry no per-caller labels (above), and NetworkPolicy admits only Prometheus and the
            # gateway's own callers to the port.
            "require_auth_for_metrics_endpoint": False,
            "cache": gateway.cache_ttl_seconds > 0,
            "cache_params": {
                "type": "redis",
                "host": env("REDIS_HOST"),
                "port": env("REDIS_PORT"),
                "password": env("REDIS_PASSWORD"),
                "ttl": gateway.cache_ttl_seconds,
                "namespace": "litellm.response-cache",
            },
            "request_timeout": gateway.timeout_seconds,
            "drop_params": True,
            # Token counting falls back to tiktoken: no Hugging Face downloads from the gateway
            "disable_hf_tokenizer_download": True,
        },
        "general_settings": {
            "master_key": env("LITELLM_MASTER_KEY"),
            "database_url": env("DATABASE_URL"),
            "user_header_name": USER_HEADER,
        },
    }


def render_gateway_config(settings: Settings, namespace: str) -> str:
    """`config.yaml` as mounted into the proxy."""
    return yaml.safe_dump(gateway_config(settings, namespace), sort_keys=False)
