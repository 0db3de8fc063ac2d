"""Single sign-on clients: your OIDC provider (settings + secret config), or a Cognito user pool
the stack creates with the admin and user groups.

Redirect URIs the clients must allow:
- Open WebUI 0.12.4: `/oauth/oidc/login/callback` (open_webui/main.py `oauth_login_callback`; the
  provider is registered as `oidc`, config.py `oidc_oauth_register`, redirect_uri from OPENID_REDIRECT_URI).
- Langfuse v4: `/api/auth/callback/custom` (NextAuth's callback route; the custom provider's id is
  `custom`, packages/shared/src/server/auth/customSsoProvider.ts).
- Grafana: `/login/generic_oauth` (Grafana docs, "Configure Generic OAuth authentication"). Grafana
  takes the authorize, token and userinfo endpoints themselves; a Cognito domain serves them at
  https://<prefix>.auth.<region>.amazoncognito.com/oauth2/{authorize,token,userInfo} (Cognito
  Developer Guide, "Identity provider and relying party endpoints").
"""

from __future__ import annotations

import re
from typing import Optional

import pulumi
import pulumi_random as random
from pulumi_aws import cognito

from components.front_door.plan import GrafanaSso, SsoClient
from components.settings.front_door import FrontDoorSettings

OPEN_WEBUI_CALLBACK = "/oauth/oidc/login/callback"
LANGFUSE_CALLBACK = "/api/auth/callback/custom"
GRAFANA_CALLBACK = "/login/generic_oauth"


def callback_urls(front_door: FrontDoorSettings) -> list[str]:
    return [f"{front_door.url('chat')}{OPEN_WEBUI_CALLBACK}", f"{front_door.url('traces')}{LANGFUSE_CALLBACK}"]


def sso_roles(front_door: FrontDoorSettings, display_name: Optional[str] = None) -> dict[str, str]:
    """The role fields every client shares (`SsoRoles`), from the settings."""
    sso = front_door.sso
    return {"display_name": display_name or sso.display_name, "groups_claim": sso.claim,
            "admin_group": sso.admin_group, "user_group": sso.user_group}


def configured_client(front_door: FrontDoorSettings, client_secret: pulumi.Input[str]) -> SsoClient:
    """The user's own identity provider."""
    sso = front_door.sso
    return SsoClient(**sso_roles(front_door), issuer_url=sso.issuer_url, client_id=sso.client_id,
                     client_secret=pulumi.Output.secret(client_secret))


def configured_grafana_client(front_door: FrontDoorSettings, client_secret: pulumi.Input[str]) -> Optional[GrafanaSso]:
    """Grafana on the user's identity provider: the UIs' client (its redirect URIs must include
    https://<grafana host>/login/generic_oauth) and the endpoints from the settings."""
    sso = front_door.sso
    if not front_door.host("grafana"):
        return None
    return GrafanaSso(**sso_roles(front_door), client_id=sso.client_id, client_secret=pulumi.Output.secret(client_secret),
                      auth_url=sso.authorization_endpoint, token_url=sso.token_endpoint, api_url=sso.userinfo_endpoint)



# Cognito refuses a prefix containing these words (the console's rule for domain prefixes: "You can't use
# the text aws, amazon, or cognito in the domain prefix"), and takes 1-63 of [a-z0-9-], no hyphen at
# either end (Cognito API Reference, CreateUserPoolDomain `Domain`)
_RESERVED_IN_PREFIX = re.compile("aws|amazon|cognito")


def cognito_domain_prefix(raw: str) -> str:
    """`raw` as a prefix Cognito accepts: reserved words dropped (an environment named `aws-lab`, a
    random suffix that spells one), at most 63 characters; a prefix it already accepts is unchanged."""
    prefix = raw
    while _RESERVED_IN_PREFIX.search(prefix):
        prefix = _RESERVED_IN_PREFIX.sub("", prefix)
    prefix = re.sub("-{2,}", "-", prefix)[:63]
    return prefix.strip("-")

