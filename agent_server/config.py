"""The server's settings, read once from the environment (the Deployment sets them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlparse


class ConfigError(ValueError):
    """A missing or malformed environment variable; the message names it and says how to fix it."""


def _required(env: Mapping[str, str], name: str, hint: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: {hint}")
    return value


def _url(env: Mapping[str, str], name: str, hint: str, *, required: bool = True) -> Optional[str]:
    value = (env.get(name) or "").strip().rstrip("/")
    if not value and not required:
        return None
    if not value:
        raise ConfigError(f"{name} is not set: {hint}")
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name}={value!r} is not an http(s) URL: {hint}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number: set {low}..{high} (default {default})") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range: set {low}..{high} (default {default})")
    return value


@dataclass(frozen=True)
class Config:
    """Everything the server needs; secrets come from a Kubernetes Secret through env vars."""

    api_key: str
    """The key callers (Open WebUI) present as `Authorization: Bearer <key>`."""
    gateway_url: str
    """LiteLLM's base URL (no /v1); the only place models are called."""
    gateway_key: str
    """The agent server's own LiteLLM key."""
    model: str
    """The LiteLLM model name the agents think with."""
    database_url: str
    """The agent server's own PostgreSQL database (conversation memory, notes)."""
    langfuse_url: Optional[str]
    """Langfuse web (traces to <url>/api/public/otel, metrics API); unset = no tracing, no metrics tools."""
    langfuse_public_key: Optional[str]
    langfuse_secret_key: Optional[str]
    history_runs: int = 20
    """How many earlier runs of a chat go back to the model (older ones stay stored)."""
    port: int = 5000
    gateway_user_header: str = "X-OpenWebUI-User-Id"
    """The header LiteLLM reads the end user from (its general_settings.user_header_name)."""
    gateway_session_header: str = "X-LiteLLM-Session-Id"
    """The header LiteLLM makes the trace's session from (litellm/proxy/litellm_pre_call_utils.py)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Config:
        langfuse = _url(env, "LANGFUSE_HOST", "Langfuse's base URL, e.g. http://langfuse:3000", required=False)
        public, secret = (env.get("LANGFUSE_PUBLIC_KEY") or "").strip(), (env.get("LANGFUSE_SECRET_KEY") or "").strip()
        if langfuse and not (public and secret):
            raise ConfigError("LANGFUSE_HOST is set but LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY are not: set both "
                              "project keys (pk-lf-..., sk-lf-...) or unset LANGFUSE_HOST")
        database_url = _required(env, "DATABASE_URL", "postgresql://<role>:<password>@<host>:5432/<database>")
        if not database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                "DATABASE_URL is not a postgresql:// URL: postgresql://<role>:<password>@<host>:5432/<db>")
        return cls(
            api_key=_required(env, "AGENT_SERVER_API_KEY", "the key Open WebUI sends as Bearer token"),
            gateway_url=_url(env, "LITELLM_BASE_URL", "LiteLLM's base URL, e.g. http://litellm:4000"),
            gateway_key=_required(env, "LITELLM_API_KEY", "the agent server's LiteLLM key (sk-...)"),
            model=_required(env, "AGENT_MODEL", "a model name LiteLLM serves (its model_list model_name)"),
            database_url=database_url,
            langfuse_url=langfuse,
            langfuse_public_key=public or None,
            langfuse_secret_key=secret or None,
            history_runs=_int(env, "AGENT_HISTORY_RUNS", 20, 1, 500),
            port=_int(env, "PORT", 5000, 1, 65535),
            gateway_user_header=(env.get("GATEWAY_USER_HEADER") or "").strip() or cls.gateway_user_header,
            gateway_session_header=(env.get("GATEWAY_SESSION_HEADER") or "").strip() or cls.gateway_session_header,
        )
