"""Platform assistant: answers questions about the platform's models from real telemetry."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from pydantic_ai import Agent, RunContext
from pydantic_ai.capabilities import Instrumentation
from pydantic_ai.models import Model
from pydantic_ai.models.instrumented import InstrumentationSettings

from agent_server.agents import AgentDefinition, RunDeps
from agent_server.tools import platform_metrics

NAME = "platform-assistant"
INSTRUCTIONS = """\
You are the assistant of a self-hosted GenAI platform whose models are all served through one
LiteLLM gateway and traced in Langfuse. For questions about which model was cheapest, most
expensive, fastest or slowest, call `compare_models` (real measurements from Langfuse) and, for
list prices or what a model runs on, `gateway_models`. Answer with the figures, their unit and
the period they cover. If a tool reports an error, say what is unavailable; never guess figures.
"""


async def compare_models(ctx: RunContext[RunDeps],
                         days: Annotated[int, Field(ge=1, le=90)] = 7) -> dict[str, Any]:
    """Calls, total cost (USD), cost per call and latency (ms, average and p95) per model over the
    last `days` days, with the cheapest / most expensive / fastest / slowest model named."""
    config = ctx.deps.config
    if not config.langfuse_url:
        return {"error": "Langfuse is not configured for the agent server (LANGFUSE_HOST)"}
    try:
        usages = await platform_metrics.model_usage(
            ctx.deps.http, config.langfuse_url, config.langfuse_public_key or "", config.langfuse_secret_key or "",
            days=days,
        )
    except platform_metrics.MetricsError as exc:
        return {"error": str(exc)}
    return {"period_days": days, **platform_metrics.compare(usages)}


async def gateway_models(ctx: RunContext[RunDeps]) -> dict[str, Any]:
    """The models the gateway serves, what each runs on, and list prices in USD per million tokens."""
    try:
        return {"models": await platform_metrics.gateway_models(ctx.deps.http, ctx.deps.config.gateway_url,
                                                                 ctx.deps.config.gateway_key)}
    except platform_metrics.MetricsError as exc:
        return {"error": str(exc)}


def build(model: Model, instrumentation: InstrumentationSettings) -> Agent[RunDeps, str]:
    return Agent(model, name=NAME, deps_type=RunDeps, instructions=INSTRUCTIONS,
                 tools=[compare_models, gateway_models], capabilities=[Instrumentation(instrumentation)])


DEFINITION = AgentDefinition(NAME, "Which model was cheapest or slowest: Langfuse metrics and LiteLLM model info",
                             build)
