"""The platform namespace: Pod Security Admission `restricted` and default-deny NetworkPolicy."""

from __future__ import annotations

from typing import Optional, TypedDict

import pulumi
from pulumi_kubernetes.core.v1 import Namespace
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import NetworkPolicy, NetworkPolicySpecArgs

PSA_LEVEL = "restricted"


class PlatformNamespaceArgs(TypedDict):
    """Inputs of `PlatformNamespace`."""

    name: str
    """Namespace name (`genai`)."""
    provider: pulumi.ProviderResource
    """Kubernetes provider of the cluster."""
    depends_on: list[pulumi.Resource]
    """What must exist before any workload (the default StorageClass, CoreDNS, metrics-server)."""


class PlatformNamespace(pulumi.ComponentResource):
    """Every workload in `genai` meets the `restricted` Pod Security Standard (none needs less:
    vLLM reaches the Neuron devices through the device plugin, not privileged mode), and every
    pod starts with no ingress or egress until a NetworkPolicy allows an edge."""

    name: pulumi.Output[str]
    """The namespace name."""

    def __init__(self, name: str, args: PlatformNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:k8s:PlatformNamespace", name, {}, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args["provider"])
        ns_opts = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=args["depends_on"]))
        psa = {f"pod-security.kubernetes.io/{mode}": PSA_LEVEL for mode in ("enforce", "audit", "warn")}
        namespace = Namespace(
            f"{name}-ns",
            metadata=ObjectMetaArgs(name=args["name"], labels={**psa, "app.kubernetes.io/part-of": "genai-platform"}),
            opts=ns_opts,
        )
        NetworkPolicy(
            f"{name}-default-deny",
            metadata=ObjectMetaArgs(name="default-deny-all", namespace=namespace.metadata.name),
            spec=NetworkPolicySpecArgs(pod_selector=LabelSelectorArgs(), policy_types=["Ingress", "Egress"]),
            opts=k8s_opts,
        )
        self.name = namespace.metadata.name
        self.register_outputs({"name": self.name})
