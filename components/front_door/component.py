"""The front door's two halves.

`FrontDoor` (before the apps): the controller, the certificate, the WAF and the SSO client; its
`plan` tells the apps their URLs, the ALB's source CIDRs and the SSO client.
`FrontDoorRoutes` (after the apps): IngressClassParams, IngressClass, one Ingress per host, and
the DNS records once the ALB exists.
"""

from __future__ import annotations

from typing import Optional, Sequence

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.networking.v1 import Ingress, IngressClass

from components import catalog
from components.front_door import routes
from components.front_door.controller import LoadBalancerController
from components.front_door.identity import CognitoIdentity, configured_client, configured_grafana_client
from components.front_door.plan import FrontDoorPlan, active_routes, alb_subnet_cidrs
from components.front_door.tls_dns import FrontDoorCertificate, alias_records
from components.front_door.waf import FrontDoorWaf
from components.settings import Settings


class FrontDoor(pulumi.ComponentResource):
    """AWS side of the front door and the controller that will build the ALB."""

    plan: FrontDoorPlan
    certificate_arn: pulumi.Output[str]

    def __init__(self, name: str, settings: Settings, *, cluster_name: pulumi.Input[str], vpc_id: pulumi.Input[str],
                 account_id: pulumi.Input[str], provider: pulumi.ProviderResource, tags: dict[str, str],
                 client_secret: Optional[pulumi.Input[str]], opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:front_door:FrontDoor", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        fd = settings.front_door
        hosts = list(active_routes(fd).values())
        self.controller = LoadBalancerController(
            f"{name}-lb-controller", cluster_name=cluster_name, region=settings.region,
            partition=catalog.partition_for(settings.region), vpc_id=vpc_id, account_id=account_id,
            replicas=fd.controller_replicas, tags=tags, provider=provider, opts=child,
        )
        self.certificate_arn = FrontDoorCertificate(f"{name}-tls", fd, hosts, tags, opts=child).arn
        self.waf_arn = FrontDoorWaf(f"{name}-waf", fd.waf, tags, opts=child).arn if fd.waf.enabled else None
        sso = grafana_sso = None
        if fd.sso.provider == "cognito":
            identity = CognitoIdentity(f"{name}-sso", fd, settings.region, tags, opts=child)
            sso, grafana_sso = identity.client, identity.grafana_client
        elif fd.sso.provider == "oidc":
            sso = configured_client(fd, client_secret)
            grafana_sso = configured_grafana_client(fd, client_secret)
        self.plan = FrontDoorPlan(fd, alb_subnet_cidrs(settings, self), sso, active_routes(fd), grafana_sso)
        self.register_outputs({"certificate_arn": self.certificate_arn})


class FrontDoorRoutes(pulumi.ComponentResource):
    """The shared ALB as Kubernetes objects, and its DNS records."""

    alb_hostname: pulumi.Output[str]
    """The ALB's DNS name (from the Ingress status)."""

    def __init__(self, name: str, front_door: FrontDoor, settings: Settings, *, namespace: pulumi.Input[str],
                 subnet_ids: pulumi.Input[list[str]], provider: pulumi.ProviderResource, tags: dict[str, str],
                 depends_on: Sequence[pulumi.Resource] = (), opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:front_door:Routes", name, {}, opts)
        fd, plan = settings.front_door, front_door.plan
        k8s = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[front_door.controller, *depends_on])
        params = CustomResource(
            f"{name}-class-params", api_version=routes.PARAMS_API, kind="IngressClassParams",
            metadata={"name": routes.INGRESS_CLASS},
            spec=routes.ingress_class_params_spec(fd, subnet_ids, front_door.certificate_arn, front_door.waf_arn, tags),
            opts=k8s,
        )
        klass = IngressClass(f"{name}-class", metadata={"name": routes.INGRESS_CLASS}, spec=routes.ingress_class_spec(),
                             opts=pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=[params])))
        ingresses = [
            Ingress(
                f"{name}-{route}",
                metadata={"name": f"front-door-{route}", "namespace": routes.NAMESPACES.get(route, namespace),
                          "annotations": routes.ingress_annotations(route)},
                spec=routes.ingress_spec(route, host),
                opts=pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=[klass])),
            )
            for route, host in plan.routes.items()
        ]
        # Every Ingress of the group reports the same ALB
        self.alb_hostname = ingresses[0].status.apply(lambda s: s.load_balancer.ingress[0].hostname)
        alias_records(f"{name}-dns", fd, list(plan.routes.values()), self.alb_hostname, settings.cluster_name,
                      routes.GROUP, self)
        self.register_outputs({"alb_hostname": self.alb_hostname})
