"""LiteLLM's `config.yaml`, built as data from settings (tests and the real proxy load it).

The seed page's `model_tiers`, `routing_rules`, `cache_rules` and `performance_config` are not
LiteLLM settings; their intent maps onto real features (checked in litellm 1.106.2):

- tiers: model groups (a Bedrock deployment with the self-hosted model as fallback) and
  `router_settings.model_group_alias` (`fast`, `economy`);
- cost: `router_settings.provider_budget_config.bedrock` - Bedrock spend per period, kept in
  Redis so every replica agrees; past the limit Bedrock is skipped until the period ends;
- backend protection: per-deployment `max_parallel_requests` (vLLM's max_num_seqs: a request
  beyond it gets a rate-limit error and falls back), `rpm`/`tpm` enforced by the
  `enforce_model_rate_limits` pre-call check;
- cache: a Redis response cache in `default_off` mode: a request is cached only when it asks
  (`cache: {"use-cache": true}`), so nothing is shared by default and Regenerate is never replayed;
- sessions: `X-LiteLLM-Session-Id` (Open WebUI sends its chat id under that name) becomes
  `litellm_session_id` and the Langfuse session; `X-OpenWebUI-User-Id` the Langfuse user.
"""

from __future__ import annotations

from typing import Any, Optional

import yaml

from components.settings import Settings
from components.settings.apps import SelfHostedModel
from components.settings.gateway import resolve_routing

USER_HEADER = "X-OpenWebUI-User-Id"
# LiteLLM reads this header into litellm_session_id (litellm/proxy/litellm_pre_call_utils.py,
# get_chain_id_from_headers); Open WebUI 0.12.4 sends the chat id under the name set in
# FORWARD_SESSION_INFO_HEADER_CHAT_ID (open_webui/utils/headers.py, get_headers_and_cookies)
SESSION_HEADER = "X-LiteLLM-Session-Id"
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
    "litellm_deployment_state",
    "litellm_deployment_success_responses",
    "litellm_deployment_failure_responses",
    "litellm_deployment_cooled_down",
    "litellm_deployment_successful_fallbacks",
    "litellm_deployment_failed_fallbacks",
    "litellm_cache_hits_metric",
    "litellm_cache_misses_metric",
    # Spend in USD by model and by client key alias (one per client: a bounded label): the cost
    # panel and the spend-per-hour alert (components/monitoring)
    "litellm_spend_metric",
]
# Per-caller labels are left out of every series: one series per Open WebUI user or client
# address has no bound, and e-mail addresses and client IPs are personal data. Per-user usage is
# in Langfuse's traces instead. The key alias stays: there is one key per client.
PROMETHEUS_EXCLUDED_LABELS = [
    "end_user", "user", "user_email", "client_ip", "user_agent", "hashed_api_key", "team", "team_alias",
]

# Strategies that count usage or latency across replicas need the router's state in Redis;
# simple-shuffle does not, and skipping it saves Redis round trips on every request.
_STATEFUL_STRATEGIES = ("usage-based-routing", "usage-based-routing-v2", "latency-based-routing", "least-busy")


def _shared_router_state() -> dict[str, str]:
    return {"redis_host": env("REDIS_HOST"), "redis_port": env("REDIS_PORT"), "redis_password": env("REDIS_PASSWORD")}


def env(name: str) -> str:
    """A value LiteLLM reads from the environment (a Secret), never written into the file."""
    return f"os.environ/{name}"


def _bedrock_deployment(settings: Settings, name: str, model_id: str, deployment_id: str) -> dict[str, Any]:
    gateway = settings.gateway
    limits = {k: v for k, v in (("rpm", gateway.bedrock_rpm), ("tpm", gateway.bedrock_tpm)) if v is not None}
    return {
        "model_name": name,
        "litellm_params": {"model": f"bedrock/{model_id}", "aws_region_name": settings.region, **limits},
        "model_info": {"id": deployment_id, "provider": "bedrock"},
    }


def _vllm_deployment(settings: Settings, m: SelfHostedModel, namespace: str, *, name: str, deployment_id: str,
                     cap: int, order: Optional[int] = None) -> dict[str, Any]:
    limits = {k: v for k, v in (("rpm", m.rpm), ("tpm", m.tpm), ("order", order)) if v is not None}
    return {
        "model_name": name,
        "litellm_params": {
            "model": f"hosted_vllm/{m.name}",
            "api_base": vllm_api_base(m, namespace),
            "timeout": settings.gateway.timeout_seconds,
            # Requests one gateway replica has in flight here; one more gets a rate-limit error
            # and is retried or falls back (litellm/router_utils/client_initalization_utils.py)
            "max_parallel_requests": cap,
            **limits,
        },
        "model_info": {"id": deployment_id, "provider": "vllm", "hf_model_id": m.hf_model_id, **SELF_HOSTED_TOKEN_RATES},
    }


# Self-hosted tokens cost nothing per token (the servers are paid by the hour), and saying so
# explicitly is what keeps them cheap to account: without rates, LiteLLM prices the response at $0
# and then, twice per request (once for the response headers, before the reply), runs its zero-cost
# diagnostic over the deployment's whole ~165-key default pricing entry; with explicit zero rates for
# the keys the usage needs it stops at once (litellm/litellm_core_utils/llm_cost_calc/
# zero_cost_diagnostic.py, diagnose_zero_cost; called from litellm_logging.py
# _record_zero_cost_diagnostic). Spend stays $0 for these deployments, as before. The prefix-cache
# rate is declared too, or LiteLLM warns at start that it defaults to 0 (litellm/utils.py register_model).
SELF_HOSTED_TOKEN_RATES = {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "cache_read_input_token_cost": 0.0}


