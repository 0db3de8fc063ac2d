"""What the apps need to know about the front door before it is built: URLs, the ALB's source
addresses (for NetworkPolicies) and the single sign-on client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi
from pulumi_aws import ec2

from components.network import subnet_cidrs
from components.settings import Settings
from components.settings.front_door import FrontDoorSettings

# route -> (app, container port): the pods each host reaches. Ports are the pods' container
# ports (NetworkPolicies see traffic after the Service's port translation; with IP targets the
# ALB sends to the pod address and container port directly).
EXPOSED = {"chat": ("open-webui", 8080), "traces": ("langfuse", 3000), "api": ("litellm", 4000),
           "grafana": ("grafana", 3000)}  # kube-prometheus-stack's Grafana, in `monitoring`


@dataclass(frozen=True, kw_only=True)
class SsoRoles:
    """How an app names the provider and maps its groups claim to roles (one set for every client)."""

    display_name: str
    groups_claim: str
    admin_group: str
    user_group: str


@dataclass(frozen=True, kw_only=True)
class SsoClient(SsoRoles):
    """The OIDC client both UIs use."""

    issuer_url: pulumi.Input[str]
    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class GrafanaSso(SsoRoles):
    """Grafana's OAuth client and the provider's endpoints (Grafana's generic OAuth reads no discovery document)."""

    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]
    auth_url: pulumi.Input[str]
    token_url: pulumi.Input[str]
    api_url: pulumi.Input[str]


@dataclass(frozen=True)
class FrontDoorPlan:
    """The front door as the apps see it (`None` in AppContext when it is off)."""

    settings: FrontDoorSettings
    alb_source_cidrs: list[str]
    sso: Optional[SsoClient] = None
    routes: dict[str, str] = field(default_factory=dict)  # route -> host
    grafana_sso: Optional[GrafanaSso] = None

    def url(self, route: str) -> Optional[str]:
        return self.settings.url(route)

    def sources_for(self, app: str) -> list[str]:
        """The ALB's subnets when `app` is behind a route, else none."""
        return self.alb_source_cidrs if app in {EXPOSED[r][0] for r in self.routes} else []


def active_routes(front_door: FrontDoorSettings) -> dict[str, str]:
    """route -> host for every route that is on."""
    return {route: front_door.host(route) for route in EXPOSED if front_door.host(route)}


def alb_subnet_cidrs(settings: Settings, parent: Optional[pulumi.Resource] = None) -> list[str]:
    """The CIDRs of the subnets the ALB is placed in (IngressClassParams subnets.ids): public
    subnets for internet-facing, private for internal. A created VPC's CIDRs follow from the
    settings; an existing VPC's are read with plain (synchronous) ec2.get_subnet invokes."""
    network, public = settings.network, settings.front_door.scheme == "internet-facing"
    if not network.existing_vpc_id:
        public_cidrs, private_cidrs = subnet_cidrs(network.vpc_cidr, network.az_count)
        return public_cidrs if public else private_cidrs
    ids = network.existing_public_subnet_ids if public else network.existing_private_subnet_ids
    opts = pulumi.InvokeOptions(parent=parent) if parent else None
    return sorted({ec2.get_subnet(id=subnet_id, opts=opts).cidr_block for subnet_id in ids})
