"""Proves the gateway harness: the REAL LiteLLM proxy on loopback against stand-in backends.

The config is hand-written in the shape the Pulumi program renders for LiteLLM (see
``tests/gateway/harness_gateway.py``).  Later tests feed the program's rendered config through
the same ``run_proxy``.

Harness-only differences from production:

- ``aws_bedrock_runtime_endpoint`` points Bedrock at ``BedrockStub``; AWS credentials are fake
  (the stub records the SigV4 header but does not verify it).
- No ``general_settings.database_url``: LiteLLM's DB mode needs Prisma query engines that are
  downloaded at run time, which this machine cannot do, so the proxy runs key-less except for
  the master key (no virtual keys, no spend logs).
- ``run_proxy`` adds the offline settings (local model cost map, no HF tokenizer download,
  short OTel batch delay); see ``tests/gateway/proxy.py``.

The proxy, the three stubs and Redis are started once for the module; every test uses unique
prompts, so the response cache (on for every request) never answers a test by accident, and
every test that stops a stub starts it again in ``finally``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from tests.gateway.client import (  # noqa: E402
    chat,
    is_request_span,
    metric_value,
    require_installed,
    require_litellm_runs,
    unique_prompt,
    wait_until_served_by,
)

require_installed(
    ("litellm", "'litellm[proxy]'"), ("opentelemetry.proto", "opentelemetry-proto"), ("yaml", "pyyaml")
)
import httpx  # noqa: E402

from tests.gateway.harness_gateway import (  # noqa: E402
    CLAUDE,
    CLAUDE_PROFILE,
    FAKE_AWS_ACCESS_KEY_ID,
    LANGFUSE_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY,
    LLAMA,
    MASTER_KEY,
    USER_HEADER,
    USER_ID,
    Gateway,
    run_harness_gateway,
)
from tests.gateway.redis_server import RedisUnavailable  # noqa: E402
from tests.gateway.stubs import basic_auth, wait_until  # noqa: E402


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    require_litellm_runs()
    try:
        with run_harness_gateway(tmp_path_factory.mktemp("litellm-proxy")) as running:
            yield running
    except RedisUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=gateway.url,
        headers={"Authorization": f"Bearer {MASTER_KEY}", USER_HEADER: USER_ID},
        timeout=60,
    ) as c:
        yield c


# --------------------------------------------------------------------------------------------


def test_models_endpoint_lists_both_models(client: httpx.Client) -> None:
    response = client.get("/v1/models")
    assert response.status_code == 200, response.text
    assert {m["id"] for m in response.json()["data"]} == {LLAMA, CLAUDE}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_chat_through_vllm(client: httpx.Client, gateway: Gateway, stream: bool) -> None:
    before = len(gateway.vllm.chat_requests)
    prompt = unique_prompt("vllm")
    result = chat(client, LLAMA, prompt, stream=stream)

    assert result.status == 200, result.body
    assert result.text == gateway.vllm.reply_text
    assert result.headers.get("x-litellm-model-group") == LLAMA
    sent = gateway.vllm.chat_requests[before:]
    assert len(sent) == 1
    assert sent[0].json["model"] == LLAMA  # hosted_vllm/ prefix stripped
    assert sent[0].json["messages"] == [{"role": "user", "content": prompt}]
    assert bool(sent[0].json.get("stream")) is stream
    if stream:
        assert sent[0].json.get("stream_options") == {"include_usage": True}
    assert result.usage is not None
    assert result.usage["prompt_tokens"] == len(prompt.split())
    assert result.usage["completion_tokens"] == len(gateway.vllm.reply_text.split())


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_chat_through_bedrock_inference_profile(client: httpx.Client, gateway: Gateway, stream: bool) -> None:
    before = len(gateway.bedrock.model_calls)
    prompt = unique_prompt("bedrock")
    result = chat(client, CLAUDE, prompt, stream=stream)

    assert result.status == 200, result.body
    assert result.text == gateway.bedrock.reply_text
    calls = gateway.bedrock.model_calls[before:]
    assert [(model, op) for model, op, _ in calls] == [(CLAUDE_PROFILE, "converse-stream" if stream else "converse")]
    request = calls[0][2]
    assert request.json["messages"] == [{"role": "user", "content": [{"text": prompt}]}]
    authorization = request.header("authorization") or ""
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={FAKE_AWS_ACCESS_KEY_ID}/")
    assert "/us-east-1/bedrock/aws4_request" in authorization
    assert result.usage is not None
    assert result.usage["prompt_tokens"] == len(prompt.split())
    assert result.usage["completion_tokens"] == len(gateway.bedrock.reply_text.split())


def test_wrong_or_missing_key_is_rejected_before_any_backend(gateway: Gateway) -> None:
    """No key -> 401.  A wrong key -> 400 ``no_db_connection`` in this DB-less setup.

    LiteLLM compares the bearer token with the master key, and a non-matching token is then looked
    up as a virtual key in the database; with no ``database_url`` that lookup raises
    ``ProxyException(type=no_db_connection, code=400)`` (``litellm/proxy/auth/user_api_key_auth.py``),
    so the rejection is a 400, not a 401.  Either way no backend is called.
    """
    vllm_before, bedrock_before = gateway.vllm.call_count, gateway.bedrock.call_count
    payload = {"messages": [{"role": "user", "content": unique_prompt("unauthorised")}]}
    with httpx.Client(base_url=gateway.url, timeout=30) as anonymous:
        for model in (LLAMA, CLAUDE):
            for stream in (False, True):
                body = {**payload, "model": model, "stream": stream}
                missing = anonymous.post("/v1/chat/completions", json=body)
                assert missing.status_code == 401, missing.text
                assert missing.json()["error"]["type"] == "auth_error"
                for wrong in ("Bearer sk-wrong-key", f"Bearer {MASTER_KEY}x", "Bearer not-a-key"):
                    response = anonymous.post("/v1/chat/completions", json=body, headers={"Authorization": wrong})
                    assert response.status_code == 400, response.text
                    assert response.json()["error"]["type"] == "no_db_connection"
        assert anonymous.get("/v1/models").status_code == 401
        assert anonymous.get("/v1/models", headers={"Authorization": "Bearer sk-wrong-key"}).status_code == 400
    assert gateway.vllm.call_count == vllm_before
    assert gateway.bedrock.call_count == bedrock_before


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_vllm_down_falls_back_to_bedrock(client: httpx.Client, gateway: Gateway, stream: bool) -> None:
    gateway.vllm.stop()
    try:
        vllm_chats = len(gateway.vllm.chat_requests)
        bedrock_before = len(gateway.bedrock.model_calls)
        started = time.monotonic()
        result = chat(client, LLAMA, unique_prompt("fallback"), stream=stream)
        elapsed = time.monotonic() - started

        assert result.status == 200, result.body
        assert result.text == gateway.bedrock.reply_text
        assert [m for m, _, _ in gateway.bedrock.model_calls[bedrock_before:]] == [CLAUDE_PROFILE]
        assert len(gateway.vllm.chat_requests) == vllm_chats  # connection refused: never reached
        if not stream:
            assert result.headers.get("x-litellm-attempted-fallbacks") == "1"
        assert elapsed < 20, f"fallback took {elapsed:.1f}s"
    finally:
        gateway.vllm.start()
    wait_until_served_by(
        client, gateway.vllm, LLAMA, label="recovery", timeout=30.0,
        message="llama requests did not return to the vLLM stub",
    )


def test_traces_reach_langfuse_otlp_endpoint(client: httpx.Client, gateway: Gateway) -> None:
    results = {}
    for model in (LLAMA, CLAUDE):
        for stream in (False, True):
            prompt = unique_prompt(f"trace-{model}-{stream}")
            result = chat(client, model, prompt, stream=stream)
            assert result.status == 200, result.body
            results[(model, stream)] = (prompt, result)

    trace_ids = set()
    for (model, stream), (prompt, result) in results.items():
        spans = gateway.otlp.wait_for_spans(is_request_span(prompt), timeout=20)
        assert len(spans) == 1, spans
        span = spans[0]
        attributes = span["attributes"]
        trace_ids.add(span["trace_id"])
        assert attributes["llm.response.model"] == model
        assert attributes["llm.model_name"] == (CLAUDE_PROFILE if model == CLAUDE else LLAMA)
        assert attributes["llm.provider"] == ("bedrock" if model == CLAUDE else "hosted_vllm")
        assert attributes["llm.is_streaming"] == str(stream)
        assert attributes["langfuse.observation.type"] == "generation"
        assert attributes["llm.token_count.prompt"] == result.usage["prompt_tokens"]
        assert attributes["llm.token_count.completion"] == result.usage["completion_tokens"]
        assert attributes["llm.token_count.total"] == result.usage["total_tokens"]
        assert attributes["user.id"] == USER_ID  # from the X-OpenWebUI-User-Id header
        assert span["resource"]["service.name"] == "litellm"
        assert span["authorization"] == basic_auth(LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY)
        # the provider call is a child span in the same trace
        children = [s for s in gateway.otlp.spans if s["trace_id"] == span["trace_id"] and s["parent_span_id"]]
        assert children, f"no child spans in trace {span['trace_id']}"
    assert len(trace_ids) == len(results), "each request must be its own trace"
    exports = gateway.otlp.export_requests
    assert exports and all(r.header("x-langfuse-ingestion-version") == "4" for r in exports)
    assert all(r.header("content-type") == "application/x-protobuf" for r in exports)
    assert not gateway.otlp.decode_errors


def test_prometheus_metrics_count_requests(client: httpx.Client, gateway: Gateway) -> None:
    assert chat(client, LLAMA, unique_prompt("metrics")).status == 200
    assert chat(client, CLAUDE, unique_prompt("metrics")).status == 200

    with httpx.Client(base_url=gateway.url, timeout=30, follow_redirects=True) as anonymous:
        assert anonymous.get("/metrics/").status_code == 401  # auth on /metrics by default

    def scrape() -> str:
        response = client.get("/metrics/")
        assert response.status_code == 200, response.text
        text = response.text
        ok = all(
            metric_value(text, "litellm_proxy_total_requests_metric_total", requested_model=m) >= 1
            and metric_value(text, "litellm_input_tokens_metric_total", model=m) >= 1
            for m in (LLAMA, CLAUDE)
        )
        return text if ok else ""

    text = wait_until(scrape, timeout=10, interval=0.25, message="request metrics for both models never appeared")
    for name in (
        "litellm_proxy_total_requests_metric_total",
        "litellm_request_total_latency_metric_bucket",
        "litellm_llm_api_latency_metric_bucket",
        "litellm_input_tokens_metric_total",
        "litellm_output_tokens_metric_total",
        "litellm_deployment_success_responses_total",
    ):
        assert re.search(rf"^{name}\{{", text, re.MULTILINE), f"{name} missing from /metrics"


def test_requests_succeed_while_langfuse_is_down(client: httpx.Client, gateway: Gateway) -> None:
    gateway.otlp.stop()
    try:
        for model, reply in ((LLAMA, gateway.vllm.reply_text), (CLAUDE, gateway.bedrock.reply_text)):
            for stream in (False, True):
                started = time.monotonic()
                result = chat(client, model, unique_prompt("langfuse-down"), stream=stream)
                assert result.status == 200, result.body
                assert result.text == reply
                assert time.monotonic() - started < 5, "a dead trace endpoint must not slow requests down"
    finally:
        gateway.otlp.start()
    # once Langfuse is back, new requests are traced again
    prompt = unique_prompt("langfuse-back")
    assert chat(client, LLAMA, prompt).status == 200
    gateway.otlp.wait_for_spans(
        lambda s: prompt in str(s["attributes"].get("langfuse.observation.input", "")), timeout=30
    )


def _cache_keys(gateway: Gateway) -> set[bytes]:
    # response-cache entries are the sha256 hex keys; rate-limit counters look like "{...}:tokens"
    return {k for k in gateway.redis.client().keys("*") if re.fullmatch(rb"[0-9a-f]{64}", k)}


@pytest.mark.parametrize("model", [LLAMA, CLAUDE])
def test_identical_request_is_served_from_redis_cache(client: httpx.Client, gateway: Gateway, model: str) -> None:
    stub = gateway.vllm if model == LLAMA else gateway.bedrock
    prompt = unique_prompt("cache")
    keys_before = _cache_keys(gateway)
    calls = stub.call_count

    first = chat(client, model, prompt)
    assert first.status == 200 and stub.call_count == calls + 1
    new_keys = wait_until(
        lambda: _cache_keys(gateway) - keys_before, timeout=10, message="nothing written to the Redis cache"
    )
    assert len(new_keys) == 1

    second = chat(client, model, prompt)
    assert second.status == 200
    assert second.text == first.text
    assert second.body["id"] == first.body["id"]  # the stored response
    assert stub.call_count == calls + 1, "the repeated request reached the backend"

    third = chat(client, model, prompt, cache={"no-cache": True})
    assert third.status == 200
    assert stub.call_count == calls + 2, "cache: no-cache must bypass the cache"
    assert third.body["id"] != first.body["id"]
