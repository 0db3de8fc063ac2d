"""Grafana dashboards as code (grafana-foundation-sdk builders): gateway, model servers, Neuron, platform.

Queries use fixed `[5m]` windows and no template variables, so every query is a plain PromQL
expression that tests run against a real Prometheus. Each dashboard is provisioned as a ConfigMap
that Grafana's dashboard sidecar loads (values.py).
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from components.monitoring import metrics as m

DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
WIDTH = 12
HEIGHT = 8

# (title, unit, [(expr, legend)], kind) per panel; kind "stat" or "timeseries"
Panel = tuple[str, str, list[tuple[str, str]], str]


def _rate(series: str, by: str = "") -> str:
    return f"sum{f' by ({by})' if by else ''} (rate({series}[5m]))"


def _quantile(q: float, histogram: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({m.histogram(histogram)}[5m])))"


GATEWAY: list[Panel] = [
    ("Requests/s by model", "reqps", [(_rate(m.LITELLM_REQUESTS, "requested_model"), "{{requested_model}}")], "timeseries"),
    ("Total latency p50 / p95", "s", [
        (_quantile(0.5, m.LITELLM_TOTAL_LATENCY, "requested_model"), "p50 {{requested_model}}"),
        (_quantile(0.95, m.LITELLM_TOTAL_LATENCY, "requested_model"), "p95 {{requested_model}}"),
    ], "timeseries"),
    ("LLM API latency p50 / p95", "s", [
        (_quantile(0.5, m.LITELLM_LLM_LATENCY, "model"), "p50 {{model}}"),
        (_quantile(0.95, m.LITELLM_LLM_LATENCY, "model"), "p95 {{model}}"),
    ], "timeseries"),
    ("Time to first token p95 (streaming)", "s",
     [(_quantile(0.95, m.LITELLM_TTFT, "model"), "{{model}}")], "timeseries"),
    ("Input / output tokens/s", "short", [
        (_rate(m.LITELLM_INPUT_TOKENS, "model"), "in {{model}}"),
        (_rate(m.LITELLM_OUTPUT_TOKENS, "model"), "out {{model}}"),
    ], "timeseries"),
    ("Spend per hour by model (USD)", "currencyUSD",
     [(f"{_rate(m.LITELLM_SPEND, 'model')} * 3600", "{{model}}")], "timeseries"),
    ("Fallbacks/s", "reqps", [
        (_rate(m.LITELLM_FALLBACKS_OK, "requested_model"), "ok {{requested_model}}"),
        (_rate(m.LITELLM_FALLBACKS_FAILED, "requested_model"), "failed {{requested_model}}"),
    ], "timeseries"),
    ("Response cache hit ratio", "percentunit", [(
        f"sum(rate({m.LITELLM_CACHE_HITS}[5m])) / "
        f"(sum(rate({m.LITELLM_CACHE_HITS}[5m])) + sum(rate({m.LITELLM_CACHE_MISSES}[5m])))", "hit ratio",
    )], "stat"),
    ("Failures by status", "reqps",
     [(_rate(m.LITELLM_FAILED_REQUESTS, "exception_status"), "{{exception_status}}")], "timeseries"),
]

MODEL_SERVERS: list[Panel] = [
    ("Running / waiting requests", "short", [
        (f"sum by (model_name) ({m.VLLM_RUNNING})", "running {{model_name}}"),
        (f"sum by (model_name) ({m.VLLM_WAITING})", "waiting {{model_name}}"),
    ], "timeseries"),
    ("Time to first token p50 / p95", "s", [
        (_quantile(0.5, m.VLLM_TTFT, "model_name"), "p50 {{model_name}}"),
        (_quantile(0.95, m.VLLM_TTFT, "model_name"), "p95 {{model_name}}"),
    ], "timeseries"),
    ("Inter-token latency p95", "s", [(_quantile(0.95, m.VLLM_INTER_TOKEN, "model_name"), "{{model_name}}")], "timeseries"),
    ("End-to-end latency p95", "s", [(_quantile(0.95, m.VLLM_E2E, "model_name"), "{{model_name}}")], "timeseries"),
    ("Queue time p95", "s", [(_quantile(0.95, m.VLLM_QUEUE_TIME, "model_name"), "{{model_name}}")], "timeseries"),
    ("KV-cache usage", "percentunit", [(f"max by (model_name) ({m.VLLM_KV_CACHE})", "{{model_name}}")], "timeseries"),
    ("Tokens/s (prompt / generation)", "short", [
        (_rate(m.VLLM_PROMPT_TOKENS, "model_name"), "prompt {{model_name}}"),
        (_rate(m.VLLM_GENERATION_TOKENS, "model_name"), "generation {{model_name}}"),
    ], "timeseries"),
]

NEURON: list[Panel] = [
    ("NeuronCore utilisation", "percentunit",
     [(f"avg by (instance_id, neuroncore) ({m.NEURON_CORE_UTILIZATION})", "{{instance_id}} core {{neuroncore}}")],
     "timeseries"),
    ("Runtime memory used (device / host)", "bytes",
     [(f"sum by (instance_id, memory_location) ({m.NEURON_RUNTIME_MEMORY})", "{{instance_id}} {{memory_location}}")],
     "timeseries"),
    ("Execution errors/10m", "short",
     [(f"sum by (instance_id, error_type) (increase({m.NEURON_EXECUTION_ERRORS}[10m]))", "{{instance_id}} {{error_type}}")],
     "timeseries"),
    ("ECC events/10m", "short",
     [(f"sum by (instance_id, event_type) (increase({m.NEURON_ECC_EVENTS}[10m]))", "{{instance_id}} {{event_type}}")],
     "timeseries"),
]

PLATFORM: list[Panel] = [
    ("Pods not ready (genai)", "short",
     [(f'sum({m.KSM_POD_READY}{{namespace="genai",condition="false"}})', "not ready")], "stat"),
    ("Container restarts/1h (genai)", "short",
     [(f'sum by (pod) (increase({m.KSM_RESTARTS}{{namespace="genai"}}[1h]))', "{{pod}}")], "timeseries"),
    ("Nodes per node group", "short",
     [(f"count by ({m.NODE_GROUP_SERIES_LABEL}) ({m.KSM_NODE_LABELS})", f"{{{{{m.NODE_GROUP_SERIES_LABEL}}}}}")],
     "timeseries"),
]

DASHBOARDS: dict[str, tuple[str, list[Panel]]] = {
    "genai-gateway": ("GenAI / Gateway (LiteLLM)", GATEWAY),
    "genai-model-servers": ("GenAI / Model servers (vLLM)", MODEL_SERVERS),
    "genai-neuron": ("GenAI / Neuron", NEURON),
    "genai-platform": ("GenAI / Platform", PLATFORM),
}


def _panel(title: str, unit: str, queries: list[tuple[str, str]], kind: str):
    builder = stat.Panel() if kind == "stat" else timeseries.Panel()
    builder = builder.title(title).unit(unit).datasource(DATASOURCE).span(WIDTH).height(HEIGHT)
    for i, (expr, legend) in enumerate(queries):
        builder = builder.with_target(
            prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(chr(ord("A") + i)).datasource(DATASOURCE)
        )
    return builder


def build(uid: str) -> dict[str, Any]:
    """One dashboard as Grafana's JSON model."""
    title, panels = DASHBOARDS[uid]
    builder = (dash.Dashboard(title).uid(uid).tags(["genai-platform"]).refresh("30s").time("now-6h", "now")
               .editable())
    for panel in panels:
        builder = builder.with_panel(_panel(*panel))
    return json.loads(JSONEncoder(sort_keys=True).encode(builder.build()))


def all_dashboards() -> dict[str, dict[str, Any]]:
    """uid -> dashboard JSON model."""
    return {uid: build(uid) for uid in DASHBOARDS}


def queries(model: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every query of a dashboard JSON model."""
    return [(p["title"], t["expr"]) for p in model.get("panels", []) for t in p.get("targets", [])]