def parallel_caps(settings: Settings) -> dict[tuple[str, str], int]:
    """(model name, deployment id) -> max_parallel_requests. LiteLLM counts in-flight requests per
    deployment, so a server reached by several deployments (its own group and model groups) gets
    its cap split between them: together they never exceed the server's max_num_seqs."""
    routing = resolve_routing(settings)
    users: dict[str, list[str]] = {m.name: [f"vllm-{m.slug}"] for m in settings.models}
    slugs = {m.name: m.slug for m in settings.models}
    for group, _, hosted in routing.groups:
        if hosted is not None:
            users[hosted].append(f"vllm-{slugs[hosted]}-in-{group}")
    caps = {}
    for m in settings.models:
        ids = users[m.name]
        share, extra = divmod(m.parallel_cap, len(ids))
        for i, deployment_id in enumerate(ids):
            caps[(m.name, deployment_id)] = max(1, share + (1 if i < extra else 0))
    return caps


def _router_settings(settings: Settings, model_list: list[dict[str, Any]], fallbacks: list, aliases: dict) -> dict[str, Any]:
    gateway = settings.gateway
    routing = resolve_routing(settings)
    rate_limited = any("rpm" in d["litellm_params"] or "tpm" in d["litellm_params"] for d in model_list)
    out: dict[str, Any] = {
        "routing_strategy": gateway.routing_strategy,
        "num_retries": gateway.num_retries,
        "timeout": gateway.timeout_seconds,
        "allowed_fails": gateway.allowed_fails,
        "cooldown_time": gateway.cooldown_seconds,
        "fallbacks": fallbacks,
    }
    if aliases:
        out["model_group_alias"] = aliases
    if routing.budget is not None:
        out["provider_budget_config"] = {
            "bedrock": {"budget_limit": routing.budget.bedrock_budget_usd, "time_period": routing.budget.period}
        }
    if rate_limited:
        out["optional_pre_call_checks"] = ["enforce_model_rate_limits"]
    # Budgets, rate limits and usage-aware strategies count across replicas in Redis
    if gateway.routing_strategy in _STATEFUL_STRATEGIES or routing.budget is not None or rate_limited:
        out |= _shared_router_state()
    return out


def gateway_config(settings: Settings, namespace: str) -> dict[str, Any]:
    """The full proxy configuration."""
    gateway = settings.gateway
    routing = resolve_routing(settings)
    bedrock_ids = {m.name: m.model_id for m in settings.bedrock_models}
    caps = parallel_caps(settings)
    hosted = {m.name: m for m in settings.models}
    model_list = [_bedrock_deployment(settings, m.name, m.model_id, f"bedrock-{m.name}") for m in settings.bedrock_models]
    model_list += [
        _vllm_deployment(settings, m, namespace, name=m.name, deployment_id=f"vllm-{m.slug}", cap=caps[(m.name, f"vllm-{m.slug}")])
        for m in settings.models
    ]
    # A model group spans both backends: Bedrock first (order 1); over the Bedrock budget the
    # budget filter drops it and the router picks the self-hosted deployment (order 2), with no
    # error or retry in between (litellm/utils.py get_order_filtered_deployments runs after it)
    for name, bedrock, self_hosted in routing.groups:
        group = [_bedrock_deployment(settings, name, bedrock_ids[bedrock], f"bedrock-{bedrock}-in-{name}")]
        group[0]["litellm_params"]["order"] = 1
        if self_hosted is not None:
            m = hosted[self_hosted]
            deployment_id = f"vllm-{m.slug}-in-{name}"
            group.append(_vllm_deployment(settings, m, namespace, name=name, deployment_id=deployment_id,
                                          cap=caps[(m.name, deployment_id)], order=2))
        model_list += group
    fallbacks = [
        {m.name: [settings.fallback_for(m)]} for m in settings.models if settings.fallback_for(m) is not None
    ]
    return {
        "model_list": model_list,
        "router_settings": _router_settings(settings, model_list, fallbacks, routing.aliases),
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
                # Opt-in per request: litellm/caching/caching.py Cache.should_use_cache
                "mode": "default_off",
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


def gateway_routing(settings: Settings) -> dict[str, Any]:
    """What the preview and the stack outputs show: budgets, groups, aliases, backend caps."""
    routing = resolve_routing(settings)
    budget = routing.budget
    return {
        "bedrockBudget": None if budget is None else {"limitUsd": budget.bedrock_budget_usd, "period": budget.period},
        "modelGroups": {name: {"first": bedrock, "overBudget": hosted} for name, bedrock, hosted in routing.groups},
        "aliases": routing.aliases,
        "maxParallelRequestsPerReplica": {f"{name}/{deployment}": cap for (name, deployment), cap in parallel_caps(settings).items()},
        "responseCache": "opt-in per request: cache: {use-cache: true}" if settings.gateway.cache_ttl_seconds else "off",
    }


def render_gateway_config(settings: Settings, namespace: str) -> str:
    """`config.yaml` as mounted into the proxy."""
    return yaml.safe_dump(gateway_config(settings, namespace), sort_keys=False)
