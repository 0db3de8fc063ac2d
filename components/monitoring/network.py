"""NetworkPolicies of the `monitoring` namespace: default-deny, then what the chart's pods need.

- In the namespace: Grafana -> Prometheus, Prometheus -> Alertmanager, the operator and the
  exporters, both ways.
- DNS to kube-dns; TCP 443 anywhere: the Kubernetes API (service discovery, the operator, Grafana's
  sidecars) and Alertmanager's receiver (an https webhook or SNS).
- Scrapes inside the VPC (pods and nodes have VPC addresses with the VPC CNI): the kubelet and
  cAdvisor (10250), node-exporter on the host network (9100), CoreDNS (9153), neuron-monitor (8000,
  kube-system); the gateway (4000) and the model servers (8000) in the platform namespace, whose
  own policies admit only Prometheus (components/k8s/network.py).
- In: the operator's admission webhook (10250), called by the EKS control plane from the VPC.
- With an SNS receiver: Alertmanager to the EKS Pod Identity agent (169.254.170.23:80) for its
  credentials (the pods carry app.kubernetes.io/name=alertmanager: prometheus-operator v0.90.1
  pkg/alertmanager/statefulset.go).
- With Grafana behind the front door: the ALB's subnets to Grafana's port only (IP targets: the ALB
  connects to the pod from its subnets).
kubectl port-forward reaches Grafana through the kubelet, which no NetworkPolicy filters.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi_kubernetes.networking.v1 import NetworkPolicy

from components.front_door.plan import FrontDoorPlan
from components.k8s.network import DNS_PEER, POD_IDENTITY_AGENT
from components.monitoring.grafana_access import GRAFANA_PORT
from components.monitoring.scrape import NEURON_MONITOR_PORT
from components.settings import Settings

GATEWAY_PORT = 4000
VLLM_PORT = 8000
NODE_PORTS = (10250, 9100, 9153, NEURON_MONITOR_PORT)


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def monitoring_network_policies(name: str, settings: Settings, namespace: str, front_door: Optional[FrontDoorPlan],
                                opts: pulumi.ResourceOptions) -> None:
    """Default-deny plus the chart's edges (module docstring)."""
    vpc = {"ipBlock": {"cidr": settings.network.vpc_cidr}}
    same_namespace = {"podSelector": {}}
    NetworkPolicy(
        f"{name}-default-deny",
        metadata={"name": "default-deny-all", "namespace": namespace},
        spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        opts=opts,
    )
    NetworkPolicy(
        f"{name}-stack",
        metadata={"name": "monitoring-stack", "namespace": namespace},
        spec={
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [same_namespace]}, {"from": [vpc], "ports": _tcp(10250)}],
            "egress": [
                {"to": [same_namespace]},
                {"to": [DNS_PEER], "ports": [{"protocol": "UDP", "port": 53}, *_tcp(53)]},
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": _tcp(443)},
                {"to": [vpc], "ports": _tcp(*NODE_PORTS)},
            ],
        },
        opts=opts,
    )
    NetworkPolicy(
        f"{name}-prometheus-scrapes-platform",
        metadata={"name": "prometheus-scrapes-platform", "namespace": namespace},
        spec={
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "genai"}}}],
                        "ports": _tcp(GATEWAY_PORT, VLLM_PORT)}],
        },
        opts=opts,
    )
    if settings.monitoring.receiver.kind == "sns":
        NetworkPolicy(
            f"{name}-alertmanager-aws-identity",
            metadata={"name": "alertmanager-aws-identity", "namespace": namespace},
            spec={
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "alertmanager"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT}}], "ports": _tcp(80)}],
            },
            opts=opts,
        )
    _grafana_from_alb(name, namespace, front_door, opts)


def _grafana_from_alb(name: str, namespace: str, plan: Optional[FrontDoorPlan], opts: pulumi.ResourceOptions) -> None:
    """With IP targets the ALB connects to Grafana's pod from its subnets: admit those, on Grafana's port only."""
    if not plan or "grafana" not in plan.routes:
        return
    NetworkPolicy(
        f"{name}-grafana-from-alb",
        metadata={"name": "grafana-from-alb", "namespace": namespace},
        spec={
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "grafana"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": cidr}} for cidr in plan.alb_source_cidrs],
                         "ports": _tcp(GRAFANA_PORT)}],
        },
        opts=opts,
    )
