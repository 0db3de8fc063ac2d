"""The program's RENDERED gateway, run for real: LiteLLM with the dev stack's ``config.yaml``.

The config is the exact ``config.yaml`` of the rendered ConfigMap ``litellm-config`` (from the
offline engine), and the proxy runs with the environment variables of the rendered ``litellm``
Deployment: the same names, the literal values as rendered, the ``secretKeyRef`` ones resolved
through the rendered ``litellm-credentials`` Secret (so the master key, the Redis password and the
Langfuse keys are the program's generated values).  What changes, and why
(``tests/gateway/loopback.py`` does it and ``test_only_addresses_change`` pins it):

- In-cluster addresses become loopback ones: each vLLM ``api_base`` -> its ``OpenAIStub``;
  ``LANGFUSE_HOST`` -> the ``OtlpStub``; ``REDIS_HOST``/``REDIS_PORT`` -> a real Redis that
  requires the rendered Redis password; Bedrock -> the ``BedrockStub`` through LiteLLM's runtime
  endpoint override env ``AWS_BEDROCK_RUNTIME_ENDPOINT`` (the file stays as rendered).
- ``general_settings.database_url`` is removed from the file and ``DATABASE_URL`` from the env:
  LiteLLM's DB mode needs Prisma query engines that are downloaded at run time, which this
  machine cannot do.  So the proxy runs with the master key only (no virtual keys, no spend DB),
  and a wrong key is answered 400 ``no_db_connection`` instead of 401 (no backend is called).
- AWS credentials come the way EKS Pod Identity delivers them: a stand-in Pod Identity agent on
  loopback (``AWS_CONTAINER_CREDENTIALS_FULL_URI`` + ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``,
  what EKS injects into the pod).  No static AWS key anywhere.

Expectations come from the settings (``load_stack_settings``), not from the rendered file: every
configured model is served, each self-hosted model falls back to ``settings.fallback_for(model)``.
Processes listen on free loopback ports and are always stopped; one proxy for the session
(``dev_gateway`` in ``tests/conftest.py``, shared with ``tests/test_gateway_observability.py``, which
covers traces and metrics).  The fallback test stops each vLLM stub and starts it again.
"""

from __future__ import annotations

import re
import time

import pytest
import yaml

from tests.gateway.client import (  # noqa: E402
    chat,
    require_installed,
    unique_prompt,
    wait_until_served_by,
)

require_installed(("litellm", "'litellm[proxy]'"), ("opentelemetry.proto", "opentelemetry-proto"))
import httpx  # noqa: E402

from tests.gateway import loopback as lb  # noqa: E402
from tests.gateway.dev_gateway import all_models, bedrock_id, is_vllm, stub_for  # noqa: E402
from tests.gateway.dev_gateway import client, gateway, settings  # noqa: E402,F401 - fixtures
from tests.gateway.stubs import wait_until  # noqa: E402
from tools import gateway_bench as gb  # noqa: E402
from components.settings.gateway import resolve_routing  # noqa: E402


# ---------------------------------------------------------------- what the proxy is given


def test_only_addresses_change(gateway: lb.GatewayRun, settings) -> None:
    """The running config is the rendered file but for the vLLM addresses and database_url; the
    env has the Deployment's variable names and values but for the in-cluster addresses."""
    rendered = gateway.rendered
    original, running = rendered.config, gateway.config
    assert {m.name for m in settings.models} and {m.name for m in settings.bedrock_models}, "dev serves both kinds"
    assert original["general_settings"].pop("database_url") == "os.environ/DATABASE_URL"
    for before, after in zip(original["model_list"], running["model_list"], strict=True):
        if "api_base" in before["litellm_params"]:  # a model's own deployment or a group's self-hosted one
            served = before["litellm_params"]["model"].removeprefix("hosted_vllm/")
            assert is_vllm(settings, served) and ".svc.cluster.local" in before["litellm_params"]["api_base"]
            assert after["litellm_params"]["api_base"] == gateway.vllm[served].api_base
            before["litellm_params"]["api_base"] = after["litellm_params"]["api_base"]
    assert running == original
    # The file the proxy loaded (the harness adds only settings the rendered file already has)
    assert yaml.safe_load(gateway.url.config_path.read_text()) == running

    deployment_env = rendered.env
    assert set(gateway.env) == (set(deployment_env) - set(lb.DROPPED_ENV)) | {
        "AWS_BEDROCK_RUNTIME_ENDPOINT", *lb.POD_IDENTITY_ENV
    }
    changed = {k for k in deployment_env if k in gateway.env and gateway.env[k] != deployment_env[k]}
    assert changed == set(lb.LOOPBACK_ENV)
    assert not any(key.startswith("AWS_") and "KEY" in key for key in gateway.env), "no static AWS keys"
    # secretKeyRefs resolved to the program's generated values
    secret = rendered.secrets["litellm-credentials"]
    assert gateway.env["LITELLM_MASTER_KEY"] == secret["master-key"] and secret["master-key"].startswith("sk-")
    assert gateway.env["LANGFUSE_PUBLIC_KEY"] == secret["langfuse-public-key"]
    assert gateway.env["REDIS_PASSWORD"] == secret["redis-password"]


