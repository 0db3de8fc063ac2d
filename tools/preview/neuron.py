"""What the preview says about Neuron capacity: the type each Neuron node group is sized as
(the one that launches, `catalog.launched_neuron_type`), its NeuronCores at desiredSize, and what
the model servers request."""

from __future__ import annotations

from typing import Any

from components import catalog
from tools.preview.render import is_kubernetes_object

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")


SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"


def requested_cores(entries: list[dict[str, Any]], at_max: bool = False) -> int:
    """NeuronCores every model server replica requests together (as rendered; `at_max`: with each
    KEDA-scaled Deployment at its ScaledObject's maxReplicaCount)."""
    maximum = {}
    for entry in entries:
        if entry["type"] == SCALED_OBJECT:
            spec = entry["inputs"].get("spec") or {}
            maximum[(spec.get("scaleTargetRef") or {}).get("name")] = int(spec.get("maxReplicaCount", 100))
    total = 0
    for entry in entries:
        if entry["type"] not in WORKLOADS or not is_kubernetes_object(entry):
            continue
        spec = entry["inputs"].get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        for container in pod.get("containers") or []:
            requests = (container.get("resources") or {}).get("requests") or {}
            cores = requests.get(catalog.NEURON_CORE_RESOURCE)
            if cores is not None:
                name = (entry["inputs"].get("metadata") or {}).get("name")
                replicas = maximum.get(name, spec.get("replicas", 1)) if at_max else spec.get("replicas", 1)
                total += int(str(cores)) * int(replicas)
    return total


def capacity_lines(entries: list[dict[str, Any]]) -> list[str]:
    """One line per Neuron node group: `<group>: desired x <type> (<why>) = N NeuronCores; ...`."""
    lines = []
    wanted, ceiling = requested_cores(entries), requested_cores(entries, at_max=True)
    for entry in entries:
        if entry["type"] != NODE_GROUP:
            continue
        inputs = entry["inputs"]
        types = [str(t) for t in inputs.get("instanceTypes") or []]
        if not types or not all(t in catalog.NEURON_INSTANCES for t in types):
            continue
        node, why = catalog.launched_neuron_type(types, str(inputs.get("capacityType") or "ON_DEMAND"))
        desired = int((inputs.get("scalingConfig") or {}).get("desiredSize", 0))
        line = (f"{entry['name']}: {desired} x {node.name} ({why}) = {desired * node.neuron_cores} NeuronCores; "
                f"model servers request {wanted}")
        if ceiling != wanted:  # KEDA scales them: what every model at maxReplicas needs, what maxSize holds
            top = int((inputs.get("scalingConfig") or {}).get("maxSize", desired))
            line += f", {ceiling} at maxReplicas (maxSize {top} x {node.name} = {top * node.neuron_cores})"
        lines.append(line)
    return lines
