"""A real Prometheus scrapes the real LiteLLM proxy (the dev stack's rendered gateway on loopback) and
stand-in vLLM, neuron-monitor and kube-state-metrics endpoints, with a scrape config generated from
the program's scrape targets; after some traffic, every dashboard panel's query and every alert's
signal returns data. A panel whose query returns nothing fails this test."""

from __future__ import annotations

import math
import time
from urllib.parse import urlsplit

import httpx
import pytest

from components.monitoring import alerts, dashboards, scrape
from components.settings.loading import load_stack_settings
from monitoring_exporters import KubeStateMetricsExporter, NeuronMonitorExporter, VllmExporter, traffic
from prometheus_tools import query, rendered_rules, run_prometheus, targets_health
from tests.gateway import loopback as lb
from tests.gateway.client import chat, unique_prompt, wait_until_served_by
from tests.gateway.dev_gateway import USER_ID, all_models
from components.apps.gateway_config import USER_HEADER
from tools.offline.engine import PROJECT_DIR

SCRAPE_INTERVAL = "1s"


def scrape_config(gateway_address: str, vllm: list[str], neuron: list[str], ksm: str) -> dict:
    """Prometheus scrape settings from the program's ServiceMonitor/PodMonitor targets (path, job),
    pointed at the loopback endpoints; kube-state-metrics keeps its own labels as the chart's does."""
    addresses = {"litellm": [gateway_address], "vllm": vllm, "neuron-monitor": neuron}
    jobs = [
        {"job_name": t.name, "metrics_path": t.path, "scheme": "http",
         "static_configs": [{"targets": addresses[t.name], "labels": {"namespace": t.namespace}}]}
        for t in scrape.targets("genai")
    ]
    jobs.append({"job_name": "kube-state-metrics", "honor_labels": True, "static_configs": [{"targets": [ksm]}]})
    return {"global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
            "scrape_configs": jobs}


def _traffic(client: httpx.Client, gateway: lb.GatewayRun, settings, label: str) -> None:
    """Every model plain and streamed, one cached repeat (opted in: the cache is off by default),
    one failure, one fallback."""
    for model in all_models(settings):
        for stream in (False, True):
            assert chat(client, model, unique_prompt(f"{label}-{model}-{stream}"), stream=stream).status == 200
    repeated = f"monitoring cache probe {label}"
    for _ in range(2):
        assert chat(client, all_models(settings)[0], repeated, cache={"use-cache": True}).status == 200
    assert chat(client, "no-such-model", unique_prompt("unknown")).status >= 400
    for model in settings.models:
        stub = gateway.vllm[model.name]
        stub.stop()
        try:
            assert chat(client, model.name, unique_prompt(f"{label}-fallback")).status == 200
            # a fallback that fails too (request-level fallbacks to a model nobody serves): a 5xx
            assert chat(client, model.name, unique_prompt(f"{label}-fallback-fails"),
                        fallbacks=["no-such-model"]).status >= 500
        finally:
            stub.start()
        wait_until_served_by(client, stub, model.name, label=f"{label}-recovered", timeout=45,
                             message=f"{model.name} never returned to its vLLM stub")


@pytest.fixture(scope="module")
def prometheus(dev_gateway, stack_runs, tmp_path_factory):
    settings = load_stack_settings("dev", PROJECT_DIR)
    run = stack_runs["dev"]
    deployments = [r.inputs["metadata"]["name"] for r in run.of_type("kubernetes:apps/v1:Deployment")
                   if r.inputs["metadata"].get("namespace") == "genai"]
    exporters = [VllmExporter(m.name) for m in settings.models]
    neuron, ksm = NeuronMonitorExporter(), KubeStateMetricsExporter(deployments, ["system", "neuron"])
    for exporter in [*exporters, neuron, ksm]:
        exporter.start()
    config = scrape_config(urlsplit(str(dev_gateway.url)).netloc, [e.address for e in exporters], [neuron.address],
                           ksm.address)
    headers = {"Authorization": f"Bearer {dev_gateway.master_key}", USER_HEADER: USER_ID}
    try:
        with traffic([*exporters, neuron, ksm]), \
                run_prometheus(config, rendered_rules(run), tmp_path_factory.mktemp("prometheus")) as url, \
                httpx.Client(base_url=str(dev_gateway.url), headers=headers, timeout=60) as client:
            time.sleep(3)  # first scrapes: every series exists before the traffic moves it
            _traffic(client, dev_gateway, settings, "round-1")
            time.sleep(3)
            _traffic(client, dev_gateway, settings, "round-2")
            time.sleep(4)  # the last requests' samples are scraped
            yield url
    finally:
        for exporter in [*exporters, neuron, ksm]:
            exporter.stop()


def _has_data(result: list[dict]) -> bool:
    return any(math.isfinite(float(sample["value"][1])) for sample in result)


def test_every_target_is_up_including_the_unauthenticated_gateway(prometheus):
    assert targets_health(prometheus) == {"litellm": "up", "vllm": "up", "neuron-monitor": "up",
                                          "kube-state-metrics": "up"}


@pytest.mark.parametrize("uid", sorted(dashboards.DASHBOARDS))
def test_every_panel_query_returns_data(prometheus, uid):
    empty = [(title, expr) for title, expr in dashboards.queries(dashboards.build(uid))
             if not _has_data(query(prometheus, expr))]
    assert not empty, f"panels without data: {empty}"


def test_every_alert_signal_returns_data(prometheus):
    settings = load_stack_settings("dev", PROJECT_DIR)
    empty = [(a.name, a.signal) for a in alerts.alerts(settings) if not _has_data(query(prometheus, a.signal))]
    assert not empty, f"alert signals without data: {empty}"


def test_the_loaded_rules_are_evaluated_and_none_fires_on_healthy_traffic(prometheus):
    rules = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    [group] = [g for g in rules if g["name"] == alerts.GROUP]
    assert all(r["health"] == "ok" for r in group["rules"]), [(r["name"], r.get("lastError")) for r in group["rules"]]
    assert not [r["name"] for r in group["rules"] if r["state"] == "firing"]


def test_spend_is_exported_for_the_cost_panel(prometheus):
    result = query(prometheus, "sum by (model) (litellm_spend_metric_total)")
    assert result and max(float(s["value"][1]) for s in result) > 0, result
