"""`promtool test rules` cases: for every alert, input series that make it fire and series that must not.

Series are in promtool's expanding notation (`0+10x30`: start at 0, +10 per interval, 30 times).
Thresholds come from the stack's settings, so the cases follow a changed threshold.
"""

from __future__ import annotations

from typing import Any

from components.monitoring import metrics as m
from components.settings import Settings

INTERVAL = "1m"


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    body = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{body}}}", "values": values}


def cases(settings: Settings) -> dict[str, dict[str, Any]]:
    """alert name -> {"eval": time, "fire": [series], "quiet": [[series], ...]}."""
    mon = settings.monitoring
    model = {"requested_model": "llama-3.2-1b"}
    ok, err = {**model, "status_code": "200"}, {**model, "status_code": "500"}
    # the 5xx share of requests just above / well below the threshold
    bad_per_min = max(1, round(100 * mon.error_ratio / (1 - mon.error_ratio)) + 1)

    def latency(fast: str, slow: str) -> list[dict[str, str]]:
        bucket = m.histogram(m.LITELLM_TOTAL_LATENCY)
        top = mon.p95_latency_seconds * 4
        return [_series(bucket, {**model, "le": f"{mon.p95_latency_seconds / 2:g}"}, fast),
                _series(bucket, {**model, "le": f"{top:g}"}, slow),
                _series(bucket, {**model, "le": "+Inf"}, slow)]

    waiting = {"model_name": "llama-3.2-1b", "engine": "0"}
    node = {"instance_id": "i-0abc", "instance_type": "inf2.xlarge"}
    ecc = {**node, "neuron_device_index": "0"}
    pod = {"namespace": "genai", "pod": "litellm-abc", "container": "litellm"}
    spend_fire = mon.spend_budget_per_hour * 2 / 60  # USD per minute: twice the budget
    spend_quiet = mon.spend_budget_per_hour / 4 / 60
    out: dict[str, dict[str, Any]] = {
        "GatewayHighErrorRatio": {
            "eval": "20m",
            "fire": [_series(m.LITELLM_REQUESTS, ok, "0+100x30"), _series(m.LITELLM_REQUESTS, err, f"0+{bad_per_min}x30")],
            "quiet": [[_series(m.LITELLM_REQUESTS, ok, "0+100x30"), _series(m.LITELLM_REQUESTS, err, "0+0x30")],
                      [_series(m.LITELLM_REQUESTS, ok, "0+100x30")]],
        },
        "GatewayP95LatencyHigh": {
            "eval": "20m",
            "fire": latency("0+0x30", "0+10x30"),
            "quiet": [latency("0+10x30", "0+10x30")],
        },
        "VllmQueueBacklog": {
            "eval": "20m",
            "fire": [_series(m.VLLM_WAITING, waiting, f"{mon.queue_backlog + 5}x30")],
            "quiet": [[_series(m.VLLM_WAITING, waiting, f"{mon.queue_backlog}x30")]],
        },
        "NeuronExecutionErrors": {
            "eval": "20m",
            "fire": [_series(m.NEURON_EXECUTION_ERRORS, {**node, "error_type": "numerical"}, "0+1x30")],
            "quiet": [[_series(m.NEURON_EXECUTION_ERRORS, {**node, "error_type": "numerical"}, "0x30")]],
        },
        "NeuronUncorrectableEccErrors": {
            "eval": "20m",
            "fire": [_series(m.NEURON_ECC_EVENTS, {**ecc, "event_type": "mem_ecc_uncorrected"}, "0+1x30")],
            # corrected events alone are not an alert
            "quiet": [[_series(m.NEURON_ECC_EVENTS, {**ecc, "event_type": "mem_ecc_corrected"}, "0+1x30"),
                       _series(m.NEURON_ECC_EVENTS, {**ecc, "event_type": "mem_ecc_uncorrected"}, "0x30")]],
        },
        "GatewaySpendOverBudget": {
            "eval": "55m",
            "fire": [_series(m.LITELLM_SPEND, {"model": "claude-sonnet-4-5"}, f"0+{spend_fire:g}x60")],
            "quiet": [[_series(m.LITELLM_SPEND, {"model": "claude-sonnet-4-5"}, f"0+{spend_quiet:g}x60")]],
        },
        "PlatformPodCrashLooping": {
            "eval": "20m",
            "fire": [_series(m.KSM_WAITING_REASON, {**pod, "reason": "CrashLoopBackOff"}, "1x30")],
            "quiet": [[_series(m.KSM_WAITING_REASON, {**pod, "reason": "CrashLoopBackOff"}, "0x30")],
                      # another namespace is the chart's default rules' business
                      [_series(m.KSM_WAITING_REASON, {**pod, "namespace": "kube-system", "reason": "CrashLoopBackOff"},
                               "1x30")]],
        },
    }
    if settings.models:
        deployment = {"namespace": "genai", "deployment": settings.models[0].service_name}
        out["ModelNoReadyReplica"] = {
            "eval": "20m",
            "fire": [_series(m.KSM_DEPLOYMENT_SPEC, deployment, "1x30"), _series(m.KSM_DEPLOYMENT_AVAILABLE, deployment, "0x30")],
            "quiet": [[_series(m.KSM_DEPLOYMENT_SPEC, deployment, "1x30"), _series(m.KSM_DEPLOYMENT_AVAILABLE, deployment, "1x30")],
                      # a model kept idle on purpose (replicas: 0) has no ready replica and is fine
                      [_series(m.KSM_DEPLOYMENT_SPEC, deployment, "0x30"), _series(m.KSM_DEPLOYMENT_AVAILABLE, deployment, "0x30")]],
        }
    return out


def promtool_tests(rule_file: str, settings: Settings) -> dict[str, Any]:
    """A promtool unit-test file: per alert, one group where it fires and one per quiet case."""
    tests = []
    for alert, case in cases(settings).items():
        firing = f'count(ALERTS{{alertname="{alert}",alertstate="firing"}})'
        tests.append({"name": f"{alert} fires", "interval": INTERVAL, "input_series": case["fire"],
                      "promql_expr_test": [{"expr": firing, "eval_time": case["eval"],
                                            "exp_samples": [{"labels": "{}", "value": 1}]}]})
        for i, quiet in enumerate(case["quiet"]):
            tests.append({"name": f"{alert} stays quiet ({i})", "interval": INTERVAL, "input_series": quiet,
                          "alert_rule_test": [{"eval_time": case["eval"], "alertname": alert, "exp_alerts": []}]})
    return {"rule_files": [rule_file], "evaluation_interval": INTERVAL, "tests": tests}
