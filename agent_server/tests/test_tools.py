"""The agents' tools as plain functions."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx2
import pytest

from agent_server.tests.conftest import LANGFUSE_PUBLIC, LANGFUSE_SECRET, USAGE_ROWS
from agent_server.tests.langfuse_stub import LangfuseStub
from agent_server.tools import platform_metrics
from agent_server.tools.calculator import CalculationError, calculate
from agent_server.tools.summarise import sentences, summarise


@pytest.mark.parametrize("expression, expected", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ** 10 / 4", 256.0), ("-7 // 2", -4), ("17 % 5", 2),
    ("sqrt(16) + abs(-2)", 6.0), ("round(pi, 2)", 3.14), ("max(3, 9, 4) - min(2, 8)", 7), ("1e3 * 2", 2000.0),
])
def test_calculator_evaluates_arithmetic(expression, expected):
    assert calculate(expression) == expected


@pytest.mark.parametrize("expression, reason", [
    ("__import__('os').system('true')", "not allowed"), ("open('/etc/passwd')", "not allowed"),
    ("(1).__class__", "not allowed"), ("x + 1", "not allowed"), ("'a' * 3", "not allowed"),
    ("9 ** 99999", "exponent"), ("1 / 0", "division by zero"), ("1 +", "not an arithmetic expression"),
    ("1" * 501, "longer than"), ("sqrt(-1)", "math domain error"), ("(-8) ** 0.5", "not a real number"),
    ("10.0 ** 400", "out of range"), ("round(2, ndigits=1)", "not allowed"),
])
def test_calculator_refuses_what_is_not_plain_arithmetic(expression, reason):
    with pytest.raises(CalculationError, match=reason):
        calculate(expression)


TEXT = """Solar panels convert sunlight into electricity. The weather was pleasant on Tuesday.
Solar output depends on panel angle and sunlight hours. My cat likes boxes.

Panel efficiency limits how much sunlight becomes electricity. Lunch was late."""


def test_summary_keeps_the_sentences_about_the_main_topic_in_order():
    # the off-topic sentences (weather, cat, lunch) never make it; of the two equally scored panel
    # sentences the earlier one wins
    assert summarise(TEXT, 2) == ("Solar panels convert sunlight into electricity. "
                                  "Solar output depends on panel angle and sunlight hours.")
    assert "cat" not in summarise(TEXT, 3) and summarise(TEXT, 3).endswith("becomes electricity.")
    assert len(sentences(TEXT)) == 6


def test_summary_of_a_short_text_is_the_text_and_bad_length_is_refused():
    assert summarise("One sentence only.", 3) == "One sentence only."
    with pytest.raises(ValueError):
        summarise(TEXT, 0)


def test_usage_query_asks_for_the_gateways_generations_per_model_over_the_period():
    end = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
    query = platform_metrics.usage_query(end - dt.timedelta(days=7), end)
    assert query["view"] == "observations"
    assert (query["fromTimestamp"], query["toTimestamp"]) == ("2026-11-23T12:00:00Z", "2026-11-30T12:00:00Z")
    assert {(m["measure"], m["aggregation"]) for m in query["metrics"]} == {
        ("count", "count"), ("totalCost", "sum"), ("latency", "avg"), ("latency", "p95")}
    assert {(f["column"], f["value"]) for f in query["filters"]} == {
        ("type", "GENERATION"), ("name", "litellm_request")}


def test_comparison_names_cheapest_and_slowest_and_skips_unused_models():
    usages = platform_metrics.parse_usage({"data": USAGE_ROWS + [
        {"providedModelName": "", "count_count": 3}, {"providedModelName": "idle", "count_count": 0}]})
    assert [u.model for u in usages] == ["llama-3.2-1b", "claude-haiku-4-5", "idle"]
    answer = platform_metrics.compare(usages)
    assert answer["cheapest_per_call"] == "llama-3.2-1b" and answer["most_expensive_per_call"] == "claude-haiku-4-5"
    assert answer["fastest_avg_latency"] == "llama-3.2-1b" and answer["slowest_avg_latency"] == "claude-haiku-4-5"
    assert answer["slowest_p95_latency"] == "claude-haiku-4-5"
    assert answer["models"][1]["cost_per_call_usd"] == pytest.approx(0.042)
    assert [m["model"] for m in answer["models"]] == ["llama-3.2-1b", "claude-haiku-4-5"]
    assert platform_metrics.compare([])["models"] == []


def test_unreadable_metrics_answers_are_errors_not_figures():
    with pytest.raises(platform_metrics.MetricsError):
        platform_metrics.parse_usage({"rows": []})
    with pytest.raises(platform_metrics.MetricsError, match="sum_totalCost"):
        platform_metrics.parse_usage({"data": [{"providedModelName": "m", "count_count": 1, "sum_totalCost": "n/a"}]})


def test_model_usage_reads_langfuse_with_the_project_keys():
    async def fetch(stub: LangfuseStub, secret: str):
        async with httpx2.AsyncClient() as client:
            return await platform_metrics.model_usage(client, stub.url, LANGFUSE_PUBLIC, secret, days=3)

    with LangfuseStub(LANGFUSE_PUBLIC, LANGFUSE_SECRET, USAGE_ROWS) as stub:
        usages = asyncio.run(fetch(stub, LANGFUSE_SECRET))
        assert [(u.model, u.calls) for u in usages] == [("llama-3.2-1b", 40), ("claude-haiku-4-5", 10)]
        [query] = stub.metric_queries
        span = dt.datetime.fromisoformat(query["toTimestamp"]) - dt.datetime.fromisoformat(query["fromTimestamp"])
        assert span == dt.timedelta(days=3)
        with pytest.raises(platform_metrics.MetricsError, match="401"):
            asyncio.run(fetch(stub, "sk-lf-wrong"))