# ---------------------------------------------------------------- serving


def test_models_lists_every_configured_model_group_and_tier(client: httpx.Client, settings) -> None:
    routing = resolve_routing(settings)
    response = client.get("/v1/models")
    assert response.status_code == 200, response.text
    expected = all_models(settings) + [name for name, _, _ in routing.groups] + list(routing.aliases)
    assert sorted(m["id"] for m in response.json()["data"]) == sorted(expected)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_chat_with_every_model(client: httpx.Client, gateway: lb.GatewayRun, settings, stream: bool) -> None:
    for model in all_models(settings):
        stub = stub_for(gateway, settings, model)
        before = stub.call_count
        bedrock_before = len(gateway.bedrock.model_calls)
        prompt = unique_prompt(f"chat-{model}")
        result = chat(client, model, prompt, stream=stream)

        assert result.status == 200, (model, result.body)
        assert result.text == stub.reply_text
        assert result.headers.get("x-litellm-model-group") == model
        assert result.usage and result.usage["completion_tokens"] == len(stub.reply_text.split())
        assert stub.call_count == before + 1, model
        if is_vllm(settings, model):
            sent = gateway.vllm[model].chat_requests[-1].json
            assert sent["model"] == model and sent["messages"] == [{"role": "user", "content": prompt}]
            assert bool(sent.get("stream")) is stream
        else:
            [(model_id, operation, request)] = gateway.bedrock.model_calls[bedrock_before:]
            assert model_id == bedrock_id(settings, model)  # the configured inference profile
            assert operation == ("converse-stream" if stream else "converse")
            authorization = request.header("authorization") or ""
            # signed with the Pod Identity agent's credentials, for the stack's region
            assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={lb.PodIdentityAgentStub.ACCESS_KEY_ID}/")
            assert f"/{settings.region}/bedrock/aws4_request" in authorization
    assert gateway.agent.call_count >= 1
    assert all(r.header("authorization") == gateway.agent.token for r in gateway.agent.requests)


def test_wrong_key_is_rejected_before_any_backend(gateway: lb.GatewayRun, settings) -> None:
    """No key -> 401; a wrong key -> 400 ``no_db_connection`` (DB-less here: a non-master key is
    looked up as a virtual key in the database, see the module docstring).  No backend is called."""
    counts = {id(s): s.call_count for s in [gateway.bedrock, *gateway.vllm.values()]}
    with httpx.Client(base_url=gateway.url, timeout=30) as anonymous:
        for model in all_models(settings):
            body = {"model": model, "messages": [{"role": "user", "content": unique_prompt("unauthorised")}]}
            missing = anonymous.post("/v1/chat/completions", json=body)
            assert missing.status_code == 401, missing.text
            for wrong in ("Bearer sk-wrong", f"Bearer {gateway.master_key}x", f"Bearer {gateway.master_key[:-1]}"):
                response = anonymous.post("/v1/chat/completions", json=body, headers={"Authorization": wrong})
                assert response.status_code == 400, response.text
                assert response.json()["error"]["type"] == "no_db_connection"
        assert anonymous.get("/v1/models").status_code == 401
    assert {id(s): s.call_count for s in [gateway.bedrock, *gateway.vllm.values()]} == counts


# ---------------------------------------------------------------- response cache


