"""vLLM stand-in: the OpenAI-compatible API (``GET /v1/models``, ``POST /v1/chat/completions``
plain and SSE streaming, with the usage chunk when ``stream_options.include_usage`` is asked)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from tests.gateway.http_stub import RecordedRequest, Response, StubServer, count_tokens

__all__ = ["OpenAIStub"]


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
    ``api_base: f"{stub.url}/v1"``.  ``delay`` (seconds, settable) holds each chat request before
    it answers; ``max_in_flight`` is the most chat requests it ever held at once.
    """

    name = "openai"

    def __init__(
        self, models: Iterable[str] = ("llama-3.2-1b",), reply_text: str = "Hello from the vLLM stub.", port: int = 0
    ) -> None:
        super().__init__(port)
        self.models = list(models)
        self.reply_text = reply_text
        self.delay = 0.0
        self._in_flight = 0
        self.max_in_flight = 0
        self._flight_lock = threading.Lock()

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
            with self._flight_lock:
                self._in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                if self.delay:
                    time.sleep(self.delay)
                return self._chat(request.json or {})
            finally:
                with self._flight_lock:
                    self._in_flight -= 1
        return Response.json({"error": {"message": f"no route {request.method} {request.path}"}}, status=404)

    def _usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        prompt = sum(
            count_tokens(_message_text(m.get("content"))) for m in body.get("messages", []) if isinstance(m, dict)
        )
        completion = count_tokens(self.reply_text)
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

