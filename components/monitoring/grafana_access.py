"""Grafana behind the front door: its public URL and single sign-on through the front door's identity
provider (the NetworkPolicy admitting the ALB's subnets is in components/monitoring/network.py).

Grafana 13.0.1 (the image of grafana-community/helm-charts grafana 12.3.3, kube-prometheus-stack
85.1.2's dependency) reads `[server] root_url` (redirects, the OAuth callback) and
`[auth.generic_oauth]` enabled, name, client_id, client_secret, scopes, auth_url, token_url, api_url,
use_pkce, allow_sign_up, role_attribute_path, role_attribute_strict (grafana/grafana
pkg/services/ssosettings/strategies/oauth_strategy.go, read with SectionWithEnvOverrides, so
GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET from a Secret replaces client_secret). The role path is JMESPath
over the ID token first, then the userinfo response (Grafana docs, "Configure Generic OAuth
authentication", role mapping). The chart renders `envValueFrom` as the container's valueFrom env.
"""

from __future__ import annotations

from typing import Any, Optional


from components.front_door.plan import EXPOSED, FrontDoorPlan, GrafanaSso

SSO_SECRET = "grafana-sso"
SSO_SECRET_KEY = "client-secret"
CLIENT_SECRET_ENV = "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"
GRAFANA_PORT = EXPOSED["grafana"][1]
SCOPES = "openid email profile"


def role_attribute_path(sso: GrafanaSso) -> str:
    """adminGroup -> Admin, userGroup -> Viewer, anyone else: no role (refused with role_attribute_strict).
    A claim name such as cognito:groups is a quoted JMESPath identifier; a missing claim counts as no group."""
    groups = f'not_null("{sso.groups_claim}", `[]`)'
    return (f"contains({groups}, '{sso.admin_group}') && 'Admin' || "
            f"contains({groups}, '{sso.user_group}') && 'Viewer'")


def grafana_values(plan: Optional[FrontDoorPlan]) -> dict[str, Any]:
    """Chart values for Grafana's public URL and SSO (none without the front door or without its host).
    The client secret stays in the `grafana-sso` Secret; the values name only the Secret."""
    url = plan.url("grafana") if plan else None
    if not url:
        return {}
    ini: dict[str, Any] = {"server": {"root_url": url, "domain": plan.routes["grafana"]}}
    out: dict[str, Any] = {"grafana.ini": ini}
    sso = plan.grafana_sso
    if sso is None:
        return out
    ini["auth"] = {"disable_login_form": True}  # sign-in through SSO only, as Open WebUI and Langfuse
    ini["auth.generic_oauth"] = {
        "enabled": True,
        "name": sso.display_name,
        "client_id": sso.client_id,
        "scopes": SCOPES,
        "auth_url": sso.auth_url,
        "token_url": sso.token_url,
        "api_url": sso.api_url,
        "use_pkce": True,
        "allow_sign_up": True,
        "role_attribute_path": role_attribute_path(sso),
        "role_attribute_strict": True,
    }
    out["envValueFrom"] = {CLIENT_SECRET_ENV: {"secretKeyRef": {"name": SSO_SECRET, "key": SSO_SECRET_KEY}}}
    return out

