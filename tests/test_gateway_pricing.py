"""Self-hosted deployments as LiteLLM prices them, in process (LiteLLM's ``mock_response``: no
backend, no network): their tokens are free, and pricing a response stays cheap.

Without explicit rates LiteLLM prices a self-hosted response at $0 and then, twice per request
(once in the request path for the response headers), runs its zero-cost diagnostic over the
deployment's whole default pricing entry: most of the rendered config's extra gateway latency
over a minimal config (``tools/gateway_bench.py``). Explicit zero rates end that check at once.
"""

from __future__ import annotations

import asyncio

from tests.rendered import gateway_config


def _self_hosted(config: dict) -> list[dict]:
    return [d for d in config["model_list"] if d["litellm_params"]["model"].startswith("hosted_vllm/")]


def test_self_hosted_responses_cost_nothing_without_the_zero_cost_walk(stack_run, monkeypatch, no_network) -> None:
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # the bundled cost map: no download
    import litellm
    from litellm.litellm_core_utils.llm_cost_calc import zero_cost_diagnostic

    deployments = _self_hosted(gateway_config(stack_run))
    assert deployments, "every stack serves at least one self-hosted model"
    walks: list[str] = []
    real_walk = zero_cost_diagnostic._declares_a_rate

    def counted_walk(entry):
        walks.append(str(entry.get("id") or "?"))
        return real_walk(entry)

    monkeypatch.setattr(zero_cost_diagnostic, "_declares_a_rate", counted_walk)
    router = litellm.Router(model_list=[
        {**d, "litellm_params": {**d["litellm_params"], "mock_response": "ok"}} for d in deployments
    ])

    async def ask_each() -> list[float]:
        costs = []
        for deployment in deployments:
            response = await router.acompletion(
                model=deployment["model_name"], messages=[{"role": "user", "content": "hello"}],
            )
            assert response.usage.total_tokens > 0, "the usage LiteLLM prices"
            costs.append(response._hidden_params["response_cost"])
        await asyncio.sleep(0.2)  # the success handlers price the response again
        return costs

    costs = asyncio.run(ask_each())
    assert costs == [0.0] * len(deployments), "self-hosted tokens are free: spend stays per Bedrock call"
    assert walks == [], f"LiteLLM walked the whole pricing entry of {sorted(set(walks))} on every response"

