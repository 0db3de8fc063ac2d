"""Settings for the front door: one shared ALB, its hosts, TLS, exposure controls and single sign-on."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from components.settings.errors import bad_value
from components.settings.infra import Section

_DOMAIN = re.compile(r"^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_CERT_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{4,31}$")
WORLD = ("0.0.0.0/0", "::/0")
# AWS managed rule groups (vendor AWS) a web ACL may reference; the defaults cost 925 WCUs of the 1500 a web ACL has
# without extra charge (AWS WAF Developer Guide, "AWS Managed Rules rule groups list").
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList", "AWSManagedRulesAdminProtectionRuleSet", "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesLinuxRuleSet", "AWSManagedRulesUnixRuleSet",
)


class Hosts(Section):
    """Host labels under `domain`: chat.<domain> (Open WebUI), traces.<domain> (Langfuse), api (LiteLLM, optional),
    grafana.<domain> (Grafana, with monitoring on; null turns it off)."""

    chat: str = "chat"
    traces: str = "traces"
    api: Optional[str] = None
    grafana: Optional[str] = "grafana"

    @field_validator("chat", "traces", "api", "grafana")
    @classmethod
    def _label(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _LABEL.fullmatch(value):
            raise bad_value((), value, "one DNS label: lowercase letters, digits and '-', such as chat")
        return value


class WafSettings(Section):
    """An AWS WAF web ACL on the ALB with AWS managed rule groups."""

    enabled: bool = False
    managed_rule_groups: list[str] = list(MANAGED_RULE_GROUPS[:3])

    @field_validator("managed_rule_groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        for i, group in enumerate(value):
            if group not in MANAGED_RULE_GROUPS:
                raise bad_value((i,), group, f"one of the AWS managed rule groups {', '.join(MANAGED_RULE_GROUPS)}")
        if not value:
            raise bad_value((), value, "at least one managed rule group (or waf.enabled: false)")
        return value


class SsoSettings(Section):
    """OIDC single sign-on for Open WebUI and Langfuse.

    provider `none`: password login (the program creates the first Open WebUI admin);
    `oidc`: your identity provider (issuerUrl, clientId; the client secret is the secret config
    `ssoClientSecret`); `cognito`: a Cognito user pool the stack creates, with the admin and user groups.
    """

    provider: Literal["none", "oidc", "cognito"] = "none"
    issuer_url: Optional[str] = None
    client_id: Optional[str] = None
    display_name: str = "SSO"
    groups_claim: Optional[str] = None  # default: groups (oidc), cognito:groups (cognito)
    admin_group: str = "genai-admins"
    user_group: str = "genai-users"
    # Grafana's generic OAuth takes the endpoints themselves (it reads no discovery document): with
    # provider oidc and Grafana behind the front door, copy them from <issuerUrl>/.well-known/openid-configuration
    authorization_endpoint: Optional[str] = None
    token_endpoint: Optional[str] = None
    userinfo_endpoint: Optional[str] = None

    @field_validator("authorization_endpoint", "token_endpoint", "userinfo_endpoint")
    @classmethod
    def _endpoint(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.fullmatch(r"https://[^\s/]+(/[^\s]*)?", value):
            raise bad_value((), value, "the https URL of that endpoint, from the issuer's /.well-known/openid-configuration")
        return value

    @field_validator("issuer_url")
    @classmethod
    def _issuer(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.fullmatch(r"https://[^\s/]+(/[^\s]*)?", value):
            raise bad_value((), value, "the issuer's https URL (its /.well-known/openid-configuration is read)")
        return value.rstrip("/") if value else value

    @field_validator("admin_group", "user_group")
    @classmethod
    def _group(cls, value: str) -> str:
        if not re.fullmatch(r"[\w.@:-]{1,128}", value):
            raise bad_value((), value, "a group name as the identity provider sends it in the groups claim")
        return value

    @model_validator(mode="after")
    def _complete(self):
        if self.provider == "oidc":
            for key in ("issuer_url", "client_id"):
                if getattr(self, key) is None:
                    camel = "issuerUrl" if key == "issuer_url" else "clientId"
                    raise bad_value(camel, None, "required with provider: oidc (your identity provider's client)")
        elif self.provider == "cognito" and (self.issuer_url or self.client_id or self.authorization_endpoint
                                             or self.token_endpoint or self.userinfo_endpoint):
            raise bad_value("provider", self.provider,
                            "oidc when issuerUrl/clientId are set (or the endpoints); cognito creates its own pool, "
                            "clients and endpoints")
        if self.admin_group == self.user_group:
            raise bad_value("adminGroup", self.admin_group, "a group other than userGroup")
        return self

    @property
    def enabled(self) -> bool:
        return self.provider != "none"

    @property
    def claim(self) -> str:
        """The ID-token claim that lists the user's groups."""
        return self.groups_claim or ("cognito:groups" if self.provider == "cognito" else "groups")


