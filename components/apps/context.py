"""What every app component receives: settings, namespace, provider, credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

import pulumi

from components.apps.credentials import Credentials
from components.front_door.plan import FrontDoorPlan
from components.settings import Settings

FILES = Path(__file__).parent / "files"


@dataclass(frozen=True)
class AppContext:
    """Shared inputs of the in-cluster app components."""

    settings: Settings
    namespace: pulumi.Input[str]
    namespace_name: str
    provider: pulumi.ProviderResource
    credentials: Credentials
    account_id: pulumi.Input[str]
    pod_identities: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Service account -> the Pod Identity association made for it outside the apps (Bedrock)."""
    front_door: Optional[FrontDoorPlan] = None
    """The front door (URLs, ALB sources, SSO client), or None when it is off."""

    def opts(self, parent: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options for a Kubernetes child of `parent`."""
        return pulumi.ResourceOptions(parent=parent, provider=self.provider)

    def pod_identity_of(self, service_account: str) -> list[pulumi.Resource]:
        """What a workload running as `service_account` must start after: EKS injects Pod Identity
        credentials only into pods created once the association exists."""
        association = self.pod_identities.get(service_account)
        return [association] if association is not None else []

    def alb_sources(self, app: str) -> list[str]:
        """The ALB subnets' CIDRs when `app` is behind the front door (its NetworkPolicy admits them)."""
        return self.front_door.sources_for(app) if self.front_door else []

    def service_url(self, service: str, port: int, scheme: str = "http", path: str = "") -> str:
        """In-cluster URL of a Service in the platform namespace."""
        return f"{scheme}://{service}.{self.namespace_name}.svc.cluster.local:{port}{path}"


def read_file(name: str) -> str:
    """A static file an app mounts (init scripts, config snippets)."""
    return (FILES / name).read_text()
