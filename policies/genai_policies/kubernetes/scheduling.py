"""Kubernetes Neuron scheduling rules: pods requesting Neuron cores tolerate the Neuron taint,
and only pods requesting them tolerate it."""

from __future__ import annotations

from typing import Any, Mapping

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from ..common import as_list, dig, has_key, is_map
from .workloads import DAEMON_SET, Workload, workload

NEURON_TAINT_KEY = "aws.amazon.com/neuron"
NEURON_TAINT_VALUE = "true"
NEURON_RESOURCES = ("aws.amazon.com/neuroncore", "aws.amazon.com/neuron", "aws.amazon.com/neurondevice")


def requests_neuron(wl: Workload) -> list[str]:
    """The Neuron resources (cores / devices) any container requests or limits."""
    found = set()
    for _, container in wl.containers():
        for kind in ("requests", "limits"):
            amounts = dig(container, "resources", kind)
            if not is_map(amounts):
                continue
            for resource in NEURON_RESOURCES:
                if has_key(amounts, resource) and str(amounts[resource]) not in ("0", ""):
                    found.add(resource)
    return sorted(found)


def tolerates_neuron(pod_spec: Mapping[str, Any]) -> bool:
    """A toleration matches the taint aws.amazon.com/neuron=true:NoSchedule."""
    for toleration in as_list(pod_spec.get("tolerations")):
        if not is_map(toleration):
            continue
        key, operator = toleration.get("key") or "", toleration.get("operator") or "Equal"
        effect = toleration.get("effect") or ""
        if effect not in ("", "NoSchedule"):
            continue
        if operator == "Exists" and key in ("", NEURON_TAINT_KEY):
            return True
        if operator == "Equal" and key == NEURON_TAINT_KEY and toleration.get("value") == NEURON_TAINT_VALUE:
            return True
    return False


def _neuron_toleration(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None:
        return
    resources = requests_neuron(wl)
    if resources and not tolerates_neuron(wl.pod_spec):
        report_violation(
            f"{wl.label} requests {', '.join(resources)} but does not tolerate the taint "
            f"{NEURON_TAINT_KEY}={NEURON_TAINT_VALUE}:NoSchedule, so it can never be scheduled on a Neuron node."
        )


def _neuron_toleration_requests(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None or args.resource_type == DAEMON_SET:
        return  # DaemonSets (the device plugin, node agents) tolerate the taint by design
    if tolerates_neuron(wl.pod_spec) and not requests_neuron(wl):
        report_violation(
            f"{wl.label} tolerates the {NEURON_TAINT_KEY} taint but requests no aws.amazon.com/neuroncore: it would "
            "occupy an accelerator node without using the accelerator."
        )


def policies() -> list:
    """The Neuron scheduling rules."""
    return [
        ResourceValidationPolicy(
            name="k8s-neuron-toleration",
            description="Pods requesting Neuron cores/devices tolerate the aws.amazon.com/neuron NoSchedule taint.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_neuron_toleration,
        ),
        ResourceValidationPolicy(
            name="k8s-neuron-toleration-requests-cores",
            description="Pods tolerating the aws.amazon.com/neuron taint request NeuronCores (DaemonSets exempt).",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_neuron_toleration_requests,
        ),
    ]