class CognitoIdentity(pulumi.ComponentResource):
    """A user pool (administrators create users; no self sign-up), its hosted sign-in domain, the
    admin and user groups (sent in the ID token's `cognito:groups` claim) and one confidential
    OIDC client for both UIs; a second client for Grafana when it is behind the front door."""

    client: SsoClient
    grafana_client: Optional[GrafanaSso] = None

    def __init__(self, name: str, front_door: FrontDoorSettings, region: str, tags: dict[str, str],
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:front_door:CognitoIdentity", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        sso = front_door.sso
        pool = cognito.UserPool(
            f"{name}-users", name=name,
            username_attributes=["email"], auto_verified_attributes=["email"],
            admin_create_user_config={"allow_admin_create_user_only": True},
            password_policy={"minimum_length": 14, "require_lowercase": True, "require_uppercase": True,
                             "require_numbers": True, "require_symbols": True, "temporary_password_validity_days": 3},
            mfa_configuration="OPTIONAL", software_token_mfa_configuration={"enabled": True},
            deletion_protection="ACTIVE",
            tags=tags, opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        # The hosted sign-in pages live on a globally unique prefix
        suffix = random.RandomString(f"{name}-domain-suffix", length=8, special=False, upper=False, opts=child)
        domain = cognito.UserPoolDomain(f"{name}-domain", user_pool_id=pool.id,
                                        domain=pulumi.Output.concat(name, "-", suffix.result).apply(cognito_domain_prefix),
                                        opts=child)
        for group in (sso.admin_group, sso.user_group):
            cognito.UserGroup(f"{name}-{group}", user_pool_id=pool.id, name=group,
                              description=f"genai-platform {'admins' if group == sso.admin_group else 'users'}",
                              opts=child)
        client = _app_client(f"{name}-client", f"{name}-ui", pool.id, callback_urls(front_door),
                             [front_door.url("chat"), front_door.url("traces")], child)
        # Issuer of a user pool: https://cognito-idp.<region>.amazonaws.com/<pool id> (Cognito Developer
        # Guide, "Verifying JSON web tokens": the iss claim; the apps find the hosted UI's endpoints,
        # https://<prefix>.auth.<region>.amazoncognito.com, in its discovery document, CloudFormation
        # AWS::Cognito::UserPoolDomain "Domain"). Commercial partition form; aws-cn is unchecked
        issuer = pulumi.Output.concat(f"https://cognito-idp.{region}.amazonaws.com/", pool.id)
        self.client = SsoClient(**sso_roles(front_door, "Cognito"), issuer_url=issuer, client_id=client.id,
                                client_secret=pulumi.Output.secret(client.client_secret))
        if front_door.host("grafana"):
            self.grafana_client = self._grafana_client(name, front_door, pool.id, domain.domain, region, child)
        self.user_pool_id = pool.id
        self.register_outputs({"user_pool_id": pool.id, "issuer_url": issuer})

    @staticmethod
    def _grafana_client(name: str, front_door: FrontDoorSettings, pool_id: pulumi.Input[str],
                        prefix: pulumi.Input[str], region: str, opts: pulumi.ResourceOptions) -> GrafanaSso:
        """Grafana's own confidential client (its own secret and callback) on the same pool and groups."""
        url = front_door.url("grafana")
        client = _app_client(f"{name}-grafana-client", f"{name}-grafana", pool_id, [f"{url}{GRAFANA_CALLBACK}"],
                             [url], opts)
        base = pulumi.Output.concat("https://", prefix, f".auth.{region}.amazoncognito.com/oauth2/")
        return GrafanaSso(**sso_roles(front_door, "Cognito"), client_id=client.id,
                          client_secret=pulumi.Output.secret(client.client_secret),
                          auth_url=pulumi.Output.concat(base, "authorize"), token_url=pulumi.Output.concat(base, "token"),
                          api_url=pulumi.Output.concat(base, "userInfo"))


def _app_client(resource: str, name: str, pool_id: pulumi.Input[str], callbacks: list[str], logouts: list[str],
                 opts: pulumi.ResourceOptions) -> cognito.UserPoolClient:
    """A confidential client on the pool: authorization code flow, OpenID scopes, the pool's own users."""
    return cognito.UserPoolClient(
        resource, user_pool_id=pool_id, name=name, generate_secret=True,
        allowed_oauth_flows=["code"], allowed_oauth_flows_user_pool_client=True,
        allowed_oauth_scopes=["openid", "email", "profile"], supported_identity_providers=["COGNITO"],
        callback_urls=callbacks, logout_urls=logouts, prevent_user_existence_errors="ENABLED", opts=opts,
    )
