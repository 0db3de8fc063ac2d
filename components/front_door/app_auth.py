"""How Open WebUI and Langfuse learn their public URL, sign people in and get their first admin.

Every name below was checked against the pinned versions' source:
- Open WebUI 0.12.4 (PyPI open-webui 0.12.4): WEBUI_URL, ENABLE_SIGNUP, ENABLE_LOGIN_FORM,
  ENABLE_PASSWORD_AUTH, ENABLE_OAUTH_SIGNUP, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OPENID_PROVIDER_URL
  (the discovery document's URL: it is authlib's server_metadata_url), OPENID_REDIRECT_URI,
  OAUTH_SCOPES, OAUTH_PROVIDER_NAME, ENABLE_OAUTH_ROLE_MANAGEMENT, OAUTH_ROLES_CLAIM,
  OAUTH_ALLOWED_ROLES, OAUTH_ADMIN_ROLES (open_webui/config.py); WEBUI_ADMIN_EMAIL,
  WEBUI_ADMIN_PASSWORD, WEBUI_ADMIN_NAME (open_webui/env.py): at start-up, when no user exists,
  main.py creates that admin (utils/auth.py `create_admin_user`) and turns sign-up off.
- Langfuse v4 (web/src/env.mjs, web/src/server/auth.ts): NEXTAUTH_URL, AUTH_CUSTOM_CLIENT_ID,
  AUTH_CUSTOM_CLIENT_SECRET, AUTH_CUSTOM_ISSUER, AUTH_CUSTOM_NAME (all four enable the provider),
  AUTH_CUSTOM_SCOPE, AUTH_DISABLE_USERNAME_PASSWORD, LANGFUSE_DEFAULT_ORG_ID, LANGFUSE_DEFAULT_ORG_ROLE.
  Checked in langfuse/langfuse main of 2026-08-22 (after v4.16.0) and langfuse.com's v4 self-hosting
  docs (hardening, default-login FAQ); the pinned 4.52.0's own source was not available to check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi

from components.front_door.identity import OPEN_WEBUI_CALLBACK
from components.front_door.plan import FrontDoorPlan
from components.settings import Settings

SCOPES = "openid email profile"
# Port-forward fallback (README): Langfuse is reached on localhost:3001 without the front door
LANGFUSE_LOCAL_URL = "http://localhost:3001"


@dataclass
class AppAuth:
    """Plain env, and secret values (Secret key -> value) with the env vars that read them."""

    env: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    secrets: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_env: dict[str, str] = field(default_factory=dict)  # ENV -> Secret key


def open_webui_auth(settings: Settings, plan: Optional[FrontDoorPlan], admin_password: pulumi.Input[str]) -> AppAuth:
    """The first admin always (nobody can claim it by arriving first, with or without SSO); the
    public URL with the front door; OIDC sign-in, sign-up and group-based roles with SSO."""
    webui = settings.open_webui
    auth = AppAuth(
        env={"WEBUI_ADMIN_EMAIL": webui.admin_email, "WEBUI_ADMIN_NAME": "Admin",
             "ENABLE_SIGNUP": str(webui.enable_signup)},
        secrets={"admin-password": admin_password},
        secret_env={"WEBUI_ADMIN_PASSWORD": "admin-password"},
    )
    if plan is None:
        return auth
    chat = plan.url("chat")
    auth.env["WEBUI_URL"] = chat
    sso = plan.sso
    if sso is None:
        return auth
    auth.env |= {
        "ENABLE_OAUTH_SIGNUP": "True",
        "ENABLE_SIGNUP": "False",  # no password sign-up next to SSO
        "ENABLE_LOGIN_FORM": "False",
        "OAUTH_PROVIDER_NAME": sso.display_name,
        "OAUTH_CLIENT_ID": sso.client_id,
        "OPENID_PROVIDER_URL": pulumi.Output.concat(sso.issuer_url, "/.well-known/openid-configuration"),
        # Explicit: behind the ALB the app would otherwise build an http:// callback from the request
        "OPENID_REDIRECT_URI": f"{chat}{OPEN_WEBUI_CALLBACK}",
        "OAUTH_SCOPES": SCOPES,
        "ENABLE_OAUTH_ROLE_MANAGEMENT": "True",
        "OAUTH_ROLES_CLAIM": sso.groups_claim,
        "OAUTH_ALLOWED_ROLES": f"{sso.user_group},{sso.admin_group}",
        "OAUTH_ADMIN_ROLES": sso.admin_group,
    }
    auth.secrets |= {"oauth-client-secret": sso.client_secret, "password-auth": "False"}
    # A switch, not a credential: from the Secret only because its name matches the pack's
    # secret-name pattern (k8s-env-secrets: PASSWORD, _AUTH), which allows no literal
    auth.secret_env |= {"OAUTH_CLIENT_SECRET": "oauth-client-secret", "ENABLE_PASSWORD_AUTH": "password-auth"}
    return auth


def langfuse_auth(plan: Optional[FrontDoorPlan], org_id: str) -> AppAuth:
    """NEXTAUTH_URL (the public URL, or the port-forward one), and the custom OIDC provider with
    username/password login off. SSO users join the platform's organisation as viewers; the
    headless admin (LANGFUSE_INIT_USER_*) keeps ownership."""
    if plan is None:
        return AppAuth(env={"NEXTAUTH_URL": LANGFUSE_LOCAL_URL})
    auth = AppAuth(env={"NEXTAUTH_URL": plan.url("traces")})
    sso = plan.sso
    if sso is None:
        return auth
    auth.env |= {
        "AUTH_CUSTOM_CLIENT_ID": sso.client_id,
        "AUTH_CUSTOM_ISSUER": sso.issuer_url,
        "AUTH_CUSTOM_NAME": sso.display_name,
        "AUTH_CUSTOM_SCOPE": SCOPES,
        "LANGFUSE_DEFAULT_ORG_ID": org_id,
        "LANGFUSE_DEFAULT_ORG_ROLE": "VIEWER",
    }
    auth.secrets |= {"oidc-client-secret": sso.client_secret, "disable-password-login": "true"}
    # AUTH_DISABLE_USERNAME_PASSWORD is a switch; from the Secret only because its name matches the
    # pack's secret-name pattern (k8s-env-secrets), which allows no literal value
    auth.secret_env |= {"AUTH_CUSTOM_CLIENT_SECRET": "oidc-client-secret",
                        "AUTH_DISABLE_USERNAME_PASSWORD": "disable-password-login"}
    return auth
