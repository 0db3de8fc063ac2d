"""A test's side of a running gateway proxy: what the gateway test modules share.

``chat`` sends one OpenAI-style chat request (plain or SSE streaming) through an ``httpx.Client``
and returns text, usage and body; ``metric_value`` reads a Prometheus scrape; ``is_request_span``
picks a request's span out of the ``OtlpStub``; ``wait_until_served_by`` waits for a stopped and
restarted backend to get requests again.  Nothing here imports ``httpx``, ``litellm`` or ``yaml``
at import time, so a test module can call ``require_installed`` before it imports any of them;
``require_litellm_runs`` fails a module's proxy fixture when the console script is missing.
requirements-dev.txt installs all of it: a missing piece fails loudly instead of skipping.
"""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.gateway.http_stub import wait_until

__all__ = ["Chat", "chat", "is_request_span", "metric_value", "require_installed", "require_litellm_runs",
           "unique_prompt", "wait_until_served_by"]


def require_installed(*requirements: tuple[str, str]) -> None:
    """Fail the calling test module unless every ``(module, pip install argument)`` is importable.

    find_spec, not importorskip: importing litellm here would make the test process fetch the
    remote model cost map (the proxy subprocess gets LITELLM_LOCAL_MODEL_COST_MAP=True, this one
    does not)."""
    for module, install in requirements:
        if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
            raise ImportError(f"needs pip install {install} (requirements-dev.txt installs it: run make test)")


def require_litellm_runs() -> None:
    """Fail (the calling fixture's tests) when there is no ``litellm`` console script to start."""
    from tests.gateway.proxy import ProxyStartError, litellm_executable  # noqa: PLC0415 - proxy imports yaml

    try:
        litellm_executable()
    except ProxyStartError as exc:
        pytest.fail(str(exc))


def unique_prompt(label: str) -> str:
    """A prompt no other request sends, so the response cache never answers a test by accident."""
    return f"{label} {uuid.uuid4().hex}"


@dataclass
class Chat:
    status: int
    text: str
    usage: dict[str, Any] | None
    headers: Any  # httpx.Headers
    body: Any  # JSON body (non-streaming) or list of chunk dicts (streaming)


def chat(client: Any, model: str, prompt: str, *, stream: bool = False, headers: dict[str, str] | None = None,
         **extra: Any) -> Chat:
    """POST ``/v1/chat/completions`` with one user message through ``client`` (an ``httpx.Client``),
    with ``headers`` added to the client's."""
    payload: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}
    if not stream:
        response = client.post("/v1/chat/completions", json=payload, headers=headers)
        body = response.json()
        if response.status_code != 200:
            return Chat(response.status_code, "", None, response.headers, body)
        return Chat(200, body["choices"][0]["message"]["content"], body.get("usage"), response.headers, body)
    payload.update(stream=True, stream_options={"include_usage": True})
    chunks: list[dict[str, Any]] = []
    with client.stream("POST", "/v1/chat/completions", json=payload, headers=headers) as response:
        if response.status_code != 200:
            response.read()
            return Chat(response.status_code, "", None, response.headers, response.text)
        done = False
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[len("data: ") :]
            if data == "[DONE]":
                done = True
                break
            chunks.append(json.loads(data))
    assert done, "stream ended without data: [DONE]"
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c.get("choices"))
    usage = next((c["usage"] for c in reversed(chunks) if c.get("usage")), None)
    return Chat(200, text, usage, response.headers, chunks)


def metric_value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` in a Prometheus text scrape whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def is_request_span(prompt: str) -> Callable[[dict[str, Any]], bool]:
    """Predicate for the OTLP stub's spans: LiteLLM's ``litellm_request`` span of the request with ``prompt``."""

    def matches(span: dict[str, Any]) -> bool:
        return span["name"] == "litellm_request" and prompt in str(
            span["attributes"].get("langfuse.observation.input", "")
        )

    return matches


def wait_until_served_by(client: Any, stub: Any, model: str, *, label: str, timeout: float, message: str) -> None:
    """After a backend outage, wait until ``model`` requests reach ``stub`` again (router cooldown over)."""

    def reached() -> bool:
        before = len(stub.chat_requests)
        return chat(client, model, unique_prompt(label)).status == 200 and len(stub.chat_requests) > before

    wait_until(reached, timeout=timeout, interval=0.5, message=message)
