"""The economy switch and the backend caps, on the real proxy with the program's rendered config.

The dev stack is rendered with one override, a Bedrock budget small enough for the stubs to cross
(`gateway.economy: {bedrockBudgetUsd: 0.00001, period: 30s}`); everything else is as rendered
and runs as ``tests/test_gateway_rendered.py`` describes (addresses on loopback, no database).
The stubs return token usage, so LiteLLM prices each Bedrock call from its bundled cost map
(Claude Haiku 4.5) and counts the spend in Redis.
"""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from tests.gateway.client import chat, require_installed, require_litellm_runs, unique_prompt

require_installed(("litellm", "'litellm[proxy]'"), ("opentelemetry.proto", "opentelemetry-proto"))
import httpx  # noqa: E402

from components.settings.gateway import resolve_routing  # noqa: E402
from components.settings.loading import parse_settings  # noqa: E402
from tests.gateway import loopback as lb  # noqa: E402
from tests.gateway.proxy import run_proxy  # noqa: E402
from tests.gateway.stubs import wait_until  # noqa: E402

PERIOD_S = 30
ECONOMY = {"genai-platform:gateway": {"economy": {"bedrockBudgetUsd": 0.00001, "period": f"{PERIOD_S}s"}}}


@pytest.fixture(scope="module")
def economy(tmp_path_factory):
    from tools.offline.engine import run_stack

    require_litellm_runs()
    run = run_stack("dev", overrides=ECONOMY)
    with lb.run_gateway(lb.RenderedGateway.from_run(run), tmp_path_factory.mktemp("gateway-economy")) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def routing():
    from components.settings.loading import load_stack_settings

    settings = load_stack_settings("dev")
    return settings, resolve_routing(settings)


@pytest.fixture
def client(economy):
    with httpx.Client(base_url=economy.url, headers={"Authorization": f"Bearer {economy.master_key}"}, timeout=60) as c:
        yield c


def _served_by(gateway, model: str, client) -> str:
    vllm = sum(len(s.chat_requests) for s in gateway.vllm.values())
    bedrock = len(gateway.bedrock.model_calls)
    result = chat(client, model, unique_prompt(f"economy-{model}"))
    assert result.status == 200, result.body
    if len(gateway.bedrock.model_calls) > bedrock:
        return "bedrock"
    assert sum(len(s.chat_requests) for s in gateway.vllm.values()) > vllm
    return "vllm"


def test_the_rendered_budget_is_the_setting(economy):
    router = economy.config["router_settings"]
    assert router["provider_budget_config"] == {"bedrock": {"budget_limit": 0.00001, "time_period": f"{PERIOD_S}s"}}
    assert router["redis_host"] == "os.environ/REDIS_HOST"  # every replica counts in the same Redis


def test_over_budget_the_group_moves_to_the_self_hosted_model_and_back(economy, routing, client):
    settings, plan = routing
    (group, bedrock_model, hosted), aliases = plan.groups[0], plan.aliases
    tier = next(alias for alias, target in aliases.items() if target == group)
    redis = economy.redis_client()
    key = f"provider_spend:bedrock:{PERIOD_S}s"
    assert redis.get(key) in (None, b"0.0")

    # Under budget: Bedrock serves the group (and its tier alias)
    assert _served_by(economy, group, client) == "bedrock"
    spend = float(wait_until(lambda: redis.get(key) and float(redis.get(key)) > 0 and redis.get(key), timeout=10))
    assert spend >= 0.00001, "one Claude Haiku call costs more than the test budget"
    assert 0 < redis.ttl(key) <= PERIOD_S, "the spend lives in Redis for one period"

    # Over budget: the self-hosted model serves the group and the alias, with no retry delay
    for model in (group, tier):
        started = time.monotonic()
        assert _served_by(economy, model, client) == "vllm"
        assert time.monotonic() - started < 2
    # The Bedrock model asked for by name is refused (429), never silently billed
    bedrock_calls = len(economy.bedrock.model_calls)
    refused = chat(client, bedrock_model, unique_prompt("over-budget"))
    assert refused.status == 429 and "budget" in str(refused.body)
    assert len(economy.bedrock.model_calls) == bedrock_calls

    # When the period ends the shared spend is gone, and a replica serves the group from Bedrock
    # again. (This one is a fresh replica on the same Redis: LiteLLM 1.106.2 copies Redis's spend
    # into each replica's memory every second without a TTL - budget_limiter.py
    # _flush_increments_then_copy_redis_spend - so a replica that copied it just as its own entry
    # expired keeps it up to InMemoryCache's default 600 s: the switch back can lag that long.)
    wait_until(lambda: redis.get(key) is None, timeout=PERIOD_S + 5, interval=0.5, message="the budget period never ended")
    with run_proxy(economy.config, economy.env) as replica:
        with httpx.Client(base_url=replica, headers={"Authorization": f"Bearer {economy.master_key}"}, timeout=60) as fresh:
            assert _served_by(economy, group, fresh) == "bedrock"


