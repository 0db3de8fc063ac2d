"""The platform's alert rules, as data: one Prometheus rule group, each alert with runbook text.

Each alert keeps its `signal` (the series it is about) apart from its threshold, so the loopback
test can check that the signal returns data from the real exporters, and `promtool test rules`
(tests/test_monitoring_rules.py) checks the full expression fires and stays quiet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.monitoring import metrics as m
from components.settings import Settings

GROUP = "genai-platform"
NAMESPACE = "genai"


@dataclass(frozen=True)
class Alert:
    """One alerting rule: `expr` is `signal` compared with a threshold (or a join on it)."""

    name: str
    signal: str
    expr: str
    for_: str
    severity: str
    summary: str
    runbook: str

    def rule(self) -> dict[str, Any]:
        """The rule as Prometheus (and the PrometheusRule CRD) reads it."""
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, "platform": "genai"},
            "annotations": {"summary": self.summary, "runbook": self.runbook},
        }


def _ratio_5xx() -> str:
    errors = f'sum(rate({m.LITELLM_REQUESTS}{{status_code=~"5.."}}[5m]))'
    return f"({errors} or vector(0)) / sum(rate({m.LITELLM_REQUESTS}[5m]))"


def _p95(histogram: str, by: str) -> str:
    return f"histogram_quantile(0.95, sum by (le, {by}) (rate({m.histogram(histogram)}[5m])))"


def alerts(settings: Settings) -> list[Alert]:
    """Every alert for this stack's settings (thresholds and the model list come from settings)."""
    mon = settings.monitoring
    out = [
        Alert(
            "GatewayHighErrorRatio", _ratio_5xx(), f"{_ratio_5xx()} > {mon.error_ratio:g}", "10m", "critical",
            "More than {{ $value | humanizePercentage }} of gateway requests end in a 5xx",
            "Check which models fail: the Gateway dashboard's 'Failures by status' panel, then "
            f"`kubectl -n {NAMESPACE} logs deploy/litellm --since=15m`. A vLLM model failing without a "
            "Bedrock fallback, expired Bedrock access or a Bedrock quota (429 -> 5xx after retries) are the usual "
            "causes; `make preflight` checks Bedrock access. Threshold: genai-platform:monitoring.errorRatio.",
        ),
        Alert(
            "GatewayP95LatencyHigh", _p95(m.LITELLM_TOTAL_LATENCY, "requested_model"),
            f"{_p95(m.LITELLM_TOTAL_LATENCY, 'requested_model')} > {mon.p95_latency_seconds:g}", "10m", "warning",
            "Gateway p95 latency for {{ $labels.requested_model }} is {{ $value | humanizeDuration }}",
            "Compare total and LLM latency on the Gateway dashboard: if the LLM latency is high too, the "
            "backend is slow (vLLM queue backlog, see the Model servers dashboard, or Bedrock throttling); if "
            "only the total is high, the gateway itself is saturated (CPU, HPA at maxReplicas, Redis). "
            "Threshold: genai-platform:monitoring.p95LatencySeconds.",
        ),
        Alert(
            "VllmQueueBacklog", f"max by (model_name) ({m.VLLM_WAITING})",
            f"max by (model_name) ({m.VLLM_WAITING}) > {mon.queue_backlog}", "5m", "warning",
            "{{ $value }} requests are waiting in vLLM for {{ $labels.model_name }}",
            "The model's servers are full (running = max-num-seqs). Add replicas of the model "
            "(genai-platform:models[].replicas) and Neuron nodes (genai-platform:neuron.desiredSize), or let "
            "the gateway shed load to the Bedrock fallback. Threshold: genai-platform:monitoring.queueBacklog.",
        ),
        Alert(
            "NeuronExecutionErrors", f"sum by (instance_id, error_type) (increase({m.NEURON_EXECUTION_ERRORS}[10m]))",
            f"sum by (instance_id, error_type) (increase({m.NEURON_EXECUTION_ERRORS}[10m])) > 0", "0m", "warning",
            "Neuron runtime reports {{ $labels.error_type }} execution errors on {{ $labels.instance_id }}",
            "Read the model server's logs on that node (`kubectl -n genai get pods -o wide`, then `kubectl logs`). "
            "Numerical or transient errors after a new image or model point at the compiled artifacts: delete "
            "the model's compile cache and restart it. Hardware errors: cordon and drain the node.",
        ),
        Alert(
            "NeuronUncorrectableEccErrors",
            f'sum by (instance_id, neuron_device_index) (increase({m.NEURON_ECC_EVENTS}{{event_type=~".*_uncorrected"}}[10m]))',
            f'sum by (instance_id, neuron_device_index) (increase({m.NEURON_ECC_EVENTS}{{event_type=~".*_uncorrected"}}[10m])) > 0',
            "0m", "critical",
            "Uncorrectable ECC errors on Neuron device {{ $labels.neuron_device_index }} of {{ $labels.instance_id }}",
            "The device's memory is failing. Cordon and drain the node (`kubectl cordon/drain`) and terminate "
            "the instance so the node group replaces it; report the instance id to AWS support if it recurs.",
        ),
        Alert(
            "GatewaySpendOverBudget", f"sum(rate({m.LITELLM_SPEND}[30m])) * 3600",
            f"sum(rate({m.LITELLM_SPEND}[30m])) * 3600 > {mon.spend_budget_per_hour:g}", "15m", "warning",
            "Gateway spend runs at ${{ $value | printf \"%.2f\" }} per hour",
            "See 'Spend per hour by model' on the Gateway dashboard and the callers in Langfuse. Move traffic "
            "to the self-hosted models, lower max_tokens, or set LiteLLM budgets on keys. Budget: "
            "genai-platform:monitoring.spendBudgetPerHour (USD).",
        ),
        Alert(
            "PlatformPodCrashLooping",
            f'max by (namespace, pod, container) ({m.KSM_WAITING_REASON}{{namespace="{NAMESPACE}",reason="CrashLoopBackOff"}})',
            f'max by (namespace, pod, container) ({m.KSM_WAITING_REASON}{{namespace="{NAMESPACE}",reason="CrashLoopBackOff"}}) > 0',
            "10m", "critical",
            "{{ $labels.pod }} ({{ $labels.container }}) is crash-looping",
            "`kubectl -n genai describe pod <pod>` and `kubectl -n genai logs <pod> --previous`. Typical causes: a "
            "bad setting rolled out (roll back with `pulumi up` on the previous config), a data store not ready, "
            "out of memory (raise the app's resources.memory).",
        ),
    ]
    deployments = [model.service_name for model in settings.models]
    if deployments:
        selector = f'namespace="{NAMESPACE}",deployment=~"{"|".join(deployments)}"'
        out.append(Alert(
            "ModelNoReadyReplica", f"{m.KSM_DEPLOYMENT_AVAILABLE}{{{selector}}}",
            f"({m.KSM_DEPLOYMENT_SPEC}{{{selector}}} > 0) and on (namespace, deployment) "
            f"({m.KSM_DEPLOYMENT_AVAILABLE}{{{selector}}} == 0)",
            "15m", "critical",
            "Model server {{ $labels.deployment }} has no ready replica",
            "The gateway falls back to Bedrock meanwhile. `kubectl -n genai describe deploy/<name>` and its "
            "pods: Pending = no Neuron node (genai-platform:neuron.desiredSize is 0, or no capacity in the "
            "zones); a long start is Neuron compilation (see the logs); a crash loop = see PlatformPodCrashLooping.",
        ))
    return out


def rule_groups(settings: Settings) -> dict[str, Any]:
    """The rule file (`groups:`), also the PrometheusRule spec."""
    return {"groups": [{"name": GROUP, "rules": [a.rule() for a in alerts(settings)]}]}
