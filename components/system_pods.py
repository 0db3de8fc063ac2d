"""Pods on the system node group that the platform's own workloads do not account for: the Helm
releases' pods, read from the very values each release renders (the builders in
components/monitoring, components/front_door, components/autoscaling: one source of truth), and
documented allowances for the EKS add-ons' pods.

The Neuron device plugin and neuron-monitor DaemonSets select Neuron nodes only (required node
affinity on Neuron instance types / nodeSelector genai-platform/accelerator), and the Neuron nodes'
taint keeps every other pod off them, so everything here lands on the system nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from components.k8s.quantity import cpu_millis, memory_bytes

if TYPE_CHECKING:
    from components.settings.model import Settings

MIB = 2**20


@dataclass(frozen=True)
class SystemPods:
    """`replicas` pods of one workload (per node for a DaemonSet), each requesting this much."""

    name: str
    replicas: int
    cpu_millis: int
    memory_mib: int
    per_node: bool = False
    source: str = "release values"

    @property
    def total(self) -> tuple[int, int]:
        """(millicores, MiB) of all its pods (of one node's, for a DaemonSet)."""
        return self.replicas * self.cpu_millis, self.replicas * self.memory_mib


def requests_of(resources: Mapping[str, Any], where: str) -> tuple[int, int]:
    """(millicores, MiB) a container's `resources` request; a release pod without requests is a bug
    here (the scheduler would count it as 0 and the capacity check with it)."""
    requests = (resources or {}).get("requests") or {}
    if "cpu" not in requests or "memory" not in requests:
        raise ValueError(f"{where}: set resources.requests.cpu and .memory in the release values")
    return int(cpu_millis(requests["cpu"])), int(memory_bytes(requests["memory"]) // MIB)


def _pod(name: str, replicas: int, containers: list[tuple[int, int]], per_node: bool = False) -> SystemPods:
    return SystemPods(name, replicas, sum(c[0] for c in containers), sum(c[1] for c in containers), per_node)


def kube_prometheus_stack_pods(values: Mapping[str, Any]) -> list[SystemPods]:
    """kube-prometheus-stack 85.x: Prometheus and Alertmanager (each with the operator's config-reloader
    sidecar), Grafana (with its dashboard/datasource sidecars), kube-state-metrics, the operator, and
    node-exporter on every node (its chart tolerates every NoSchedule taint). Replicas default to 1
    (charts/kube-prometheus-stack/values.yaml, grafana and kube-state-metrics `replicas: 1`)."""
    operator = values["prometheusOperator"]
    reloader = requests_of(operator["prometheusConfigReloader"]["resources"], "prometheusConfigReloader")
    spec = values["prometheus"]["prometheusSpec"]
    pods = [
        _pod("prometheus", spec.get("replicas", 1), [requests_of(spec["resources"], "prometheusSpec"), reloader]),
        _pod("prometheus-operator", 1, [requests_of(operator["resources"], "prometheusOperator")]),
    ]
    alertmanager = values["alertmanager"]
    if alertmanager.get("enabled", True):
        am = alertmanager["alertmanagerSpec"]
        pods.append(_pod("alertmanager", am.get("replicas", 1), [requests_of(am["resources"], "alertmanagerSpec"), reloader]))
    grafana = values["grafana"]
    if grafana.get("enabled", True):
        sidecars = sum(bool(grafana["sidecar"].get(kind, {}).get("enabled")) for kind in ("dashboards", "datasources"))
        sidecar = requests_of(grafana["sidecar"]["resources"], "grafana.sidecar")
        pods.append(_pod("grafana", grafana.get("replicas", 1), [requests_of(grafana["resources"], "grafana"), *[sidecar] * sidecars]))
    ksm = values["kube-state-metrics"]
    pods.append(_pod("kube-state-metrics", ksm.get("replicas", 1), [requests_of(ksm["resources"], "kube-state-metrics")]))
    exporter = values["prometheus-node-exporter"]
    pods.append(_pod("node-exporter", 1, [requests_of(exporter["resources"], "prometheus-node-exporter")], per_node=True))
    return pods


def load_balancer_controller_pods(values: Mapping[str, Any]) -> list[SystemPods]:
    """aws-load-balancer-controller: `replicaCount` controller pods."""
    return [_pod("aws-load-balancer-controller", values["replicaCount"], [requests_of(values["resources"], "controller")])]


def cluster_autoscaler_pods(values: Mapping[str, Any]) -> list[SystemPods]:
    """cluster-autoscaler: `replicaCount` pods (chart default 1)."""
    return [_pod("cluster-autoscaler", values.get("replicaCount", 1), [requests_of(values["resources"], "cluster-autoscaler")])]


def keda_pods(values: Mapping[str, Any]) -> list[SystemPods]:
    """KEDA 2.x: operator, metrics API server and admission webhooks, `<part>.replicaCount` each
    (default 1; kedacore/charts keda/values.yaml) with `resources.<part>`."""
    parts = {"operator": "operator", "metricServer": "metricsServer", "webhooks": "webhooks"}
    return [
        _pod(f"keda-{resources_key}", (values.get(replicas_key) or {}).get("replicaCount", 1),
             [requests_of(values["resources"][resources_key], f"keda resources.{resources_key}")])
        for resources_key, replicas_key in parts.items()
    ]


def release_pods(settings: "Settings") -> list[SystemPods]:
    """The pods of every Helm release the settings install on the system nodes, from their values."""
    # Imported here: these modules import components.settings, whose validation calls this
    from components.autoscaling import cluster_autoscaler, model_autoscaling  # noqa: PLC0415
    from components.front_door.controller import controller_values  # noqa: PLC0415
    from components.monitoring.values import chart_values  # noqa: PLC0415

    pods: list[SystemPods] = []
    if settings.monitoring.enabled:
        pods += kube_prometheus_stack_pods(chart_values(settings))
    if settings.front_door.enabled:
        pods += load_balancer_controller_pods(
            controller_values("", settings.region, "", settings.front_door.controller_replicas, {}))
    if settings.neuron_autoscaler.enabled:
        pods += cluster_autoscaler_pods(cluster_autoscaler.chart_values(settings.neuron_autoscaler, "", settings.region))
    if any(m.autoscaled for m in settings.models):
        pods += keda_pods(model_autoscaling.keda_values())
    return pods


# EKS add-ons (components/cluster.py, shared_cache.py, monitoring/logs.py). EKS installs their manifests;
# the program sets no resources on them, so these are allowances, each with where its numbers come from.
ESTIMATE = "estimate (no published manifest checked)"


def addon_pods(settings: "Settings") -> list[SystemPods]:
    """Allowances for the EKS add-ons' pods on the system nodes."""
    pods = [
        # kubernetes/kubernetes cluster/addons/dns/coredns manifest: requests 100m / 70Mi; EKS runs 2 replicas
        SystemPods("coredns", 2, 100, 70, source="CoreDNS manifest (100m/70Mi), 2 replicas"),
        # kubernetes-sigs/metrics-server manifests/base: requests 100m / 200Mi; 2 replicas assumed
        SystemPods("metrics-server", 2, 100, 200, source="metrics-server manifest (100m/200Mi); replicas assumed 2"),
        # controller: driver + provisioner, attacher, snapshotter, resizer, liveness probe
        SystemPods("ebs-csi-controller", 2, 60, 240, source=ESTIMATE),
        # DaemonSets on every node
        SystemPods("aws-node", 1, 50, 64, per_node=True, source="aws-node 25m + network policy agent 25m; memory " + ESTIMATE),
        SystemPods("kube-proxy", 1, 100, 64, per_node=True, source="EKS kube-proxy manifest (100m); memory " + ESTIMATE),
        SystemPods("eks-pod-identity-agent", 1, 25, 32, per_node=True, source=ESTIMATE),
        SystemPods("ebs-csi-node", 1, 30, 120, per_node=True, source=ESTIMATE),
    ]
    if settings.model_cache.kind == "efs" and settings.models:
        pods += [SystemPods("efs-csi-controller", 2, 50, 160, source=ESTIMATE),
                 SystemPods("efs-csi-node", 1, 30, 120, per_node=True, source=ESTIMATE)]
    if settings.monitoring.enabled and settings.monitoring.logs.enabled:
        # aws-observability/helm-charts amazon-cloudwatch-observability values.yaml (the add-on's chart):
        # manager 100m/64Mi, cloudwatch-agent 250m/128Mi and fluent-bit 50m/25Mi per node
        pods += [SystemPods("cloudwatch-agent-operator", 1, 100, 64, source="amazon-cloudwatch-observability values"),
                 SystemPods("cloudwatch-agent", 1, 250, 128, per_node=True, source="amazon-cloudwatch-observability values"),
                 SystemPods("fluent-bit", 1, 50, 25, per_node=True, source="amazon-cloudwatch-observability values")]
    return pods


def system_pods(settings: "Settings") -> list[SystemPods]:
    """Every pod on the system nodes besides the platform's own workloads."""
    return [*release_pods(settings), *addon_pods(settings)]