def test_parallel_requests_never_exceed_max_num_seqs(economy, routing):
    """More concurrent requests than vLLM's max_num_seqs, through every deployment that reaches
    the server (its own model and a model group's self-hosted deployment): the server never
    holds more than max_num_seqs at once; the rest wait (retry) or are refused, never piled on."""
    settings, plan = routing
    model = settings.models[0]
    stub = economy.vllm[model.name]
    names = [model.name] + [group for group, _, hosted in plan.groups if hosted == model.name]
    redis = economy.redis_client()
    # Make sure the groups are over budget, so their traffic goes to this server too
    redis.set(f"provider_spend:bedrock:{PERIOD_S}s", 1.0, ex=PERIOD_S)
    time.sleep(1.5)
    stub.delay, stub.max_in_flight = 0.5, 0
    requests = 3 * model.max_num_seqs

    def one(i: int):
        with httpx.Client(base_url=economy.url, headers={"Authorization": f"Bearer {economy.master_key}"}, timeout=60) as c:
            return chat(c, names[i % len(names)], unique_prompt("parallel"))

    try:
        with concurrent.futures.ThreadPoolExecutor(requests) as pool:
            results = list(pool.map(one, range(requests)))
    finally:
        stub.delay = 0
        redis.delete(f"provider_spend:bedrock:{PERIOD_S}s")
    assert 2 <= stub.max_in_flight <= model.max_num_seqs, stub.max_in_flight
    assert {r.status for r in results} <= {200, 429}, [r.body for r in results if r.status not in (200, 429)]
    assert sum(r.status == 200 for r in results) >= model.max_num_seqs


def test_budget_and_groups_are_validated():
    from components.settings import SettingsError

    base = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
    cases = [
        ({"economy": {"period": "hourly"}}, "genai-platform:gateway.economy.period = 'hourly'", "30m, 1h or 1d"),
        ({"economy": {"bedrockBudgetUsd": 0}}, "genai-platform:gateway.economy.bedrockBudgetUsd = 0", "greater than 0"),
        ({"economy": {"model": "gpt-5"}}, "genai-platform:gateway.economy.model = 'gpt-5'", "a self-hosted model"),
        ({"modelGroups": [{"name": "chat", "bedrockModel": "claude-opus"}]},
         "genai-platform:gateway.modelGroups[0].bedrockModel = 'claude-opus'", "the name of a Bedrock model"),
        ({"modelGroups": [{"name": "llama-3.2-1b", "bedrockModel": "claude-haiku-4-5"}]},
         "genai-platform:gateway.modelGroups[0].name = 'llama-3.2-1b'", "no model, group or alias already has"),
        ({"aliases": {"fast": "nothing"}}, "genai-platform:gateway.aliases.fast = 'nothing'", "a model or group name"),
    ]
    for gateway, key, allowed in cases:
        with pytest.raises(SettingsError) as err:
            parse_settings({**base, "genai-platform:gateway": gateway}, "Pulumi.test.yaml")
        assert key in str(err.value) and allowed in str(err.value), str(err.value)
    with pytest.raises(SettingsError, match=r"genai-platform:models\[0\]\.maxParallelRequests = 8.*at most maxNumSeqs \(4\)"):
        parse_settings({**base, "genai-platform:models": [
            {"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "maxParallelRequests": 8}]},
            "Pulumi.test.yaml")
    with pytest.raises(SettingsError, match=r"genai-platform:models\[0\]\.maxNumSeqs = 1.*at least 2"):
        parse_settings({**base, "genai-platform:models": [
            {"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "maxNumSeqs": 1}]},
            "Pulumi.test.yaml")
    # Without self-hosted models the default economy switch is simply off; set explicitly it is an error
    settings = parse_settings({**base, "genai-platform:models": [], "genai-platform:neuron": {"minSize": 0, "desiredSize": 0}},
                              "Pulumi.test.yaml")
    assert resolve_routing(settings).budget is None and resolve_routing(settings).groups == ()
    with pytest.raises(SettingsError, match=r"genai-platform:gateway\.economy = .*null \(off\)"):
        parse_settings({**base, "genai-platform:models": [], "genai-platform:neuron": {"minSize": 0, "desiredSize": 0},
                        "genai-platform:gateway": {"economy": {"bedrockBudgetUsd": 5}}}, "Pulumi.test.yaml")


def test_the_preview_shows_the_budget_groups_and_caps(stack_runs):
    """The `gatewayRouting` stack output (the preview prints stack outputs) states the plan."""
    routing = stack_runs["prod"].outputs["gatewayRouting"]
    assert routing["bedrockBudget"] == {"limitUsd": 10.0, "period": "1h"}
    assert routing["modelGroups"] == {"chat": {"first": "claude-haiku-4-5", "overBudget": "llama-3.2-1b"}}
    assert routing["aliases"] == {"fast": "chat", "economy": "llama-3.2-1b"}
    assert routing["maxParallelRequestsPerReplica"] == {"llama-3.2-1b/vllm-llama3-2-1b": 2,
                                                         "llama-3.2-1b/vllm-llama3-2-1b-in-chat": 2}