class FrontDoorSettings(Section):
    """One shared ALB (AWS Load Balancer Controller) with HTTPS routes to the UIs and, optionally, the API."""

    enabled: bool = False
    domain: Optional[str] = None
    hosts: Hosts = Hosts()
    certificate_arn: Optional[str] = None
    hosted_zone_id: Optional[str] = None
    scheme: Literal["internet-facing", "internal"] = "internet-facing"
    allowed_cidrs: list[str] = []
    waf: WafSettings = WafSettings()
    sso: SsoSettings = SsoSettings()
    # TLS 1.3 and 1.2 only, available in every partition (Elastic Load Balancing User Guide, "Security policies
    # for your Application Load Balancer"; the console's newer default adds post-quantum key exchange:
    # ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09, settable here)
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    controller_replicas: int = Field(default=2, ge=1, le=5)

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _DOMAIN.fullmatch(value):
            raise bad_value((), value, "a lowercase DNS name such as genai.example.com (hosts are chat.<domain>, ...)")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _CERT_ARN.fullmatch(value):
            raise bad_value((), value, "an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>")
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _ZONE_ID.fullmatch(value):
            raise bad_value((), value, "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")
        return value

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for i, cidr in enumerate(value):
            try:
                network = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise bad_value((i,), cidr, "a CIDR block such as 203.0.113.0/24 or 10.0.0.0/8") from None
            if str(network) != cidr:
                raise bad_value((i,), cidr, f"a CIDR block without host bits; canonically: {network}", fix_value=str(network))
        return value

    @model_validator(mode="after")
    def _complete(self):
        if not self.enabled:
            return self
        if self.domain is None:
            raise bad_value("domain", None, "required with enabled: true: the DNS name the hosts live under")
        if self.certificate_arn is None and self.hosted_zone_id is None:
            raise bad_value(
                "certificateArn", None,
                "a certificate covering the hosts, or hostedZoneId (the stack then requests and validates one in that "
                "Route 53 zone and writes the DNS records)",
            )
        if self.scheme == "internet-facing" and not self.restricted_cidrs and not self.waf.enabled:
            raise bad_value(
                "allowedCidrs", self.allowed_cidrs,
                "an allow-list (CIDRs other than 0.0.0.0/0) or waf.enabled: true for an internet-facing front door",
            )
        labels = [h for h in self.hosts.model_dump().values() if h]
        if len(set(labels)) < len(labels):
            raise bad_value("hosts", self.hosts.model_dump(), "distinct host labels for chat, traces, api and grafana")
        return self

    @property
    def restricted_cidrs(self) -> list[str]:
        """The allow-list without the any-address blocks (which allow everyone)."""
        return [c for c in self.allowed_cidrs if c not in WORLD]

    def host(self, route: str) -> Optional[str]:
        """The full host name of a route (chat, traces, api), or None when the route is off."""
        label = getattr(self.hosts, route)
        return f"{label}.{self.domain}" if self.enabled and label else None

    def url(self, route: str) -> Optional[str]:
        host = self.host(route)
        return f"https://{host}" if host else None


OIDC_ENDPOINTS = {"authorization_endpoint": "authorizationEndpoint", "token_endpoint": "tokenEndpoint",
                  "userinfo_endpoint": "userinfoEndpoint"}


def grafana_host_follows_monitoring(settings) -> None:
    """Grafana's host exists only with the metrics stack: the default label is dropped when monitoring is off
    (`settings` is the root `Settings`, still being validated)."""
    front_door = settings.front_door
    if settings.monitoring.enabled or front_door.hosts.grafana is None:
        return
    if "grafana" in front_door.hosts.model_fields_set:
        raise bad_value(("frontDoor", "hosts", "grafana"), front_door.hosts.grafana,
                        "unset while monitoring.enabled is false (there is no Grafana to route to)",
                        fix="pulumi config rm --path frontDoor.hosts.grafana")
    hosts = front_door.hosts.model_copy(update={"grafana": None})
    object.__setattr__(settings, "front_door", front_door.model_copy(update={"hosts": hosts}))


def check_front_door(settings) -> None:
    """Checks that need more than the section (`settings` is the root `Settings`): the partition,
    the subnets an existing VPC offers the ALB, the secret `ssoClientSecret`, and the endpoints
    Grafana needs from an OIDC provider."""
    from components import catalog  # noqa: PLC0415 - avoids a settings <-> catalog import cycle

    front_door, region, client_secret_set = settings.front_door, settings.region, settings.sso_client_secret_set
    sso = front_door.sso
    network = settings.network
    if front_door.enabled and network.existing_vpc_id and front_door.scheme == "internet-facing" \
            and not network.existing_public_subnet_ids:
        raise bad_value(
            ("network", "existingPublicSubnetIds"), [],
            "public subnets (two or more AZs) for the internet-facing ALB, or frontDoor.scheme: internal",
        )
    if front_door.enabled and catalog.partition_for(region) not in CONTROLLER_PARTITIONS:
        raise bad_value(
            ("frontDoor", "enabled"), True,
            f"false in {region}: the AWS Load Balancer Controller publishes its IAM policy for the "
            f"{' and '.join(CONTROLLER_PARTITIONS)} partitions only (components/front_door/files)",
        )
    if sso.enabled and not front_door.enabled:
        raise bad_value(("frontDoor", "sso", "provider"), sso.provider,
                        "none unless frontDoor.enabled is true: sign-in redirects to the front door's https URLs")
    if sso.provider == "oidc" and not client_secret_set:
        raise bad_value(("ssoClientSecret",), None,
                        "required with frontDoor.sso.provider: oidc (the client secret of clientId)")
    if sso.provider == "oidc" and front_door.host("grafana"):
        for field, key in OIDC_ENDPOINTS.items():
            if getattr(sso, field) is None:
                raise bad_value(("frontDoor", "sso", key), None,
                                f"required with provider oidc while Grafana is behind the front door (hosts.grafana): "
                                f"Grafana's generic OAuth needs the endpoint itself; copy `{field}` from "
                                f"{sso.issuer_url}/.well-known/openid-configuration (or set frontDoor.hosts.grafana "
                                "to null for port-forward only)")
    if sso.provider != "oidc" and client_secret_set:
        raise bad_value(("ssoClientSecret",), "<hidden>",
                        f"unset with frontDoor.sso.provider: {sso.provider} (only an oidc client uses it; "
                        "`pulumi config rm ssoClientSecret`)")


CONTROLLER_PARTITIONS = ("aws", "aws-cn")
