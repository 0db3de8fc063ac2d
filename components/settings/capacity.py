"""Does everything scheduled on the system node group fit it?

Counted on each node: CPU, memory and pods against what the kubelet leaves to pods on the smallest
listed system instance type. What lands there: the platform's own pods (stores, Langfuse, Open
WebUI, the agent server, the gateway), the Helm releases' pods (kube-prometheus-stack, the AWS
Load Balancer Controller, Cluster Autoscaler, KEDA: read from the values each release renders,
components/system_pods.py) and the EKS add-ons' pods, with the DaemonSets once per node.
Two checks, both sums (necessary conditions, not a bin-packing), before anything deploys:
- what starts at deploy (the gateway at its minimum) fits `desiredSize` nodes: otherwise pods stay
  Pending and the atomic Helm releases time out and roll back;
- the gateway's ceiling (`gateway.autoscaling.maxReplicas`) fits `maxSize` nodes.
Instance types whose shape cannot be derived from the name (t2, x2, metal, ...) are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from components.k8s.quantity import cpu_millis, memory_bytes
from components.settings.errors import bad_value
from components.settings.infra import MAX_NODES_PER_GROUP

if TYPE_CHECKING:
    from components.settings.model import Settings
    from components.system_pods import SystemPods

MIB = 2**20
# GiB of memory per vCPU of the current general purpose (m), compute (c) and memory (r) families
_GIB_PER_VCPU = {"m": 4, "c": 2, "r": 8}
# Burstable t3/t3a/t4g sizes do not follow the ratio: (vCPUs, GiB, max pods)
_BURSTABLE = {"medium": (2, 4, 17), "large": (2, 8, 35), "xlarge": (4, 16, 58), "2xlarge": (8, 32, 58)}
# Max pods of m/c/r generations 5-7 (and Graviton 8) by size: ENIs x (IPv4 per ENI - 1) + 2, as listed
# in awslabs/amazon-eks-ami nodeadm/internal/kubelet/eni-max-pods.txt (nodeadm's maxPods without
# prefix delegation, which this cluster's vpc-cni does not enable)
_MAX_PODS = {"medium": 8, "large": 29, "xlarge": 58, "2xlarge": 58, "4xlarge": 234, "8xlarge": 234, "9xlarge": 234,
             "12xlarge": 234, "16xlarge": 737, "18xlarge": 737, "24xlarge": 737, "32xlarge": 737, "48xlarge": 737}

# Requests per replica of the platform's own pods on the system nodes (components/apps/*);
# tests/test_system_capacity.py keeps this table equal to what the program renders.
FIXED_PODS = {"postgres": (250, 512), "clickhouse": (500, 2048), "langfuse-redis": (100, 384), "cache-redis": (100, 384)}
SCALED_PODS = {"langfuse": (500, 1024), "langfuse-worker": (500, 1024), "open-webui": (500, 1024)}


@dataclass(frozen=True)
class NodeShape:
    """An instance type's vCPUs, memory and pod limit, and what the kubelet leaves to pods."""

    name: str
    vcpus: int
    memory_gib: int
    max_pods: Optional[int] = None  # None: not known from the name (pods are then not counted)

    @property
    def allocatable_millis(self) -> int:
        """vCPUs less kube-reserved CPU as the EKS AMIs compute it (6% of the first core, 1% of the
        second, 0.5% of the next two, 0.25% of the rest: amazon-eks-ami kubelet configuration)."""
        cores = [60, 10, 5, 5] + [2.5] * max(0, self.vcpus - 4)
        return int(self.vcpus * 1000 - sum(cores[: self.vcpus]))

    @property
    def allocatable_mib(self) -> int:
        """Memory less kube-reserved (11 MiB per pod + 255 MiB, nodeadm getMemoryMebibytesToReserve,
        at the type's max pods; 110/250 when unknown) and the 100 MiB hard eviction threshold."""
        pods = self.max_pods or (110 if self.vcpus < 30 else 250)
        return self.memory_gib * 1024 - (11 * pods + 255) - 100


