"""Bedrock runtime stand-in for the Converse API, with the AWS event-stream encoder.

``POST /model/{modelId}/converse`` and ``/converse-stream``, the latter in the AWS event-stream
binary framing.  LiteLLM is pointed at it with ``litellm_params.aws_bedrock_runtime_endpoint``
(or env ``AWS_BEDROCK_RUNTIME_ENDPOINT``).
"""

from __future__ import annotations

import binascii
import json
import re
import struct
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

from tests.gateway.http_stub import RecordedRequest, Response, StubServer, count_tokens

__all__ = ["BedrockStub", "encode_event_stream_message"]

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
                    words += count_tokens(str(block["text"]))
        for block in body.get("system", []) or []:
            if isinstance(block, dict) and "text" in block:
                words += count_tokens(str(block["text"]))
        prompt = max(1, words)
        completion = count_tokens(self.reply_text)
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