def _cache_keys(gateway: lb.GatewayRun) -> set[bytes]:
    namespace = gateway.config["litellm_settings"]["cache_params"]["namespace"].encode()
    pattern = re.escape(namespace) + rb":[0-9a-f]{64}"
    return {k for k in gateway.redis_client().keys("*") if re.fullmatch(pattern, k)}


def test_cache_is_opt_in_per_request(client: httpx.Client, gateway: lb.GatewayRun, settings) -> None:
    """Private by default: identical requests both reach the backend (another user's answer is never
    served, Regenerate is never replayed); a request that opts in with `cache: {"use-cache": true}`
    is stored in Redis and the identical opted-in request is answered from it."""
    params = gateway.config["litellm_settings"]
    assert params["cache"] is True and params["cache_params"]["mode"] == "default_off"
    for model in (settings.models[0].name, settings.bedrock_models[0].name):
        stub = stub_for(gateway, settings, model)
        prompt = unique_prompt("private")
        keys_before, calls = _cache_keys(gateway), stub.call_count
        first, second = chat(client, model, prompt), chat(client, model, prompt)
        assert first.status == second.status == 200 and first.body["id"] != second.body["id"]
        assert stub.call_count == calls + 2, f"{model}: a request without opt-in was answered from the cache"
        time.sleep(0.5)
        assert _cache_keys(gateway) == keys_before, f"{model}: a request without opt-in was stored"

        prompt, calls = unique_prompt("opt-in"), stub.call_count
        first = chat(client, model, prompt, cache={"use-cache": True})
        assert first.status == 200 and stub.call_count == calls + 1
        new = wait_until(lambda: _cache_keys(gateway) - keys_before, timeout=10, message="nothing cached in Redis")
        assert len(new) == 1
        second = chat(client, model, prompt, cache={"use-cache": True})
        assert second.status == 200 and second.body["id"] == first.body["id"]
        assert stub.call_count == calls + 1, f"{model}: the opted-in repeat reached the backend"
        third = chat(client, model, prompt)  # the same prompt without opt-in still goes to the model
        assert third.status == 200 and third.body["id"] != first.body["id"] and stub.call_count == calls + 2


# ---------------------------------------------------------------- the benchmark tool


def test_bench_smoke(gateway: lb.GatewayRun) -> None:
    """``tools/gateway_bench`` measures and reports (a few requests; no second proxy is started
    here, the running gateway stands in for the minimal one: the real run is not a test)."""
    results = gb.measure_running(gateway, [gateway.url], [gateway.url], requests=3, warmup=1)
    assert set(results["modes"]) == {"plain", "stream"}
    for mode in results["modes"].values():
        assert set(mode["latency"]) == {"direct", "rendered", "minimal"}
        assert all(v["p50_ms"] > 0 for v in mode["latency"].values())
    assert "| plain |" in gb.report(results)
    model, stub = next(iter(gateway.vllm.items()))
    assert gb.minimal_config(model, stub.api_base)["model_list"][0]["model_name"] == model


# ---------------------------------------------------------------- fallback (stops stubs: last)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_self_hosted_model_down_falls_back(client: httpx.Client, gateway: lb.GatewayRun, settings, stream: bool) -> None:
    for model in settings.models:
        fallback = settings.fallback_for(model)
        assert fallback is not None
        stub = gateway.vllm[model.name]
        stub.stop()
        try:
            chats, bedrock_before = len(stub.chat_requests), len(gateway.bedrock.model_calls)
            started = time.monotonic()
            result = chat(client, model.name, unique_prompt("fallback"), stream=stream)
            elapsed = time.monotonic() - started

            assert result.status == 200, result.body
            assert result.text == gateway.bedrock.reply_text
            assert [m for m, _, _ in gateway.bedrock.model_calls[bedrock_before:]] == [bedrock_id(settings, fallback)]
            assert len(stub.chat_requests) == chats
            if not stream:
                assert result.headers.get("x-litellm-attempted-fallbacks") == "1"
            assert elapsed < 20, f"fallback took {elapsed:.1f}s"
        finally:
            stub.start()
        # the model is back once its stub is (any cooldown over)
        wait_until_served_by(client, stub, model.name, label="recovered", timeout=45,
                             message=f"{model.name} never returned to its vLLM stub")
