"""In-process stand-ins for the gateway's backends, served on 127.0.0.1 (re-exported here).

- ``http_stub``: the shared base, ``StubServer`` (a stoppable threaded loopback HTTP server that
  records every request), ``RecordedRequest``, ``Response`` and ``wait_until``.
- ``openai_stub.OpenAIStub``: vLLM's OpenAI-compatible API (``GET /v1/models``,
  ``POST /v1/chat/completions`` plain and SSE streaming).
- ``bedrock_stub.BedrockStub``: Bedrock runtime Converse API (``/model/{modelId}/converse`` and
  ``/converse-stream`` in the AWS event-stream framing, ``encode_event_stream_message``).
- ``otlp_stub.OtlpStub``: Langfuse's OTLP/HTTP endpoint ``POST /api/public/otel/v1/traces``
  (protobuf or JSON), decoding spans into plain dicts; ``basic_auth`` for its keys.
"""

from __future__ import annotations

from tests.gateway.bedrock_stub import BedrockStub, encode_event_stream_message
from tests.gateway.http_stub import RecordedRequest, Response, StubServer, wait_until
from tests.gateway.openai_stub import OpenAIStub
from tests.gateway.otlp_stub import OtlpStub, basic_auth, decode_trace_request

__all__ = [
    "BedrockStub",
    "OpenAIStub",
    "OtlpStub",
    "RecordedRequest",
    "Response",
    "StubServer",
    "basic_auth",
    "decode_trace_request",
    "encode_event_stream_message",
    "wait_until",
]
