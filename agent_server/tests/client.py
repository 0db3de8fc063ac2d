"""Talking to the agent server as Open WebUI does (Bearer key, forwarded chat and user headers)."""

from __future__ import annotations

import json
from typing import Any, Optional

import httpx2

from agent_server.tests.conftest import AGENT_KEY


def headers(chat_id: Optional[str] = None, user_id: Optional[str] = None, key: str = AGENT_KEY) -> dict[str, str]:
    out = {"Authorization": f"Bearer {key}"}
    if chat_id:
        out["X-OpenWebUI-Chat-Id"] = chat_id
    if user_id:
        out["X-OpenWebUI-User-Id"] = user_id
    return out


def chat(url: str, model: str, prompt: str, earlier: Optional[list[dict[str, str]]] = None,
         **kwargs: Any) -> httpx2.Response:
    """One completion; `earlier` are the chat's previous messages, which Open WebUI always resends."""
    body = {"model": model, "messages": [*(earlier or []), {"role": "user", "content": prompt}]}
    return httpx2.post(f"{url}/v1/chat/completions", json=body, headers=headers(**kwargs), timeout=60)


def stream(url: str, model: str, prompt: str, **kwargs: Any) -> list[dict[str, Any] | str]:
    """The SSE `data:` payloads of a streamed completion, parsed ("[DONE]" kept as a string)."""
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True,
            "stream_options": {"include_usage": True}}
    events: list[dict[str, Any] | str] = []
    with httpx2.stream("POST", f"{url}/v1/chat/completions", json=body, headers=headers(**kwargs),
                       timeout=60) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                data = line[len("data: "):]
                events.append(data if data == "[DONE]" else json.loads(data))
    return events


def streamed_text(events: list[dict[str, Any] | str]) -> str:
    return "".join(e["choices"][0]["delta"].get("content") or "" for e in events
                   if isinstance(e, dict) and e.get("choices"))
