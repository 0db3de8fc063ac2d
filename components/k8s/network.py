"""NetworkPolicy for one workload: exactly the edges its spec names, on top of default-deny.

Ports are the pods' container ports: NetworkPolicies match traffic after the Service has
translated its port to the target port.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_kubernetes.networking.v1 import NetworkPolicy

from components.k8s.spec import APP_LABEL, PROMETHEUS_PEER, USERS_NAMESPACE_LABEL, WorkloadSpec

DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
# The EKS Pod Identity agent answers credential requests on this link-local address.
POD_IDENTITY_AGENT = "169.254.170.23/32"


def _tcp(port: int) -> dict[str, Any]:
    return {"protocol": "TCP", "port": port}


def ingress_rules(spec: WorkloadSpec) -> list[dict[str, Any]]:
    """Who may call these pods, and on which port."""
    rules = [
        {"from": [{"podSelector": {"matchLabels": {APP_LABEL: edge.app}}}], "ports": [_tcp(edge.port)]}
        for edge in spec.allow_from
    ]
    if spec.allow_from_cidrs:
        # IP targets: the ALB's nodes connect from their addresses in the ALB's subnets
        rules.append({
            "from": [{"ipBlock": {"cidr": cidr}} for cidr in spec.allow_from_cidrs],
            "ports": [_tcp(p.container_port) for p in spec.ports],
        })
    if spec.metrics_port is not None:
        rules.append({"from": [PROMETHEUS_PEER], "ports": [_tcp(spec.metrics_port)]})
    if spec.allow_users:
        rules.append(
            {
                "from": [{"namespaceSelector": {"matchLabels": USERS_NAMESPACE_LABEL}}],
                "ports": [_tcp(p.container_port) for p in spec.ports],
            }
        )
    return rules


def egress_rules(spec: WorkloadSpec) -> list[dict[str, Any]]:
    """DNS, the in-namespace edges, and HTTPS / Pod Identity for pods that need AWS or downloads."""
    rules: list[dict[str, Any]] = [
        {"to": [DNS_PEER], "ports": [{"protocol": "UDP", "port": 53}, _tcp(53)]}
    ]
    rules += [
        {"to": [{"podSelector": {"matchLabels": {APP_LABEL: edge.app}}}], "ports": [_tcp(edge.port)]}
        for edge in spec.egress_to
    ]
    if spec.egress_aws_identity:
        rules.append({"to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT}}], "ports": [_tcp(80)]})
    if spec.egress_https:
        rules.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [_tcp(443)]})
    return rules


def network_policy(spec: WorkloadSpec, selector: dict[str, str], metadata: dict[str, Any],
                   opts: pulumi.ResourceOptions) -> NetworkPolicy:
    """The workload's NetworkPolicy (ingress and egress)."""
    return NetworkPolicy(
        f"{spec.name}-netpol",
        metadata=metadata,
        spec={
            "podSelector": {"matchLabels": selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress_rules(spec),
            "egress": egress_rules(spec),
        },
        opts=opts,
    )
