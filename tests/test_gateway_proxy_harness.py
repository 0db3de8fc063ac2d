"""Proves the gateway harness: the REAL LiteLLM proxy on loopback against stand-in backends.

The config below is hand-written in the shape the Pulumi program renders for LiteLLM
(``hosted_vllm/`` model on a vLLM ``api_base``, ``bedrock/`` Claude through a cross-region
inference profile, simple-shuffle routing with a vLLM -> Bedrock fallback, ``langfuse_otel`` +
``prometheus`` callbacks, Redis response cache, master key, Open WebUI user header).  Later tests
feed the program's rendered config through the same ``run_proxy``.

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

import contextlib
import importlib.util
import json
import re
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# find_spec, not importorskip: importing litellm here would make this process fetch the remote
# model cost map (the proxy subprocess gets LITELLM_LOCAL_MODEL_COST_MAP=True, this one does not).
for _module, _install in (
    ("litellm", "'litellm[proxy]'"),
    ("opentelemetry.proto", "opentelemetry-proto"),
    ("yaml", "pyyaml"),
):
    if importlib.util.find_spec(_module.split(".")[0]) is None or importlib.util.find_spec(_module) is None:
        pytest.skip(f"needs pip install {_install}", allow_module_level=True)
httpx = pytest.importorskip("httpx")

# The harness lives in tests/gateway; make `tests.gateway` importable however pytest was started
# (rootdir-relative, `python -m pytest`, with or without tests/__init__.py).
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.gateway.proxy import ProxyStartError, ProxyURL, litellm_executable, run_proxy  # noqa: E402
from tests.gateway.redis_server import RedisServer, RedisUnavailable, run_redis  # noqa: E402
from tests.gateway.stubs import BedrockStub, OpenAIStub, OtlpStub, basic_auth, wait_until  # noqa: E402

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


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    try:
        litellm_executable()
    except ProxyStartError as exc:
        pytest.skip(str(exc))
    with contextlib.ExitStack() as stack:  # unwinds in reverse: proxy, Redis, then the stubs
        vllm = stack.enter_context(OpenAIStub())
        bedrock = stack.enter_context(BedrockStub())
        otlp = stack.enter_context(OtlpStub())
        try:
            redis = stack.enter_context(run_redis())
        except RedisUnavailable as exc:
            pytest.skip(str(exc))
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
        url = stack.enter_context(
            run_proxy(gateway_config(vllm.api_base, bedrock.url), env, workdir=tmp_path_factory.mktemp("litellm-proxy"))
        )
        yield Gateway(url, vllm, bedrock, otlp, redis)


@pytest.fixture
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=gateway.url,
        headers={"Authorization": f"Bearer {MASTER_KEY}", USER_HEADER: USER_ID},
        timeout=60,
    ) as c:
        yield c


def unique_prompt(label: str) -> str:
    return f"{label} {uuid.uuid4().hex}"


@dataclass
class Chat:
    status: int
    text: str
    usage: dict[str, Any] | None
    headers: httpx.Headers
    body: Any  # JSON body (non-streaming) or list of chunk dicts (streaming)


def chat(client: httpx.Client, model: str, prompt: str, *, stream: bool = False, **extra: Any) -> Chat:
    payload: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}
    if not stream:
        response = client.post("/v1/chat/completions", json=payload)
        body = response.json()
        if response.status_code != 200:
            return Chat(response.status_code, "", None, response.headers, body)
        return Chat(200, body["choices"][0]["message"]["content"], body.get("usage"), response.headers, body)
    payload.update(stream=True, stream_options={"include_usage": True})
    chunks: list[dict[str, Any]] = []
    with client.stream("POST", "/v1/chat/completions", json=payload) as response:
        if response.status_code != 200:
            response.read()
            return Chat(response.status_code, "", None, response.headers, response.text)
        done = False
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[len("data: ") :]
            if data == "[DONE]":
                done = True
                break
            chunks.append(json.loads(data))
    assert done, "stream ended without data: [DONE]"
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c.get("choices"))
    usage = next((c["usage"] for c in reversed(chunks) if c.get("usage")), None)
    return Chat(200, text, usage, response.headers, chunks)


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


def _wait_for_vllm_route(client: httpx.Client, gateway: Gateway, timeout: float = 30.0) -> None:
    """After a vLLM outage, wait until llama requests reach vLLM again (router cooldown over)."""

    def reached() -> bool:
        before = len(gateway.vllm.chat_requests)
        result = chat(client, LLAMA, unique_prompt("recovery"))
        return result.status == 200 and len(gateway.vllm.chat_requests) > before

    wait_until(reached, timeout=timeout, interval=0.5, message="llama requests did not return to the vLLM stub")


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
    _wait_for_vllm_route(client, gateway)


def _request_spans(gateway: Gateway, prompt: str) -> list[dict[str, Any]]:
    return gateway.otlp.wait_for_spans(
        lambda s: (
            s["name"] == "litellm_request" and prompt in str(s["attributes"].get("langfuse.observation.input", ""))
        ),
        timeout=20,
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
        spans = _request_spans(gateway, prompt)
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


def _metric_value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


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
            _metric_value(text, "litellm_proxy_total_requests_metric_total", requested_model=m) >= 1
            and _metric_value(text, "litellm_input_tokens_metric_total", model=m) >= 1
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


# -- the stubs on their own (no proxy) ------------------------------------------------------------


def test_event_stream_encoding_round_trips_through_botocore() -> None:
    from botocore.eventstream import EventStreamBuffer

    from tests.gateway.stubs import encode_event_stream_message

    headers = {":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event"}
    payload = json.dumps({"contentBlockIndex": 0, "delta": {"text": "hé"}}).encode()
    buffer = EventStreamBuffer()
    encoded = encode_event_stream_message(headers, payload) * 2
    buffer.add_data(encoded[:7])  # split mid-prelude, as a network read would
    buffer.add_data(encoded[7:])
    events = [event.to_response_dict() for event in buffer]  # verifies both CRCs
    assert events == [{"status_code": 200, "headers": headers, "body": payload}] * 2


def test_otlp_stub_decodes_json_exports_and_stops() -> None:
    import urllib.error
    import urllib.request

    with OtlpStub() as otlp:
        body = {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "litellm"}}]},
                    "scopeSpans": [
                        {
                            "scope": {"name": "test"},
                            "spans": [
                                {
                                    "traceId": "5b8efff798038103d269b633813fc60c",
                                    "spanId": "eee19b7ec3c1b174",
                                    "name": "litellm_request",
                                    "attributes": [
                                        {"key": "llm.token_count.prompt", "value": {"intValue": "7"}},
                                        {"key": "llm.model_name", "value": {"stringValue": LLAMA}},
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ]
        }
        request = urllib.request.Request(
            f"{otlp.url}/api/public/otel/v1/traces",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Basic eA=="},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        [span] = otlp.spans
        assert span["trace_id"] == "5b8efff798038103d269b633813fc60c"
        assert span["span_id"] == "eee19b7ec3c1b174"
        assert span["attributes"] == {"llm.token_count.prompt": 7, "llm.model_name": LLAMA}
        assert span["resource"] == {"service.name": "litellm"}
        assert otlp.auth_headers == ["Basic eA=="]
        otlp.stop()
        with pytest.raises(urllib.error.URLError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert isinstance(refused.value.reason, ConnectionRefusedError)
