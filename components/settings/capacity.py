"""Does the gateway's autoscaling ceiling fit the system node group?

The gateway's HPA may run `gateway.autoscaling.maxReplicas` pods. Together with the platform's
other pods and the add-ons they must fit `cluster.systemNodes.maxSize` nodes of the smallest
listed system instance type, counted by their requests against each node's allocatable CPU and
memory. A sum, not a bin-packing: a necessary condition, checked before anything deploys.
Instance types whose shape cannot be derived from the name (t2, x2, metal, ...) are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from components.k8s.quantity import cpu_millis, memory_bytes
from components.settings.errors import bad_value

if TYPE_CHECKING:
    from components.settings.model import Settings

MIB = 2**20
# GiB of memory per vCPU of the current general purpose (m), compute (c) and memory (r) families
_GIB_PER_VCPU = {"m": 4, "c": 2, "r": 8}
# Burstable t3/t3a/t4g sizes do not follow the ratio: (vCPUs, GiB)
_BURSTABLE = {"medium": (2, 4), "large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32)}

# Requests per replica of the platform's own pods on the system nodes (components/apps/*);
# tests/test_system_capacity.py keeps this table equal to what the program renders.
FIXED_PODS = {"postgres": (250, 512), "clickhouse": (500, 2048), "langfuse-redis": (100, 384), "cache-redis": (100, 384)}
SCALED_PODS = {"langfuse": (500, 1024), "langfuse-worker": (500, 1024), "open-webui": (500, 1024)}
# Allowances (rounded up, not read from the add-ons): Deployments of coredns (2), metrics-server and the
# EBS CSI controller (2); and each node's DaemonSets (aws-node, kube-proxy, Pod Identity agent, EBS CSI node)
ADDON_PODS = (600, 1024)
DAEMONSETS_PER_NODE = (300, 512)


@dataclass(frozen=True)
class NodeShape:
    """An instance type's vCPUs and memory, and what the kubelet leaves to pods."""

    name: str
    vcpus: int
    memory_gib: int

    @property
    def allocatable_millis(self) -> int:
        """vCPUs less kube-reserved CPU as the EKS AMIs compute it (6% of the first core, 1% of the
        second, 0.5% of the next two, 0.25% of the rest: amazon-eks-ami kubelet configuration)."""
        cores = [60, 10, 5, 5] + [2.5] * max(0, self.vcpus - 4)
        return int(self.vcpus * 1000 - sum(cores[: self.vcpus]))

    @property
    def allocatable_mib(self) -> int:
        """Memory less kube-reserved (11 MiB per pod + 255 MiB, counted at 110 pods, the most a
        node this size is set up for or more) and the 100 MiB hard eviction threshold."""
        max_pods = 110 if self.vcpus < 30 else 250
        return self.memory_gib * 1024 - (11 * max_pods + 255) - 100


def node_shape(instance_type: str) -> Optional[NodeShape]:
    """vCPUs and memory from the name: m/c/r families (large = 2 vCPUs, xlarge = 4, Nxlarge = 4N)
    and burstable t3/t3a/t4g; None for anything else."""
    match = re.fullmatch(r"(?P<family>[a-z]+)(?P<gen>\d+)[a-z-]*\.(?P<size>medium|large|\d*xlarge)", instance_type)
    if not match:
        return None
    family, size = match["family"], match["size"]
    if family == "t" and size in _BURSTABLE:
        return NodeShape(instance_type, *_BURSTABLE[size])
    if family not in _GIB_PER_VCPU:
        return None
    vcpus = {"medium": 1, "large": 2}.get(size) or 4 * int(size[:-6] or 1)
    return NodeShape(instance_type, vcpus, vcpus * _GIB_PER_VCPU[family])


def check_system_capacity(settings: "Settings") -> None:
    """Raise naming the gateway's replica key when its ceiling cannot fit the system nodes."""
    system = settings.cluster.system_nodes
    shapes = [node_shape(t) for t in system.instance_types]
    if None in shapes:
        return
    node = min(shapes, key=lambda s: (s.allocatable_millis, s.allocatable_mib))
    gateway = settings.gateway
    if gateway.autoscaling:
        key, replicas = ("gateway", "autoscaling", "maxReplicas"), gateway.autoscaling.max_replicas
    else:
        key, replicas = ("gateway", "replicas"), gateway.replicas
    pod = (cpu_millis(gateway.resources.cpu), memory_bytes(gateway.resources.memory) / MIB)
    others = platform_requests(settings)
    nodes = system.max_size
    free = (nodes * (node.allocatable_millis - DAEMONSETS_PER_NODE[0]) - others[0],
            nodes * (node.allocatable_mib - DAEMONSETS_PER_NODE[1]) - others[1])
    fits = int(max(0, min(free[0] // pod[0], free[1] // pod[1])))
    if replicas > fits:
        raise bad_value(
            key, replicas,
            f"at most {fits}: {replicas} gateway pods of {gateway.resources.cpu} CPU / {gateway.resources.memory} "
            f"(gateway.resources) plus the platform's other pods ({others[0] / 1000:g} vCPU, {others[1] / 1024:.1f} GiB) "
            f"do not fit cluster.systemNodes.maxSize ({nodes}) {node.name} nodes "
            f"({node.allocatable_millis / 1000:g} vCPU, {node.allocatable_mib / 1024:.1f} GiB allocatable each, "
            "less the add-on DaemonSets); lower it, or raise cluster.systemNodes.maxSize or use a larger "
            "cluster.systemNodes.instanceTypes",
        )


def platform_requests(settings: "Settings") -> tuple[int, int]:
    """(CPU millicores, memory MiB) the platform's pods other than the gateway request on the system
    nodes: the stores, Langfuse, Open WebUI, the agent server, and the add-ons' Deployments."""
    replicas = {
        "langfuse": settings.langfuse.web_replicas, "langfuse-worker": settings.langfuse.worker_replicas,
        "open-webui": settings.open_webui.replicas,
    }
    pods = [*FIXED_PODS.values(), *(tuple(n * r for r in SCALED_PODS[name]) for name, n in replicas.items()), ADDON_PODS]
    agent = settings.agent_server  # its requests are settings: agentServer.resources
    pods.append((agent.starting_replicas * cpu_millis(agent.resources.cpu),
                 agent.starting_replicas * memory_bytes(agent.resources.memory) // 2**20))
    return sum(p[0] for p in pods), sum(p[1] for p in pods)
