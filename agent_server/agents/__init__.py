"""The agents this server offers; each one is a model id in `GET /v1/models`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import httpx2
from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.models.instrumented import InstrumentationSettings

from agent_server.config import Config
from agent_server.memory import Store


@dataclass(frozen=True)
class RunDeps:
    """What a run's tools may use: settings, the database, an HTTP client, and who is asking."""

    config: Config
    store: Store
    http: httpx2.AsyncClient
    chat_id: Optional[str]
    user_id: Optional[str]


@dataclass(frozen=True)
class AgentDefinition:
    name: str
    """The model id Open WebUI shows."""
    description: str
    build: Callable[[Model, InstrumentationSettings], Agent[RunDeps, str]]


def definitions() -> dict[str, AgentDefinition]:
    """Every agent by model id."""
    from agent_server.agents import platform_assistant, research_assistant

    return {d.name: d for d in (platform_assistant.DEFINITION, research_assistant.DEFINITION)}
