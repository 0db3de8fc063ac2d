"""Which model was cheapest / slowest: Langfuse's Metrics API (v2) and LiteLLM's model info.

Langfuse v4 serves `GET /api/public/v2/metrics?query=<json>` with basic auth public:secret key
(langfuse.com docs/metrics/features/metrics-api; view `observations`, dimension
`providedModelName`, measures `count`, `totalCost`, `latency` in ms: langfuse/langfuse
web/src/features/query/dataModel.ts). Each result row names a metric `<aggregation>_<measure>`.

Only the gateway's own generations are counted: LiteLLM's `langfuse_otel` callback names its
span `litellm_request` and marks it a generation (litellm/integrations/opentelemetry.py
LITELLM_REQUEST_SPAN_NAME, langfuse_otel.py), one per model call whoever made it. The agent
server's own `chat ...` spans describe the same calls and would count them twice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any, Optional

import httpx2

METRICS_PATH = "/api/public/v2/metrics"
GATEWAY_GENERATION_NAME = "litellm_request"


class MetricsError(RuntimeError):
    """Langfuse or LiteLLM answered with an error or something unreadable."""


@dataclass(frozen=True)
class ModelUsage:
    model: str
    calls: int
    total_cost_usd: float
    avg_latency_ms: Optional[float]
    p95_latency_ms: Optional[float]

    @property
    def cost_per_call_usd(self) -> float:
        return self.total_cost_usd / self.calls if self.calls else 0.0


def usage_query(start: dt.datetime, end: dt.datetime, generation_name: str = GATEWAY_GENERATION_NAME) -> dict[str, Any]:
    """The Metrics API query: the gateway's generations per model between `start` and `end`."""
    return {
        "view": "observations",
        "dimensions": [{"field": "providedModelName"}],
        "metrics": [
            {"measure": "count", "aggregation": "count"},
            {"measure": "totalCost", "aggregation": "sum"},
            {"measure": "latency", "aggregation": "avg"},
            {"measure": "latency", "aggregation": "p95"},
        ],
        "filters": [
            {"column": "type", "operator": "=", "value": "GENERATION", "type": "string"},
            {"column": "name", "operator": "=", "value": generation_name, "type": "string"},
        ],
        "timeDimension": None,
        "fromTimestamp": start.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "toTimestamp": end.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "orderBy": None,
    }


def _number(row: dict[str, Any], key: str) -> Optional[float]:
    value = row.get(key)
    if value is None or value == "":
        return None
    try:
        return float(value)  # ClickHouse decimals may arrive as strings
    except (TypeError, ValueError):
        raise MetricsError(f"Langfuse metrics row has a non-numeric {key}: {value!r}") from None


def parse_usage(payload: Any) -> list[ModelUsage]:
    """Rows of a Metrics API answer as `ModelUsage` (rows without a model name are skipped)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise MetricsError(f"unexpected Langfuse metrics answer: {str(payload)[:200]}")
    usages = []
    for row in payload["data"]:
        model = row.get("providedModelName")
        if not model:
            continue
        usages.append(ModelUsage(
            model=str(model),
            calls=int(_number(row, "count_count") or 0),
            total_cost_usd=_number(row, "sum_totalCost") or 0.0,
            avg_latency_ms=_number(row, "avg_latency"),
            p95_latency_ms=_number(row, "p95_latency"),
        ))
    return usages


async def model_usage(client: httpx2.AsyncClient, langfuse_url: str, public_key: str, secret_key: str, *,
                      days: int = 7, now: Optional[dt.datetime] = None) -> list[ModelUsage]:
    """Per-model calls, cost and latency over the last `days` days, from Langfuse."""
    end = now or dt.datetime.now(dt.timezone.utc)
    query = usage_query(end - dt.timedelta(days=days), end)
    try:
        response = await client.get(f"{langfuse_url}{METRICS_PATH}", params={"query": json.dumps(query)},
                                    auth=(public_key, secret_key), timeout=30)
    except httpx2.HTTPError as exc:
        raise MetricsError(f"Langfuse metrics API unreachable: {exc}") from None
    if response.status_code != 200:
        raise MetricsError(f"Langfuse metrics API answered {response.status_code}: {response.text[:200]}")
    return parse_usage(response.json())


def compare(usages: list[ModelUsage]) -> dict[str, Any]:
    """The models ranked: cheapest / most expensive per call, fastest / slowest on average and p95."""
    used = [u for u in usages if u.calls > 0]
    if not used:
        return {"models": [], "note": "no model calls through the gateway in this period"}
    timed = [u for u in used if u.avg_latency_ms is not None]
    p95 = [u for u in used if u.p95_latency_ms is not None]
    by_cost = sorted(used, key=lambda u: (u.cost_per_call_usd, u.model))
    answer: dict[str, Any] = {
        "models": [{**asdict(u), "cost_per_call_usd": u.cost_per_call_usd} for u in by_cost],
        "cheapest_per_call": by_cost[0].model,
        "most_expensive_per_call": by_cost[-1].model,
        "highest_total_cost": max(used, key=lambda u: (u.total_cost_usd, u.model)).model,
    }
    if timed:
        answer["fastest_avg_latency"] = min(timed, key=lambda u: (u.avg_latency_ms, u.model)).model
        answer["slowest_avg_latency"] = max(timed, key=lambda u: (u.avg_latency_ms, u.model)).model
    if p95:
        answer["slowest_p95_latency"] = max(p95, key=lambda u: (u.p95_latency_ms, u.model)).model
    return answer


async def gateway_models(client: httpx2.AsyncClient, gateway_url: str, gateway_key: str) -> list[dict[str, Any]]:
    """The models LiteLLM serves (`GET /model/info`): name, backend and list prices per million tokens."""
    try:
        response = await client.get(f"{gateway_url}/model/info", headers={"Authorization": f"Bearer {gateway_key}"},
                                    timeout=30)
    except httpx2.HTTPError as exc:
        raise MetricsError(f"LiteLLM unreachable: {exc}") from None
    if response.status_code != 200:
        raise MetricsError(f"LiteLLM /model/info answered {response.status_code}: {response.text[:200]}")
    models = []
    for entry in response.json().get("data", []):
        params, info = entry.get("litellm_params") or {}, entry.get("model_info") or {}
        per_million = lambda key: None if info.get(key) is None else round(float(info[key]) * 1e6, 6)  # noqa: E731
        models.append({
            "model": entry.get("model_name"),
            "backend": params.get("model"),
            "input_usd_per_million_tokens": per_million("input_cost_per_token"),
            "output_usd_per_million_tokens": per_million("output_cost_per_token"),
            "max_input_tokens": info.get("max_input_tokens"),
        })
    return models
