"""Checks that span the scaling settings, the models and the Neuron group (run by `Settings`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.settings.errors import bad_value

if TYPE_CHECKING:
    from components.settings.model import Settings


def nodes_for(pods_cores: list[int], node_cores: int) -> int:
    """Nodes of `node_cores` NeuronCores that hold pods requesting `pods_cores` each (first-fit
    decreasing: the scheduler cannot split a pod's cores across nodes)."""
    free: list[int] = []
    for cores in sorted(pods_cores, reverse=True):
        for i, left in enumerate(free):
            if left >= cores:
                free[i] -= cores
                break
        else:
            free.append(node_cores - cores)
    return len(free)


def neuron_zone_pinned(settings: "Settings") -> bool:
    """The Neuron group stays in one AZ: an explicit neuron.availabilityZone, or ReadWriteOnce
    (zonal EBS) model caches. With the shared EFS cache it spans every private subnet's AZ."""
    return settings.neuron.availability_zone is not None or settings.model_cache.kind == "ebs"


def check_scaling(settings: "Settings") -> None:
    """Replica ranges fit the cache kind, the Neuron group's maximum and (without the autoscaler)
    its fixed size; scale-to-zero has a Bedrock fallback."""
    node, why = settings.neuron.launched_instance
    for i, model in enumerate(settings.models):
        if settings.model_cache.kind == "ebs" and model.max_replicas > 1:
            raise bad_value(
                ("models", i, "maxReplicas"), model.max_replicas,
                "1 while genai-platform:modelCache.kind is ebs (a ReadWriteOnce volume attaches to one node). "
                "Set modelCache.kind to efs (shared ReadWriteMany cache) to run more replicas",
            )
        if model.min_replicas == 0 and settings.fallback_for(model) is None:
            raise bad_value(
                ("models", i, "minReplicas"), 0,
                "at least 1 when no Bedrock model is configured: while the model is scaled to zero the gateway "
                "has nothing to fall back to. Add bedrockModels or set minReplicas: 1",
            )
    ceiling = [m.neuron_cores for m in settings.models for _ in range(m.max_replicas)]
    needed = nodes_for(ceiling, node.neuron_cores)
    total = sum(ceiling)
    if needed > settings.neuron.max_size:
        raise bad_value(
            ("neuron", "maxSize"), settings.neuron.max_size,
            f"at least {needed}: every model at maxReplicas needs {total} NeuronCores (maxReplicas x neuronCores) "
            f"on {needed} x {node.name} ({node.neuron_cores} NeuronCores each, assumed because {why}). "
            f"Raise neuron.maxSize to {needed}, put a larger type first in neuron.instanceTypes, or lower "
            "models[].maxReplicas",
            fix_value=str(needed),
        )
    if not settings.neuron_autoscaler.enabled:
        desired = settings.neuron.desired_size
        if desired > 0 and needed > desired:
            raise bad_value(
                ("neuron", "desiredSize"), desired,
                f"at least {needed} while neuronAutoscaler.enabled is false (the group stays at desiredSize): "
                f"every model at maxReplicas needs {total} NeuronCores on {needed} x {node.name} "
                f"(assumed because {why}). Raise desiredSize, enable genai-platform:neuronAutoscaler, or lower "
                "models[].maxReplicas",
                fix_value=str(needed),
            )
