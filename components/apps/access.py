"""Read-only access for people: the seed's `genai-reader` Role bound to a group."""

from __future__ import annotations

from typing import Optional

import pulumi
from pulumi_kubernetes.rbac.v1 import Role, RoleBinding

from components.apps.context import AppContext


class ReaderAccess(pulumi.ComponentResource):
    """Role `genai-reader` (pods, services: get, list) bound to `access.readerGroup`."""

    def __init__(self, name: str, ctx: AppContext, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:ReaderAccess", name, {}, opts)
        k8s_opts = ctx.opts(self)
        role = Role(
            "genai-reader",
            metadata={"name": "genai-reader", "namespace": ctx.namespace},
            rules=[{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list"]}],
            opts=k8s_opts,
        )
        RoleBinding(
            "genai-reader",
            metadata={"name": "genai-reader", "namespace": ctx.namespace},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role.metadata.name},
            subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": ctx.settings.access.reader_group}],
            opts=k8s_opts,
        )
        self.register_outputs({})
