"""The loopback stand-ins on their own (no proxy): Bedrock's event-stream encoding, the OTLP stub."""

from __future__ import annotations

import json

import pytest

from tests.gateway.stubs import OtlpStub

LLAMA = "llama-3.2-1b"


def test_event_stream_encoding_round_trips_through_botocore() -> None:
    from botocore.eventstream import EventStreamBuffer

    from tests.gateway.bedrock_stub import encode_event_stream_message

    headers = {":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event"}
    payload = json.dumps({"contentBlockIndex": 0, "delta": {"text": "hé"}}).encode()
    buffer = EventStreamBuffer()
    encoded = encode_event_stream_message(headers, payload) * 2
    buffer.add_data(encoded[:7])  # split mid-prelude, as a network read would
    buffer.add_data(encoded[7:])
    events = [event.to_response_dict() for event in buffer]  # verifies both CRCs
    assert events == [{"status_code": 200, "headers": headers, "body": payload}] * 2


def test_otlp_stub_decodes_json_exports_and_stops() -> None:
    import urllib.error
    import urllib.request

    with OtlpStub() as otlp:
        body = {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "litellm"}}]},
                    "scopeSpans": [
                        {
                            "scope": {"name": "test"},
                            "spans": [
                                {
                                    "traceId": "5b8efff798038103d269b633813fc60c",
                                    "spanId": "eee19b7ec3c1b174",
                                    "name": "litellm_request",
                                    "attributes": [
                                        {"key": "llm.token_count.prompt", "value": {"intValue": "7"}},
                                        {"key": "llm.model_name", "value": {"stringValue": LLAMA}},
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ]
        }
        request = urllib.request.Request(
            f"{otlp.url}/api/public/otel/v1/traces",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Basic eA=="},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        [span] = otlp.spans
        assert span["trace_id"] == "5b8efff798038103d269b633813fc60c"
        assert span["span_id"] == "eee19b7ec3c1b174"
        assert span["attributes"] == {"llm.token_count.prompt": 7, "llm.model_name": LLAMA}
        assert span["resource"] == {"service.name": "litellm"}
        assert otlp.auth_headers == ["Basic eA=="]
        otlp.stop()
        with pytest.raises(urllib.error.URLError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert isinstance(refused.value.reason, ConnectionRefusedError)
