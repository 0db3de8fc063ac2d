"""The preview's front-door lines: each public URL with what protects it, and the Helm releases
whose own objects the preview cannot show."""

from __future__ import annotations

from typing import Any

RELEASE = "kubernetes:helm.sh/v3:Release"


def url_lines(outputs: dict[str, Any]) -> list[str]:
    """`https://chat.example.com -> open-webui: TLS ..., allow-list ..., SSO (cognito)` per URL
    (from the `access` stack output, which the program builds from the settings)."""
    access = outputs.get("access")
    if not isinstance(access, dict):
        return []
    return [
        f"{entry['url']} -> {service}: {', '.join(entry.get('protectedBy') or ['nothing'])}"
        for service, entry in sorted(access.items())
        if isinstance(entry, dict) and entry.get("url")
    ]


def release_lines(entries: list[dict[str, Any]]) -> list[str]:
    """Helm releases: Helm renders and applies their objects at `pulumi up`, so neither this
    preview, the policy pack nor the NetworkPolicy tests see them."""
    lines = []
    for entry in entries:
        if entry["type"] != RELEASE:
            continue
        inputs = entry["inputs"]
        lines.append(
            f"Helm release {inputs.get('namespace', 'default')}/{inputs.get('name') or entry['name']} "
            f"(chart {inputs.get('chart')} {inputs.get('version')}): its own objects (Deployment, webhook, RBAC, "
            "CRDs) are rendered by Helm at `pulumi up` and are not visible in this preview"
        )
    return lines