def node_shape(instance_type: str) -> Optional[NodeShape]:
    """vCPUs, memory and max pods from the name: m/c/r families (large = 2 vCPUs, xlarge = 4,
    Nxlarge = 4N) and burstable t3/t3a/t4g; None for anything else."""
    match = re.fullmatch(r"(?P<family>[a-z]+)(?P<gen>\d+)(?P<attrs>[a-z-]*)\.(?P<size>medium|large|\d*xlarge)", instance_type)
    if not match:
        return None
    family, gen, attrs, size = match["family"], int(match["gen"]), match["attrs"], match["size"]
    if family == "t" and size in _BURSTABLE:
        return NodeShape(instance_type, *_BURSTABLE[size])
    if family not in _GIB_PER_VCPU:
        return None
    vcpus = {"medium": 1, "large": 2}.get(size) or 4 * int(size[:-6] or 1)
    return NodeShape(instance_type, vcpus, vcpus * _GIB_PER_VCPU[family], _max_pods(gen, attrs, size))


def _max_pods(gen: int, attrs: str, size: str) -> Optional[int]:
    """The ENI-based max pods where the size table holds (not: generation 4 and older, network-optimised
    32xlarge types (394), m5zn, gen-8 Intel/AMD and c8gn, whose ENI limits differ)."""
    regular = 5 <= gen <= 7 or (gen == 8 and attrs in ("g", "gd"))
    if not regular or "z" in attrs or ("n" in attrs and size == "32xlarge"):
        return None
    return _MAX_PODS.get(size)


@dataclass(frozen=True)
class Load:
    """Millicores, MiB and pods."""

    cpu: int
    mib: int
    pods: int

    @staticmethod
    def of(pods: "list[SystemPods]") -> "Load":
        return Load(sum(p.total[0] for p in pods), sum(p.total[1] for p in pods), sum(p.replicas for p in pods))

    def __add__(self, other: "Load") -> "Load":
        return Load(self.cpu + other.cpu, self.mib + other.mib, self.pods + other.pods)

    def describe(self) -> str:
        return f"{self.cpu / 1000:g} vCPU, {self.mib / 1024:.1f} GiB, {self.pods} pods"


