"""The dev stack's rendered gateway, observed: every request traced to Langfuse with the project's
generated keys, request metrics on ``/metrics`` (the chosen series, no per-caller labels), and
requests unaffected by a dead trace endpoint.

Runs against the same real proxy as ``tests/test_gateway_rendered.py`` (its docstring says what
differs from production: only addresses, and no database).
"""

from __future__ import annotations

import re
import time
from typing import Any

import json
import uuid

from tests.gateway.client import chat, is_request_span, metric_value, require_installed, unique_prompt

require_installed(("litellm", "'litellm[proxy]'"), ("opentelemetry.proto", "opentelemetry-proto"))
import httpx  # noqa: E402

from components.apps.gateway_config import PROMETHEUS_EXCLUDED_LABELS, PROMETHEUS_METRICS  # noqa: E402
from tests.gateway import loopback as lb  # noqa: E402
from components.apps.gateway_config import USER_HEADER  # noqa: E402
from tests.gateway.dev_gateway import USER_ID, all_models, bedrock_id, is_vllm  # noqa: E402
from tests.gateway.dev_gateway import client, gateway, settings  # noqa: E402,F401 - fixtures
from tests.gateway.stubs import basic_auth, wait_until  # noqa: E402


def _request_spans(gateway: lb.GatewayRun, prompt: str) -> list[dict[str, Any]]:
    gateway.otlp.wait_for_spans(is_request_span(prompt), timeout=20)
    time.sleep(0.3)  # a second span for the same request would arrive in the same or next batch
    return [s for s in gateway.otlp.spans if is_request_span(prompt)(s)]


def test_one_trace_per_request_with_the_langfuse_project_keys(client: httpx.Client, gateway: lb.GatewayRun, settings) -> None:
    rendered = gateway.rendered
    # The keys Langfuse's headless init creates the project with (rendered Langfuse web Deployment)
    expected_auth = basic_auth(
        rendered.langfuse_env["LANGFUSE_INIT_PROJECT_PUBLIC_KEY"], rendered.langfuse_env["LANGFUSE_INIT_PROJECT_SECRET_KEY"]
    )
    assert rendered.langfuse_env["LANGFUSE_INIT_PROJECT_PUBLIC_KEY"].startswith("pk-lf-")

    results = {}
    for model in all_models(settings):
        for stream in (False, True):
            prompt = unique_prompt(f"trace-{model}-{stream}")
            result = chat(client, model, prompt, stream=stream)
            assert result.status == 200, result.body
            results[(model, stream)] = (prompt, result)

    trace_ids = set()
    for (model, stream), (prompt, result) in results.items():
        [span] = _request_spans(gateway, prompt)
        attributes = span["attributes"]
        trace_ids.add(span["trace_id"])
        assert attributes["llm.response.model"] == model
        assert attributes["llm.model_name"] == (model if is_vllm(settings, model) else bedrock_id(settings, model))
        assert attributes["llm.is_streaming"] == str(stream)
        assert attributes["llm.token_count.prompt"] == result.usage["prompt_tokens"]
        assert attributes["llm.token_count.completion"] == result.usage["completion_tokens"]
        assert attributes["llm.token_count.total"] == result.usage["total_tokens"]
        assert attributes["user.id"] == USER_ID  # from the Open WebUI user header
        assert span["authorization"] == expected_auth
    assert len(trace_ids) == len(results), "each request is its own trace"
    assert set(gateway.otlp.auth_headers) == {expected_auth}
    assert not gateway.otlp.decode_errors


