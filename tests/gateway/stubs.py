"""In-process stand-ins for the gateway's backends, served on 127.0.0.1.

Each stub is a ``http.server.ThreadingHTTPServer`` on a free loopback port, run in a daemon
thread.  Standard library only (plus ``opentelemetry-proto`` for the OTLP stub), so there is no
event loop to share with the test and nothing that can leak past ``stop()``.

Every response is sent with ``Connection: close`` (HTTP/1.0 semantics): no client keeps a pooled
connection to a stub, so after ``stop()`` the next request really gets *connection refused*
(a keep-alive connection would otherwise still reach a handler thread of a "stopped" server).
``start()`` binds the same port again, so a config rendered once stays valid across restarts.

- ``OpenAIStub``: vLLM's OpenAI-compatible API (``GET /v1/models``, ``POST /v1/chat/completions``
  plain and SSE streaming, with the usage chunk when ``stream_options.include_usage`` is asked).
- ``BedrockStub``: Bedrock runtime Converse API (``POST /model/{modelId}/converse`` and
  ``/converse-stream``, the latter in the AWS event-stream binary framing).  LiteLLM is pointed at it
  with ``litellm_params.aws_bedrock_runtime_endpoint`` (or env ``AWS_BEDROCK_RUNTIME_ENDPOINT``).
- ``OtlpStub``: Langfuse's OTLP/HTTP endpoint ``POST /api/public/otel/v1/traces`` (protobuf or
  JSON), decoding spans into plain dicts.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import struct
import threading
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "BedrockStub",
    "OpenAIStub",
    "OtlpStub",
    "RecordedRequest",
    "StubServer",
    "basic_auth",
    "decode_trace_request",
    "encode_event_stream_message",
    "wait_until",
]

LOOPBACK = "127.0.0.1"


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, message: str = "") -> Any:
    """Poll ``predicate`` until it returns a truthy value; return it, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(message or f"condition not met within {timeout:.1f}s")
        time.sleep(interval)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as a stub received it."""

    method: str
    path: str  # raw request path, without the query string
    query: str
    headers: dict[str, str]  # header names lower-cased
    body: bytes
    json: Any = None  # parsed body when it was JSON, else None
    received_at: float = field(default_factory=time.time)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    """What a stub's route returns: a plain body, or ``chunks`` streamed one write at a time."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return cls(status=status, body=json.dumps(payload).encode(), headers=dict(headers or {}))


class _QuietThreadingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002
        # A client that hangs up mid-stream is normal here (e.g. the proxy timing out); keep the
        # pytest output clean instead of printing a traceback per dropped connection.
        return


