"""How people reach each UI and API: public URLs (front door), service names, port-forward commands."""

from __future__ import annotations

from components.front_door.plan import EXPOSED
from components.settings import Settings

# service -> (service port, suggested local port, what it is)
ENTRY_POINTS = {
    "open-webui": (80, 3000, "chat UI"),
    "litellm": (4000, 4000, "OpenAI-compatible API (Bearer: litellmMasterKey)"),
    "langfuse": (3000, 3001, "traces UI (langfuseAdminEmail / langfuseAdminPassword)"),
    "custom-server": (5000, 5000, "agent server"),
}
# The metrics stack's Grafana (kube-prometheus-stack release kps in `monitoring`)
GRAFANA = ("kps-grafana", "monitoring", 80, 3002, "dashboards (admin / grafanaAdminPassword; SSO with the front door)")


def protections(settings: Settings) -> list[str]:
    """What guards the front door's URLs, in the order a request meets them."""
    fd = settings.front_door
    found = ["TLS (HTTP redirected to HTTPS)", f"{fd.scheme} ALB"]
    if fd.restricted_cidrs:
        found.append(f"allow-list {', '.join(fd.restricted_cidrs)}")
    if fd.waf.enabled:
        found.append(f"WAF ({', '.join(fd.waf.managed_rule_groups)})")
    return found


def access_instructions(settings: Settings, namespace: str) -> dict[str, dict[str, object]]:
    """One entry per reachable service, including every self-hosted model. Services behind the
    front door also carry their https `url` and what protects it; port-forward stays the fallback."""
    entries = dict(ENTRY_POINTS)
    for model in settings.models:
        entries[model.service_name] = (8000, 8000, f"vLLM serving {model.name}")
    access = {
        service: {
            "service": f"{service}.{namespace}.svc.cluster.local:{port}",
            "portForward": f"kubectl port-forward -n {namespace} svc/{service} {local}:{port}",
            "what": what,
        }
        for service, (port, local, what) in entries.items()
    }
    if settings.monitoring.enabled:
        service, grafana_ns, port, local, what = GRAFANA
        access["grafana"] = {"service": f"{service}.{grafana_ns}.svc.cluster.local:{port}",
                             "portForward": f"kubectl port-forward -n {grafana_ns} svc/{service} {local}:{port}",
                             "what": what}
    fd = settings.front_door
    for route, (app, _) in EXPOSED.items():
        url = fd.url(route)
        if url:
            sso = f"SSO ({fd.sso.provider})" if fd.sso.enabled and route != "api" else None
            app_auth = "API key (Bearer)" if route == "api" else "app login"
            access[app] |= {"url": url, "protectedBy": [*protections(settings), sso or app_auth]}
    return access
