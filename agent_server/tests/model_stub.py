"""A scripted model behind the real LiteLLM proxy: it answers with tool calls, then with text.

The stand-in speaks the OpenAI chat API (plain and SSE, tool calls included) like vLLM does.
What it answers is decided by `script(messages, tools)`, which returns either
`ToolCall(name, arguments)` or a `str` reply; every request is recorded, so a test sees what the
agent sent back to the model (e.g. the tool's result).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Union

from tests.gateway.http_stub import RecordedRequest, Response, StubServer


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


Script = Callable[[list[dict[str, Any]], list[dict[str, Any]]], Union[ToolCall, str]]


def tool_results(messages: list[dict[str, Any]]) -> list[str]:
    """The contents of the `tool` messages the model was sent."""
    return [str(m.get("content")) for m in messages if m.get("role") == "tool"]


class ScriptedModel(StubServer):
    name = "scripted-model"

    def __init__(self, script: Script) -> None:
        super().__init__()
        self.script = script

    @property
    def api_base(self) -> str:
        return f"{self.url}/v1"

    @property
    def chat_bodies(self) -> list[dict[str, Any]]:
        return [r.json for r in self.requests if r.path.endswith("/chat/completions") and r.json]

    def route(self, request: RecordedRequest) -> Response:
        if request.path.endswith("/models"):
            return Response.json({"object": "list", "data": [{"id": "scripted", "object": "model"}]})
        if not request.path.endswith("/chat/completions") or not request.json:
            return Response.json({"error": {"message": "not found"}}, status=404)
        body = request.json
        answer = self.script(body.get("messages", []), body.get("tools") or [])
        words = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
        usage = {"prompt_tokens": words, "completion_tokens": 7, "total_tokens": words + 7}
        if body.get("stream"):
            return Response(content_type="text/event-stream", chunks=self._stream(body, answer, usage))
        if isinstance(answer, ToolCall):
            message = {"role": "assistant", "content": None, "tool_calls": [self._call(answer)]}
            finish = "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": answer}, "stop"
        return Response.json({"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
                              "created": int(time.time()), "model": body.get("model"),
                              "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})

    @staticmethod
    def _call(answer: ToolCall) -> dict[str, Any]:
        return {"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                "function": {"name": answer.name, "arguments": json.dumps(answer.arguments)}}

    def _stream(self, body: dict[str, Any], answer: Union[ToolCall, str], usage: dict[str, int]) -> Iterator[bytes]:
        base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model")}

        def chunk(delta: dict[str, Any], finish: Any = None, **extra: Any) -> bytes:
            payload = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(payload)}\n\n".encode()

        yield chunk({"role": "assistant", "content": ""})
        if isinstance(answer, ToolCall):
            call = self._call(answer)
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2  # arguments arrive in pieces, as real models send them
            yield chunk({"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                                         "function": {"name": answer.name, "arguments": arguments[:half]}}]})
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[half:]}}]})
            yield chunk({}, "tool_calls")
        else:
            for i, word in enumerate(answer.split(" ")):
                yield chunk({"content": word if i == 0 else " " + word})
            yield chunk({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode()
        yield b"data: [DONE]\n\n"
