"""The policy pack's identity and its full rule list."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from . import eks, iam, kubernetes, neuron_zones, nodes, s3

PACK_NAME = "genai-platform"
PACK_DESCRIPTION = "genai-platform guardrails: EKS control plane, node groups, IAM, S3 and Kubernetes workloads"
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY


def policies() -> list[Policy]:
    """Every rule of the pack, in a stable order (names are unique)."""
    rules: list[Policy] = [
        *eks.policies(), *nodes.policies(), *neuron_zones.policies(), *iam.policies(), *s3.policies(),
        *kubernetes.policies(),
    ]
    names = [p.name for p in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate policy names: {duplicates}")
    return rules
