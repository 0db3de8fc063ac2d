"""Langfuse stand-in: the OTLP trace endpoint (the gateway harness's ``OtlpStub``) plus the
Metrics API v2 (``GET /api/public/v2/metrics?query=<json>``) answering canned rows."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from tests.gateway.http_stub import RecordedRequest, Response
from tests.gateway.otlp_stub import OtlpStub, basic_auth


class LangfuseStub(OtlpStub):
    name = "langfuse"

    def __init__(self, public_key: str, secret_key: str, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.expected_auth = basic_auth(public_key, secret_key)
        self.rows = rows

    @property
    def metric_queries(self) -> list[dict[str, Any]]:
        return [json.loads(parse_qs(r.query)["query"][0]) for r in self.requests
                if r.method == "GET" and r.path == "/api/public/v2/metrics"]

    def route(self, request: RecordedRequest) -> Response:
        if request.method == "GET" and request.path == "/api/public/v2/metrics":
            if request.header("authorization") != self.expected_auth:
                return Response.json({"message": "Invalid credentials"}, status=401)
            return Response.json({"data": self.rows})
        return super().route(request)
