"""Model-server autoscaling: KEDA (pinned Helm release) and one ScaledObject per model whose
replica count varies, on vLLM's queue depth from Prometheus.

- Scale out on `vllm:num_requests_waiting` summed over the model's replicas, `targetWaitingRequests`
  per replica (KEDA's prometheus scaler feeds the HPA an AverageValue target).
- A model at zero replicas exports no vLLM series, so a second trigger wakes it: requests for the
  model at the gateway (`litellm_proxy_total_requests_metric_total{requested_model=...}`); any
  request activates it (activationThreshold 0). Meanwhile LiteLLM answers from the model's Bedrock
  fallback (components/apps/gateway_config.py).
- To zero (minReplicas 0) only after `idleMinutes` without activity (KEDA cooldownPeriod, which
  applies only to the last replica -> 0; KEDA ScaledObject spec).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, TypedDict
from urllib.parse import urlsplit

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.helm.v3 import Release, RepositoryOptsArgs
from pulumi_kubernetes.networking.v1 import NetworkPolicy

from components.settings.apps import SelfHostedModel
from components.settings.scaling import ModelAutoscalingSettings

KEDA_NAMESPACE = "keda"
KEDA_REPO = "https://kedacore.github.io/charts"
SCALED_OBJECT_API = "keda.sh/v1alpha1"
VLLM_WAITING = "vllm:num_requests_waiting"
GATEWAY_REQUESTS = "litellm_proxy_total_requests_metric_total"


def keda_values() -> dict[str, Any]:
    """KEDA chart values: explicit requests for its three pods (keys `resources.operator`,
    `.metricServer`, `.webhooks` of kedacore/charts keda/values.yaml); the system-node capacity
    check (components/system_pods.py) counts these."""
    def pod(cpu: str, memory: str, limit: str) -> dict[str, Any]:
        return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": limit}}

    return {"resources": {"operator": pod("100m", "128Mi", "512Mi"), "metricServer": pod("100m", "128Mi", "512Mi"),
                          "webhooks": pod("50m", "64Mi", "256Mi")}}


def prometheus_endpoint(url: str) -> tuple[Optional[str], int]:
    """(namespace, port) of an in-cluster Service URL `http://<svc>.<namespace>.svc...:<port>`;
    namespace None for an address outside the cluster."""
    parts = urlsplit(url)
    labels = (parts.hostname or "").split(".")
    namespace = labels[1] if len(labels) >= 3 and labels[2] == "svc" else None
    return namespace, parts.port or (443 if parts.scheme == "https" else 80)


def keda_to_prometheus_policy(url: str) -> Optional[dict[str, Any]]:
    """The ingress edge KEDA needs into the Prometheus namespace, whose default-deny admits only its
    own pods (issue 13's components/monitoring/network.py); None outside the cluster."""
    namespace, port = prometheus_endpoint(url)
    if namespace is None:
        return None
    return {
        "metadata": {"name": "keda-queries-prometheus", "namespace": namespace,
                     "labels": {"app.kubernetes.io/part-of": "genai-platform"}},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": KEDA_NAMESPACE}}}],
                         "ports": [{"protocol": "TCP", "port": port}]}],
        },
    }


def queue_query(model: SelfHostedModel, namespace: str) -> str:
    """Requests waiting in the model's vLLM queues (all replicas)."""
    return f'sum({VLLM_WAITING}{{namespace="{namespace}",model_name="{model.name}"}})'


def demand_query(model: SelfHostedModel) -> str:
    """Requests for the model arriving at the gateway (wakes a model scaled to zero)."""
    return f'sum(rate({GATEWAY_REQUESTS}{{requested_model="{model.name}"}}[2m]))'


def scaled_object_spec(model: SelfHostedModel, settings: ModelAutoscalingSettings, namespace: str) -> dict[str, Any]:
    """The ScaledObject spec of one model's Deployment (vllm-<slug>)."""
    server = settings.prometheus_url
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": model.service_name},
        "minReplicaCount": model.min_replicas,
        "maxReplicaCount": model.max_replicas,
        "pollingInterval": settings.polling_seconds,
        "cooldownPeriod": model.idle_minutes * 60,
        "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
            # A new replica takes minutes (node, image, load): do not flap on one quiet poll
            "scaleDown": {"stabilizationWindowSeconds": model.idle_minutes * 60,
                          "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]},
        }}},
        "triggers": [
            {"type": "prometheus", "name": "queue-depth", "metricType": "AverageValue", "metadata": {
                "serverAddress": server, "query": queue_query(model, namespace),
                "threshold": str(model.target_waiting_requests), "activationThreshold": "0",
                "ignoreNullValues": "true",
            }},
            {"type": "prometheus", "name": "gateway-demand", "metricType": "AverageValue", "metadata": {
                "serverAddress": server, "query": demand_query(model),
                # per-replica request rate well above what the queue trigger reacts to: this one wakes
                "threshold": str(model.max_num_seqs), "activationThreshold": "0",
                "ignoreNullValues": "true",
            }},
        ],
    }


class ModelAutoscalingArgs(TypedDict):
    """Inputs of `ModelAutoscaling`."""

    settings: ModelAutoscalingSettings
    """KEDA chart version, Prometheus address, polling."""
    models: Sequence[SelfHostedModel]
    """The self-hosted models (those with minReplicas != maxReplicas get a ScaledObject)."""
    namespace: pulumi.Input[str]
    """The model servers' namespace."""
    namespace_name: str
    """Its name (in PromQL label matchers)."""
    provider: pulumi.ProviderResource
    """Kubernetes provider."""
    depends_on: Sequence[pulumi.Resource]
    """The model server workloads (the Deployments the ScaledObjects target)."""


class ModelAutoscaling(pulumi.ComponentResource):
    """KEDA in `keda` and the ScaledObjects of the autoscaled models."""

    def __init__(self, name: str, args: ModelAutoscalingArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:autoscaling:ModelAutoscaling", name, {}, opts)
        settings = args["settings"]
        k8s = pulumi.ResourceOptions(parent=self, provider=args["provider"])
        keda = Release(
            f"{name}-keda",
            name="keda",
            chart="keda",
            version=settings.chart_version,
            repository_opts=RepositoryOptsArgs(repo=KEDA_REPO),
            namespace=KEDA_NAMESPACE,
            create_namespace=True,
            atomic=True,
            values=keda_values(),
            opts=k8s,
        )
        edge = keda_to_prometheus_policy(settings.prometheus_url)
        if edge is not None:
            # Needs the Prometheus namespace of the metrics stack (issue 13)
            NetworkPolicy(f"{name}-keda-to-prometheus", metadata=edge["metadata"], spec=edge["spec"], opts=k8s)
        for model in args["models"]:
            if not model.autoscaled:
                continue
            CustomResource(
                f"{name}-{model.slug}",
                api_version=SCALED_OBJECT_API,
                kind="ScaledObject",
                metadata={"name": model.service_name, "namespace": args["namespace"],
                          "labels": {"app.kubernetes.io/part-of": "genai-platform"}},
                spec=scaled_object_spec(model, settings, args["namespace_name"]),
                opts=pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=[keda, *args["depends_on"]])),
            )
        self.register_outputs({})
