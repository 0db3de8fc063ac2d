"""Langfuse stand-in: the OTLP/HTTP trace endpoint ``POST /api/public/otel/v1/traces``.

Accepts protobuf or JSON exports (``opentelemetry-proto`` decodes them) and keeps the spans as
plain dicts.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from tests.gateway.http_stub import RecordedRequest, Response, StubServer, wait_until

__all__ = ["OtlpStub", "basic_auth", "decode_trace_request"]

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