def _gateway_fits(node: NodeShape, nodes: int, per_node: Load, others: Load, pod: tuple[int, int]) -> int:
    """How many gateway pods fit `nodes` nodes next to the DaemonSets and the other pods."""
    free = [(nodes * (node.allocatable_millis - per_node.cpu) - others.cpu) // pod[0],
            (nodes * (node.allocatable_mib - per_node.mib) - others.mib) // pod[1]]
    if node.max_pods:
        free.append(nodes * (node.max_pods - per_node.pods) - others.pods)
    return int(max(0, min(free)))


def check_system_capacity(settings: "Settings") -> None:
    """Raise naming the key to change when the system nodes cannot hold what is scheduled there."""
    from components.system_pods import addon_pods, release_pods  # noqa: PLC0415 - they import the release builders

    system = settings.cluster.system_nodes
    shapes = [node_shape(t) for t in system.instance_types]
    if None in shapes:
        return
    node = min(shapes, key=lambda s: (s.allocatable_millis, s.allocatable_mib, s.max_pods or 0))
    releases, addons = release_pods(settings), addon_pods(settings)
    daemons = [p for p in [*releases, *addons] if p.per_node]
    per_node = Load.of(daemons)
    parts = {"the platform's other pods": Load.of(platform_pods(settings)),
             "the Helm releases' pods": Load.of([p for p in releases if not p.per_node]),
             "the EKS add-ons' pods": Load.of([p for p in addons if not p.per_node])}
    others = parts["the platform's other pods"] + parts["the Helm releases' pods"] + parts["the EKS add-ons' pods"]
    gateway = settings.gateway
    pod = (cpu_millis(gateway.resources.cpu), memory_bytes(gateway.resources.memory) / MIB)
    node_text = (f"{node.name} nodes ({node.allocatable_millis / 1000:g} vCPU, {node.allocatable_mib / 1024:.1f} GiB"
                 + (f", {node.max_pods} pods" if node.max_pods else "") + " allocatable each)")
    what = ", ".join(f"{name} ({load.describe()})" for name, load in parts.items()) + (
        f" and on every node the DaemonSets ({per_node.describe()}: {', '.join(p.name for p in daemons)})")

    # What starts at deploy fits the nodes the group starts with
    start = gateway.autoscaling.min_replicas if gateway.autoscaling else gateway.replicas
    if _gateway_fits(node, system.desired_size, per_node, others, pod) < start:
        needed = next((n for n in range(system.desired_size + 1, MAX_NODES_PER_GROUP + 1)
                       if _gateway_fits(node, n, per_node, others, pod) >= start), None)
        if needed is None:
            allowed = "a larger instance type: this one cannot hold it at any node count"
            fix = "pulumi config set --path 'cluster.systemNodes.instanceTypes[0]' <a larger type, e.g. m6i.2xlarge>"
        else:
            allowed = f"at least {needed}"
            fix = (f"pulumi config set --path 'cluster.systemNodes.desiredSize' {needed}"
                   + (f" (and maxSize {needed}: pulumi config set --path 'cluster.systemNodes.maxSize' {needed})"
                      if needed > system.max_size else ""))
        raise bad_value(
            ("cluster", "systemNodes", "desiredSize"), system.desired_size,
            f"{allowed}: {start} gateway pods of {gateway.resources.cpu} CPU / {gateway.resources.memory} plus {what} "
            f"do not fit {system.desired_size} {node_text}; raise cluster.systemNodes.desiredSize or use a larger "
            "cluster.systemNodes.instanceTypes (pods left Pending make the atomic Helm releases roll back)",
            fix=fix,
        )

    # The gateway's ceiling fits the nodes the group may grow to
    if gateway.autoscaling:
        key, replicas = ("gateway", "autoscaling", "maxReplicas"), gateway.autoscaling.max_replicas
    else:
        key, replicas = ("gateway", "replicas"), gateway.replicas
    fits = _gateway_fits(node, system.max_size, per_node, others, pod)
    if replicas > fits:
        raise bad_value(
            key, replicas,
            f"at most {fits}: {replicas} gateway pods of {gateway.resources.cpu} CPU / {gateway.resources.memory} "
            f"(gateway.resources) plus {what} do not fit cluster.systemNodes.maxSize ({system.max_size}) {node_text}; "
            "lower it, or raise cluster.systemNodes.maxSize or use a larger cluster.systemNodes.instanceTypes",
        )


def platform_pods(settings: "Settings") -> "list[SystemPods]":
    """The platform's own pods on the system nodes other than the gateway: the stores, Langfuse,
    Open WebUI and the agent server, at their starting replica counts."""
    from components.system_pods import SystemPods  # noqa: PLC0415

    replicas = {
        "langfuse": settings.langfuse.web_replicas, "langfuse-worker": settings.langfuse.worker_replicas,
        "open-webui": settings.open_webui.replicas,
    }
    agent = settings.agent_server  # its requests are settings: agentServer.resources
    return [
        *(SystemPods(name, 1, *requests, source="program") for name, requests in FIXED_PODS.items()),
        *(SystemPods(name, n, *SCALED_PODS[name], source="program") for name, n in replicas.items()),
        SystemPods("custom-server", agent.starting_replicas, int(cpu_millis(agent.resources.cpu)),
                   int(memory_bytes(agent.resources.memory) // MIB), source="settings"),
    ]


def platform_requests(settings: "Settings") -> tuple[int, int]:
    """(CPU millicores, memory MiB) of `platform_pods`."""
    load = Load.of(platform_pods(settings))
    return load.cpu, load.mib
