"""The OpenAI chat-completions wire format: request validation, errors, responses and SSE chunks."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from starlette.responses import JSONResponse


class ApiError(Exception):
    """An OpenAI-style error: `{"error": {"message", "type", "param", "code"}}` with an HTTP status."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: Optional[str] = None, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status)


class TextContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: Optional[str] = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Union[str, list[TextContentPart], None] = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """What this server reads of a request; other OpenAI fields (temperature, ...) are accepted and
    ignored: the agents choose their own settings."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: Optional[StreamOptions] = None


def parse_request(body: bytes) -> ChatCompletionRequest:
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "the request body must be a JSON object")
    try:
        return ChatCompletionRequest.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"])
        raise ApiError(400, f"invalid {param or 'request'}: {first['msg']}", param=param or None) from None


def _text(message: ChatMessage, index: int) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    texts = []
    for part in message.content:
        if part.type != "text":
            raise ApiError(400, f"messages[{index}]: content part type {part.type!r} is not supported (text only)",
                           param=f"messages.{index}.content")
        texts.append(part.text or "")
    return "\n".join(texts)


def conversation(request: ChatCompletionRequest) -> tuple[str, list[ModelMessage], list[str]]:
    """(the new user prompt, the earlier turns as model messages, the caller's system instructions)."""
    *earlier, last = request.messages
    if last.role != "user":
        raise ApiError(400, f"the last message must have role 'user', not {last.role!r}",
                       param=f"messages.{len(request.messages) - 1}.role")
    prompt = _text(last, len(request.messages) - 1)
    if not prompt.strip():
        raise ApiError(400, "the last user message is empty", param=f"messages.{len(request.messages) - 1}.content")
    history: list[ModelMessage] = []
    instructions: list[str] = []
    for index, message in enumerate(earlier):
        text = _text(message, index)
        if message.role in ("system", "developer"):
            instructions.append(text)
        elif message.role == "user":
            history.append(ModelRequest(parts=[UserPromptPart(text)]))
        elif message.role == "assistant":
            history.append(ModelResponse(parts=[TextPart(text)]))
        else:
            raise ApiError(400, f"messages[{index}]: role 'tool' is not accepted: the agents run their own tools",
                           param=f"messages.{index}.role")
    return prompt, history, instructions


class Completion:
    """Builds the response objects of one completion (one id and timestamp for all its chunks)."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def message(self, text: str, usage: dict[str, int]) -> dict[str, Any]:
        return {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": usage,
        }

    def chunk(self, delta: dict[str, Any], finish_reason: Optional[str] = None) -> str:
        return self._sse({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        })

    def usage_chunk(self, usage: dict[str, int]) -> str:
        return self._sse({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                          "model": self.model, "choices": [], "usage": usage})

    @staticmethod
    def error_chunk(error: ApiError) -> str:
        return Completion._sse({"error": {"message": error.message, "type": error.type, "param": error.param,
                                          "code": error.code}})

    @staticmethod
    def _sse(payload: dict[str, Any]) -> str:
        return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"

    DONE = "data: [DONE]\n\n"


def usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens}