def test_chats_are_sessions_and_users_are_users(client: httpx.Client, gateway: lb.GatewayRun, settings, stack_runs) -> None:
    """Each Open WebUI chat is one Langfuse session and each user a Langfuse user, for Open WebUI's
    own calls and for the agent server's calls on behalf of a chat. The headers are the ones the
    program renders: Open WebUI's gateway connection (OPENAI_API_CONFIGS, with {{CHAT_ID}} filled
    in as Open WebUI 0.12.4 does) and the agent server's GATEWAY_SESSION_HEADER/GATEWAY_USER_HEADER."""
    from rendered import env

    webui, agent = env(stack_runs["dev"], "open-webui"), env(stack_runs["dev"], "custom-server")
    assert webui["ENABLE_FORWARD_USER_INFO_HEADERS"] == "True"  # sends X-OpenWebUI-User-Id
    connection_headers = json.loads(webui["OPENAI_API_CONFIGS"])["0"]["headers"]
    chat_id, other_chat = str(uuid.uuid4()), str(uuid.uuid4())

    def webui_headers(chat: str, user: str) -> dict[str, str]:
        return {USER_HEADER: user, **{k: v.replace("{{CHAT_ID}}", chat) for k, v in connection_headers.items()}}

    def agent_headers(chat: str, user: str) -> dict[str, str]:
        return {agent["GATEWAY_SESSION_HEADER"]: chat, agent["GATEWAY_USER_HEADER"]: user}

    sent = [
        (webui_headers(chat_id, "owui-alice"), chat_id, "owui-alice"),
        (webui_headers(chat_id, "owui-alice"), chat_id, "owui-alice"),
        (agent_headers(chat_id, "owui-alice"), chat_id, "owui-alice"),
        (webui_headers(other_chat, "owui-bob"), other_chat, "owui-bob"),
    ]
    prompts = []
    for headers, chat_session, user in sent:
        prompt = unique_prompt("session")
        result = chat(client, settings.models[0].name, prompt, stream=len(prompts) % 2 == 1,
                      headers=headers)
        assert result.status == 200, result.body
        prompts.append((prompt, chat_session, user))
    for prompt, chat_session, user in prompts:
        [span] = _request_spans(gateway, prompt)
        assert span["attributes"]["session.id"] == chat_session
        assert span["attributes"]["user.id"] == user


def test_metrics_expose_request_metrics(client: httpx.Client, gateway: lb.GatewayRun, settings) -> None:
    models = all_models(settings)
    for model in models:
        assert chat(client, model, unique_prompt("metrics")).status == 200
    with httpx.Client(base_url=gateway.url, timeout=30, follow_redirects=True) as anonymous:
        # explicitly exempted for Prometheus (require_auth_for_metrics_endpoint: false); the API is not
        assert anonymous.get("/metrics/").status_code == 200
        assert anonymous.get("/v1/models").status_code == 401

    def scrape() -> str:
        response = client.get("/metrics/", follow_redirects=True)
        assert response.status_code == 200, response.text
        ok = all(metric_value(response.text, "litellm_proxy_total_requests_metric_total", requested_model=m) >= 1
                 for m in models)
        return response.text if ok else ""

    text = wait_until(scrape, timeout=10, interval=0.25, message="request metrics for every model never appeared")
    # Spend in USD per model (the cost-per-hour panel: sum(increase(litellm_spend_metric_total[1h])))
    for model in settings.bedrock_models:
        assert metric_value(text, "litellm_spend_metric_total", requested_model=model.name) > 0, model.name
    for name in ("litellm_proxy_total_requests_metric_total", "litellm_request_total_latency_metric_bucket",
                 "litellm_overhead_latency_metric_bucket", "litellm_input_tokens_metric_total",
                 "litellm_output_tokens_metric_total", "litellm_deployment_success_responses_total"):
        assert re.search(rf"^{name}\{{", text, re.MULTILINE), f"{name} missing from /metrics"
    # the selection holds: per-caller labels and the database-backed series never appear
    samples = [line for line in text.splitlines() if line.startswith("litellm_")]
    labels = {label for line in samples for label in re.findall(r'[{,]([a-z_]+)="', line)}
    assert labels and not labels & set(PROMETHEUS_EXCLUDED_LABELS), labels & set(PROMETHEUS_EXCLUDED_LABELS)
    assert USER_ID not in text  # the Open WebUI user header reached the traces, not the metrics
    families = {re.sub(r"(_total|_bucket|_count|_sum|_created)$", "", line.split("{")[0].split(" ")[0]) for line in samples}
    always_exported = {"litellm_in_flight_requests", "litellm_redis_circuit_breaker_state"}  # not selectable
    assert families - always_exported <= set(PROMETHEUS_METRICS), families - always_exported - set(PROMETHEUS_METRICS)


def test_requests_succeed_while_langfuse_is_down(client: httpx.Client, gateway: lb.GatewayRun, settings) -> None:
    gateway.otlp.stop()
    try:
        for model in all_models(settings):
            for stream in (False, True):
                started = time.monotonic()
                result = chat(client, model, unique_prompt("langfuse-down"), stream=stream)
                assert result.status == 200, result.body
                assert time.monotonic() - started < 5, "a dead trace endpoint must not slow requests down"
    finally:
        gateway.otlp.start()
