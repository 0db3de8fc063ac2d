"""What the preview says about Neuron capacity: the type each Neuron node group is sized as
(the one that launches, `catalog.launched_neuron_type`), its NeuronCores at desiredSize, and what
the model servers request."""

from __future__ import annotations

from typing import Any

from components import catalog
from tools.preview.render import is_kubernetes_object

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")


def requested_cores(entries: list[dict[str, Any]]) -> int:
    """NeuronCores every model server replica requests together."""
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
                total += int(str(cores)) * int(spec.get("replicas", 1))
    return total


def capacity_lines(entries: list[dict[str, Any]]) -> list[str]:
    """One line per Neuron node group: `<group>: desired x <type> (<why>) = N NeuronCores; ...`."""
    lines = []
    wanted = requested_cores(entries)
    for entry in entries:
        if entry["type"] != NODE_GROUP:
            continue
        inputs = entry["inputs"]
        types = [str(t) for t in inputs.get("instanceTypes") or []]
        if not types or not all(t in catalog.NEURON_INSTANCES for t in types):
            continue
        node, why = catalog.launched_neuron_type(types, str(inputs.get("capacityType") or "ON_DEMAND"))
        desired = int((inputs.get("scalingConfig") or {}).get("desiredSize", 0))
        lines.append(
            f"{entry['name']}: {desired} x {node.name} ({why}) = {desired * node.neuron_cores} NeuronCores; "
            f"model servers request {wanted}"
        )
    return lines
