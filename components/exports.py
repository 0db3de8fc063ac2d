"""How people reach each UI and API: service names, ports and port-forward commands."""

from __future__ import annotations

from components.settings import Settings

# service -> (service port, suggested local port, what it is)
ENTRY_POINTS = {
    "open-webui": (80, 3000, "chat UI"),
    "litellm": (4000, 4000, "OpenAI-compatible API (Bearer: litellmMasterKey)"),
    "langfuse": (3000, 3001, "traces UI (langfuseAdminEmail / langfuseAdminPassword)"),
    "custom-server": (5000, 5000, "agent server"),
}


def access_instructions(settings: Settings, namespace: str) -> dict[str, dict[str, object]]:
    """One entry per reachable service, including every self-hosted model."""
    entries = dict(ENTRY_POINTS)
    for model in settings.models:
        entries[model.service_name] = (8000, 8000, f"vLLM serving {model.name}")
    return {
        service: {
            "service": f"{service}.{namespace}.svc.cluster.local:{port}",
            "portForward": f"kubectl port-forward -n {namespace} svc/{service} {local}:{port}",
            "what": what,
        }
        for service, (port, local, what) in entries.items()
    }
