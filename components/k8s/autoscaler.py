"""A HorizontalPodAutoscaler on CPU utilisation for one of the platform's Deployments."""

from __future__ import annotations

import pulumi
from pulumi_kubernetes.autoscaling.v2 import HorizontalPodAutoscaler

from components.settings.workload import Autoscaling


def cpu_autoscaler(name: str, namespace: pulumi.Input[str], autoscaling: Autoscaling, *, parent: pulumi.Resource,
                   provider: pulumi.ProviderResource, workload: pulumi.Resource) -> HorizontalPodAutoscaler:
    """Scale Deployment `name` between the settings' replica bounds at their CPU target (resource
    metrics from the metrics-server add-on); created after the workload it scales."""
    return HorizontalPodAutoscaler(
        f"{name}-hpa",
        metadata={"name": name, "namespace": namespace},
        spec={
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": autoscaling.min_replicas,
            "maxReplicas": autoscaling.max_replicas,
            "metrics": [{
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                       "averageUtilization": autoscaling.target_cpu_percent}},
            }],
        },
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[workload]),
    )
