"""The monthly floor (idle) and ceiling (every model at maxReplicas) of a stack run.

Between them only the Neuron nodes change: the Cluster Autoscaler runs the group between the
nodes the models' minReplicas need (at least minSize) and the nodes their maxReplicas need (at most
maxSize). Replica counts come from what is rendered: a model Deployment's `replicas`, or its KEDA
ScaledObject's minReplicaCount / maxReplicaCount; NeuronCores from its container requests. Without
the autoscaler (no cluster-autoscaler release) the group stays at desiredSize: floor = ceiling.
The autoscaler and KEDA pods run on the system nodes, which do not scale: they add no line.
"""

from __future__ import annotations

from typing import Any, Optional

from components import catalog
from components.settings.scaling_checks import nodes_for
from tools.offline.records import ResourceRecord, StackRun

SCALED_OBJECT = "ScaledObject"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def _kind(record: ResourceRecord) -> str:
    return record.type.rsplit(":", 1)[-1]


def neuron_replicas(run: StackRun) -> list[tuple[int, int, int]]:
    """(NeuronCores per replica, min replicas, max replicas) of each workload that requests cores."""
    objects = run.kubernetes_objects()
    scaled = {}
    for record in objects:
        if _kind(record) == SCALED_OBJECT:
            spec = record.inputs.get("spec") or {}
            scaled[(spec.get("scaleTargetRef") or {}).get("name")] = (
                int(spec.get("minReplicaCount", 0)), int(spec.get("maxReplicaCount", 100)))
    out = []
    for record in objects:
        if _kind(record) not in ("Deployment", "StatefulSet"):
            continue
        spec = record.inputs.get("spec") or {}
        containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
        cores = sum(int(((c.get("resources") or {}).get("requests") or {}).get(catalog.NEURON_CORE_RESOURCE, 0))
                    for c in containers)
        if not cores:
            continue
        name = (record.inputs.get("metadata") or {}).get("name") or record.name
        fixed = int(spec.get("replicas", 1))
        low, high = scaled.get(name, (fixed, fixed))
        out.append((cores, low, high))
    return out


def scaling_range(run: StackRun, total: float, neuron: list[tuple[ResourceRecord, float, float]]) -> Optional[dict[str, Any]]:
    """Floor and ceiling per month; `neuron` is (group, monthly cost as rendered, monthly cost of one node)."""
    if not neuron:
        return None
    autoscaled = any(r.inputs.get("chart") == "cluster-autoscaler" for r in run.of_type(HELM_RELEASE))
    replicas = neuron_replicas(run)
    floor_total, ceiling_total, groups = total, total, []
    for group, as_rendered, per_node in neuron:
        scaling = group.inputs.get("scalingConfig") or {}
        desired = int(scaling.get("desiredSize", 0))
        node = catalog.NEURON_INSTANCES[(group.inputs.get("instanceTypes") or [""])[0]]
        if autoscaled:
            low = max(int(scaling.get("minSize", 0)),
                      nodes_for([c for c, n, _ in replicas for _ in range(n)], node.neuron_cores))
            high = min(int(scaling.get("maxSize", desired)),
                       nodes_for([c for c, _, n in replicas for _ in range(n)], node.neuron_cores))
        else:
            low = high = desired
        floor_total += low * per_node - as_rendered
        ceiling_total += high * per_node - as_rendered
        groups.append({"nodeGroup": group.name, "floorNodes": low, "ceilingNodes": high,
                       "monthlyPerNode": round(per_node, 2)})
    return {
        "autoscaled": autoscaled,
        "monthlyFloor": round(floor_total, 2),
        "monthlyCeiling": round(ceiling_total, 2),
        "neuronGroups": groups,
        "how": ("floor: every model at minReplicas (0 with scale-to-zero) on at least neuron.minSize nodes; "
                "ceiling: every model at maxReplicas, at most neuron.maxSize nodes"
                if autoscaled else "no autoscaler: the Neuron group stays at neuron.desiredSize"),
    }
