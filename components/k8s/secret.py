"""Kubernetes Secrets built from generated or secret-config values (never literals in pods)."""

from __future__ import annotations

from typing import Mapping

import pulumi
from pulumi_kubernetes.core.v1 import Secret


def k8s_secret(name: str, namespace: pulumi.Input[str], data: Mapping[str, pulumi.Input[str]],
               opts: pulumi.ResourceOptions) -> Secret:
    """An Opaque Secret whose values are marked secret in Pulumi state."""
    return Secret(
        name,
        metadata={"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "genai-platform"}},
        type="Opaque",
        string_data={key: pulumi.Output.secret(value) for key, value in sorted(data.items())},
        opts=opts,
    )
