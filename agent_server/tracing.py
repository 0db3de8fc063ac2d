"""Agent runs as Langfuse traces: OpenTelemetry spans exported over OTLP/HTTP to Langfuse.

pydantic-ai emits one span per run (`invoke_agent <agent>`), per model step (`chat <model>`)
and per tool call (`execute_tool <tool>`). `RunAttributes` stamps every span started inside a
run with the chat and user: Langfuse maps `session.id` / `user.id` (and their `langfuse.`
forms) to the trace's session and user (langfuse.com OpenTelemetry attribute mapping; the
Langfuse JS SDK's LangfuseOtelSpanAttributes use the same keys).
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
from collections.abc import Iterator
from typing import Optional

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from agent_server.config import Config

OTEL_PATH = "/api/public/otel/v1/traces"
SERVICE_NAME = "agent-server"

_run_attributes: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("agent_run_attributes", default={})


def session_attributes(chat_id: Optional[str], user_id: Optional[str]) -> dict[str, str]:
    """The span attributes Langfuse reads a trace's session and user from."""
    attributes = {}
    if chat_id:
        attributes.update({"session.id": chat_id, "langfuse.session.id": chat_id})
    if user_id:
        attributes.update({"user.id": user_id, "langfuse.user.id": user_id})
    return attributes


@contextlib.contextmanager
def run_context(chat_id: Optional[str], user_id: Optional[str]) -> Iterator[None]:
    """Spans started inside get the chat's session and the caller's user."""
    token = _run_attributes.set(session_attributes(chat_id, user_id))
    try:
        yield
    finally:
        _run_attributes.reset(token)


class RunAttributes(SpanProcessor):
    """Copies the current run's session/user attributes onto every span it starts."""

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        attributes = _run_attributes.get()
        if attributes:
            span.set_attributes(attributes)


def basic_auth(public_key: str, secret_key: str) -> str:
    return "Basic " + base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()


def tracer_provider(config: Config) -> TracerProvider:
    """A provider exporting to Langfuse when it is configured (spans are dropped otherwise)."""
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(RunAttributes())
    if config.langfuse_url:
        exporter = OTLPSpanExporter(
            endpoint=f"{config.langfuse_url}{OTEL_PATH}",
            headers={
                "Authorization": basic_auth(config.langfuse_public_key or "", config.langfuse_secret_key or ""),
                # Langfuse v4 ingests OTLP spans in real time only with this header (Langfuse API reference,
                # "Real-time data")
                "x-langfuse-ingestion-version": "4",
            },
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
