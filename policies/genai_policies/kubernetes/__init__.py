"""Kubernetes rules: workload hygiene, images, secrets in env, Neuron scheduling, exposure,
default-deny networking.

`workloads` reads the pod-owning objects the rules check; the rules live by area in
`containers` (resources, probes, security context, images, env secrets), `scheduling` (Neuron
taint and cores) and `networking` (LoadBalancer exposure, default-deny NetworkPolicies).
Helm releases and `yaml/v2` config groups are not expanded here: their objects are only visible
when registered as resources.
"""

from __future__ import annotations

from . import containers, front_door, networking, scheduling


def policies() -> list:
    """The Kubernetes rules."""
    return [*containers.policies(), *scheduling.policies(), *networking.policies(), *front_door.policies()]