class StubServer:
    """Base class: a stoppable loopback HTTP server that records every request it gets."""

    name = "stub"

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._server: _QuietThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._forced_failures: list[tuple[int, bytes]] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> StubServer:
        if self._server is not None:
            return self
        server = _QuietThreadingHTTPServer((LOOPBACK, self._port), self._make_handler())
        self._port = server.server_address[1]  # keep the port for a later restart
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.name}-{self._port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket: new connections are refused until ``start()``."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError(f"{self.name} has not been started yet")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
        return f"http://{LOOPBACK}:{self.port}"

    # -- recording ---------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def call_count(self) -> int:
        """Number of requests received (every route, including ones answered with an error)."""
        with self._lock:
            return len(self._requests)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._forced_failures.clear()

    def fail_next(self, status: int = 500, times: int = 1, body: bytes | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (they are still recorded)."""
        payload = (
            body if body is not None else json.dumps({"error": {"message": f"forced {status} by {self.name}"}}).encode()
        )
        with self._lock:
            self._forced_failures.extend([(status, payload)] * times)

    def _record(self, request: RecordedRequest) -> tuple[int, bytes] | None:
        with self._lock:
            self._requests.append(request)
            return self._forced_failures.pop(0) if self._forced_failures else None

    # -- routing (subclasses) ------------------------------------------------------------------
    def route(self, request: RecordedRequest) -> Response:  # pragma: no cover - overridden
        return Response.json({"error": "not found"}, status=404)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            server_version = f"{stub.name}-stub"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return bytes(data)
                        data += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                raw_path, _, query = self.path.partition("?")
                body = self._read_body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                parsed: Any = None
                if body and "json" in headers.get("content-type", "json"):
                    try:
                        parsed = json.loads(body)
                    except ValueError:
                        parsed = None
                request = RecordedRequest(self.command, raw_path, query, headers, body, parsed)
                forced = stub._record(request)
                if forced is not None:
                    response = Response(status=forced[0], body=forced[1])
                else:
                    try:
                        response = stub.route(request)
                    except Exception as exc:  # surface stub bugs as a 500 the test can see
                        response = Response.json({"error": {"message": f"{stub.name} stub error: {exc!r}"}}, status=500)
                self._send(response)

            def _send(self, response: Response) -> None:
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Connection", "close")
                for key, value in response.headers.items():
                    self.send_header(key, value)
                if response.chunks is None:
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(response.body)
                    return
                self.end_headers()  # close-delimited body: ends when the connection closes
                for chunk in response.chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler


# ============================================================================================
# OpenAI-compatible (vLLM) stand-in
# ============================================================================================


def _count_tokens(text: str) -> int:
    return max(1, len(text.split()))


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


class OpenAIStub(StubServer):
    """vLLM stand-in speaking the OpenAI API under ``/v1`` (also accepted without the prefix).

    The reply is ``reply_text`` (settable).  Usage is deterministic: prompt tokens = words in all
    messages, completion tokens = words in the reply.  In LiteLLM config use
    ``api_base: f"{stub.url}/v1"``.
    """

    name = "openai"

    def __init__(
        self, models: Iterable[str] = ("llama-3.2-1b",), reply_text: str = "Hello from the vLLM stub.", port: int = 0
    ) -> None:
        super().__init__(port)
        self.models = list(models)
        self.reply_text = reply_text

    @property
    def api_base(self) -> str:
        return f"{self.url}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/").endswith("/chat/completions")]

    def route(self, request: RecordedRequest) -> Response:
        path = request.path.rstrip("/")
        if path.startswith("/v1"):
            path = path[3:]
        if request.method == "GET" and path in ("/health", ""):
            return Response(status=200, body=b"", content_type="text/plain")
        if request.method == "GET" and path == "/models":
            return Response.json(
                {
                    "object": "list",
                    "data": [
                        {
                            "id": m,
                            "object": "model",
                            "created": 1_700_000_000,
                            "owned_by": "vllm",
                            "root": m,
                            "max_model_len": 8192,
                        }
                        for m in self.models
                    ],
                }
            )
        if request.method == "POST" and path == "/chat/completions":
            return self._chat(request.json or {})
        return Response.json({"error": {"message": f"no route {request.method} {request.path}"}}, status=404)

    def _usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        prompt = sum(
            _count_tokens(_message_text(m.get("content"))) for m in body.get("messages", []) if isinstance(m, dict)
        )
        completion = _count_tokens(self.reply_text)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _chat(self, body: Mapping[str, Any]) -> Response:
        model = body.get("model") or (self.models[0] if self.models else "unknown")
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        usage = self._usage(body)
        if not body.get("stream"):
            return Response.json(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": self.reply_text},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": usage,
                }
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Response(
            status=200,
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
            chunks=self._sse(completion_id, created, model, usage, include_usage),
        )

    def _sse(self, completion_id: str, created: int, model: str, usage: dict[str, int], include_usage: bool):
        def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
                **extra,
            }
            return f"data: {json.dumps(payload)}\n\n".encode()

        yield chunk({"role": "assistant", "content": ""})
        words = self.reply_text.split(" ")
        for i, word in enumerate(words):
            yield chunk({"content": word if i == 0 else " " + word})
        yield chunk({}, "stop")
        if include_usage:
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            yield f"data: {json.dumps(payload)}\n\n".encode()
        yield b"data: [DONE]\n\n"


# ============================================================================================
# Bedrock runtime (Converse API) stand-in
# ============================================================================================

_EVENT_STREAM_STRING = 7  # header value type "string" in the AWS event-stream encoding


def encode_event_stream_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """Encode one AWS event-stream message (the ``application/vnd.amazon.eventstream`` framing).

    Layout: total length (u32) | headers length (u32) | prelude CRC32 (u32) | headers | payload |
    message CRC32 (u32), big-endian.  Each header: name length (u8), name, value type (u8; 7 =
    string), value length (u16), value.  ``botocore.eventstream.EventStreamBuffer`` (what LiteLLM
    decodes with) verifies both CRCs.
    """
    encoded_headers = bytearray()
    for name, value in headers.items():
        name_bytes, value_bytes = name.encode(), value.encode()
        encoded_headers += struct.pack(">B", len(name_bytes)) + name_bytes
        encoded_headers += struct.pack(">BH", _EVENT_STREAM_STRING, len(value_bytes)) + value_bytes
    total_length = 12 + len(encoded_headers) + len(payload) + 4
    prelude = struct.pack(">II", total_length, len(encoded_headers))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + bytes(encoded_headers) + payload
    return message + struct.pack(">I", binascii.crc32(message) & 0xFFFFFFFF)


def _converse_event(event_type: str, payload: Mapping[str, Any]) -> bytes:
    return encode_event_stream_message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(payload).encode(),
    )


_MODEL_PATH = re.compile(
    r"^/model/(?P<model>[^/]+)/(?P<op>converse|converse-stream|invoke|invoke-with-response-stream)$"
)


class BedrockStub(StubServer):
    """Bedrock runtime stand-in for the Converse API.

    LiteLLM routes ``bedrock/us.anthropic.claude-*`` (cross-region inference profiles) to
    ``/model/{modelId}/converse`` and ``/converse-stream``; ``modelId`` arrives URL-encoded
    (``:`` -> ``%3A``) and is recorded decoded in ``model_ids``.  Requests are SigV4-signed by
    LiteLLM with whatever (fake) credentials it has; the stub records the ``Authorization`` header
    but does not verify the signature.  ``invoke`` paths answer 404 (LiteLLM does not use them for
    these models).
    """

    name = "bedrock"

    def __init__(self, reply_text: str = "Hello from the Bedrock stub.", port: int = 0) -> None:
        super().__init__(port)
        self.reply_text = reply_text

    @property
    def model_calls(self) -> list[tuple[str, str, RecordedRequest]]:
        """``(model_id, operation, request)`` for every ``/model/...`` call, model id URL-decoded."""
        calls = []
        for r in self.requests:
            match = _MODEL_PATH.match(r.path)
            if match:
                calls.append((urllib.parse.unquote(match["model"]), match["op"], r))
        return calls

    @property
    def model_ids(self) -> list[str]:
        return [model for model, _, _ in self.model_calls]

    def route(self, request: RecordedRequest) -> Response:
        match = _MODEL_PATH.match(request.path)
        if request.method != "POST" or not match or match["op"] not in ("converse", "converse-stream"):
            return Response.json(
                {"message": f"Unknown operation {request.method} {request.path}"},
                status=404,
                headers={"x-amzn-ErrorType": "UnknownOperationException"},
            )
        body = request.json or {}
        usage = self._usage(body)
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        if match["op"] == "converse":
            return Response.json(
                {
                    "output": {"message": {"role": "assistant", "content": [{"text": self.reply_text}]}},
                    "stopReason": "end_turn",
                    "usage": usage,
                    "metrics": {"latencyMs": 12},
                },
                headers=headers,
            )
        return Response(
            status=200,
            content_type="application/vnd.amazon.eventstream",
            headers=headers,
            chunks=self._event_stream(usage),
        )

    def _usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        words = 0
        for message in body.get("messages", []):
            for block in message.get("content", []) if isinstance(message, dict) else []:
                if isinstance(block, dict) and "text" in block:
                    words += _count_tokens(str(block["text"]))
        for block in body.get("system", []) or []:
            if isinstance(block, dict) and "text" in block:
                words += _count_tokens(str(block["text"]))
        prompt = max(1, words)
        completion = _count_tokens(self.reply_text)
        return {"inputTokens": prompt, "outputTokens": completion, "totalTokens": prompt + completion}

    def _event_stream(self, usage: dict[str, int]):
        yield _converse_event("messageStart", {"role": "assistant"})
        words = self.reply_text.split(" ")
        for i, word in enumerate(words):
            yield _converse_event(
                "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": word if i == 0 else " " + word}}
            )
        yield _converse_event("contentBlockStop", {"contentBlockIndex": 0})
        yield _converse_event("messageStop", {"stopReason": "end_turn"})
        yield _converse_event("metadata", {"usage": usage, "metrics": {"latencyMs": 12}})


# ============================================================================================
# OTLP/HTTP (Langfuse) receiver
# ============================================================================================


def _any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return bytes(value.bytes_value)
    return getattr(value, kind)


def _attributes(key_values: Iterable[Any]) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in key_values}


_OTLP_JSON_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


def _otlp_json_ids_to_base64(node: Any) -> Any:
    """OTLP/JSON writes trace and span ids as hex; protobuf's JSON mapping expects base64 bytes."""
    if isinstance(node, dict):
        converted = {}
        for key, value in node.items():
            if key in _OTLP_JSON_ID_FIELDS and isinstance(value, str) and re.fullmatch(r"(?:[0-9a-fA-F]{2})*", value):
                value = base64.b64encode(bytes.fromhex(value)).decode()
            converted[key] = _otlp_json_ids_to_base64(value)
        return converted
    if isinstance(node, list):
        return [_otlp_json_ids_to_base64(item) for item in node]
    return node


def decode_trace_request(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """Decode an OTLP ``ExportTraceServiceRequest`` (protobuf or JSON) into plain span dicts."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    message = ExportTraceServiceRequest()
    if "json" in content_type:
        json_format.ParseDict(_otlp_json_ids_to_base64(json.loads(body)), message, ignore_unknown_fields=True)
    else:
        message.ParseFromString(body)
    spans: list[dict[str, Any]] = []
    for resource_spans in message.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "name": span.name,
                        "kind": span.kind,
                        "start_time_unix_nano": span.start_time_unix_nano,
                        "end_time_unix_nano": span.end_time_unix_nano,
                        "attributes": _attributes(span.attributes),
                        "status_code": span.status.code,
                        "status_message": span.status.message,
                        "events": [{"name": e.name, "attributes": _attributes(e.attributes)} for e in span.events],
                        "scope": scope_spans.scope.name,
                        "resource": resource,
                    }
                )
    return spans


class OtlpStub(StubServer):
    """Langfuse OTLP/HTTP trace receiver: ``POST /api/public/otel/v1/traces``.

    LiteLLM's ``langfuse_otel`` callback exports to ``<LANGFUSE_OTEL_HOST or LANGFUSE_HOST>/api/public/otel``
    + ``/v1/traces``, so set ``LANGFUSE_HOST=stub.url``.  ``spans`` holds decoded span dicts (with
    the ``authorization`` header of the export that carried them); ``auth_headers`` every export's
    ``Authorization``.  LiteLLM batches spans (``BatchSpanProcessor``): poll with ``wait_for_spans``.
    """

    name = "otlp"
    TRACES_PATHS = ("/api/public/otel/v1/traces", "/v1/traces")

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self._spans: list[dict[str, Any]] = []
        self.decode_errors: list[str] = []

    @property
    def host(self) -> str:
        """What to put in ``LANGFUSE_HOST``."""
        return self.url

    @property
    def spans(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._spans)

    @property
    def export_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path in self.TRACES_PATHS]

    @property
    def auth_headers(self) -> list[str | None]:
        return [r.header("authorization") for r in self.export_requests]

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._spans.clear()
            self.decode_errors.clear()

    def wait_for_spans(
        self, predicate: Callable[[dict[str, Any]], bool] = lambda s: True, count: int = 1, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """Wait until at least ``count`` received spans satisfy ``predicate``; return them."""

        def matching() -> list[dict[str, Any]]:
            found = [s for s in self.spans if predicate(s)]
            return found if len(found) >= count else []

        return wait_until(
            matching,
            timeout=timeout,
            interval=0.1,
            message=f"fewer than {count} matching spans after {timeout}s; got {len(self.spans)} spans in all",
        )

    def route(self, request: RecordedRequest) -> Response:
        if request.method != "POST" or request.path not in self.TRACES_PATHS:
            return Response.json({"message": "not found"}, status=404)
        content_type = request.header("content-type", "application/x-protobuf") or ""
        body = request.body
        encoding = (request.header("content-encoding") or "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        try:
            spans = decode_trace_request(body, content_type)
        except Exception as exc:
            with self._lock:
                self.decode_errors.append(repr(exc))
            return Response.json({"message": f"cannot decode: {exc!r}"}, status=400)
        authorization = request.header("authorization")
        with self._lock:
            for span in spans:
                span["authorization"] = authorization
            self._spans.extend(spans)
        if "json" in content_type:
            return Response.json({})
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

        return Response(
            status=200, body=ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )


def basic_auth(public_key: str, secret_key: str) -> str:
    """The ``Authorization`` value Langfuse expects: ``Basic base64(pk:sk)``."""
    return "Basic " + base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
