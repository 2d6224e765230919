"""The Bedrock operation table: every row names a real operation and reads real payloads."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest

from otel_chatbot.genai.bedrock_operations import BEDROCK_OPERATIONS
from otel_chatbot.genai.streams import InvokeStreamAccumulator

SERVICES = [
    botocore.session.get_session().get_service_model(name) for name in ("bedrock-runtime", "bedrock-agent-runtime")
]
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def operation_model(name: str) -> Any:
    (found,) = [service.operation_model(name) for service in SERVICES if name in service.operation_names]
    return found


@pytest.mark.parametrize("name", sorted(BEDROCK_OPERATIONS))
def test_each_row_is_an_sdk_operation_and_its_stream_key_is_the_streamed_member(name: str) -> None:
    model = operation_model(name)
    row = BEDROCK_OPERATIONS[name]
    streamed = {
        member
        for member, shape in model.output_shape.members.items()
        if shape.serialization.get("eventstream") or (shape.type_name == "blob" and model.has_streaming_output)
    }
    if row.stream is not None:
        assert streamed == {row.stream.result_key}
    else:
        assert streamed == ({row.buffered_body} if row.buffered_body else set())


@pytest.mark.parametrize("name", sorted(BEDROCK_OPERATIONS))
def test_each_row_names_bedrock_as_the_provider_even_for_empty_parameters(name: str) -> None:
    request = BEDROCK_OPERATIONS[name].request({})
    assert request.provider_name == "aws.bedrock"
    assert request.attributes()["gen_ai.provider.name"] == "aws.bedrock"


def test_invoke_model_reads_the_buffered_body_and_the_token_headers() -> None:
    row = BEDROCK_OPERATIONS["InvokeModel"]
    params = {"modelId": MODEL, "body": json.dumps({"max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]})}
    result = {
        "body": json.dumps({"id": "msg_1", "content": [{"type": "text", "text": "yo"}], "stop_reason": "end_turn"}),
        "ResponseMetadata": {
            "HTTPHeaders": {"x-amzn-bedrock-input-token-count": "7", "x-amzn-bedrock-output-token-count": "2"}
        },
    }
    assert row.request(params).max_tokens == 9
    assert row.response is not None and row.output_messages is not None and row.input_messages is not None
    response = row.response(params, result)
    assert (response.response_id, response.usage.input_tokens, response.usage.output_tokens) == ("msg_1", 7, 2)
    assert row.input_messages(params) == [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    assert row.output_messages(params, result) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "yo"}], "finish_reason": "stop"}
    ]


def test_an_unread_body_still_gives_the_header_counts() -> None:
    """Async clients: the wiring cannot read the body without blocking, so it stays a stream object."""
    row = BEDROCK_OPERATIONS["InvokeModel"]
    result = {"body": object(), "ResponseMetadata": {"HTTPHeaders": {"X-Amzn-Bedrock-Output-Token-Count": "3"}}}
    assert row.response is not None and row.response({"modelId": MODEL}, result).usage.output_tokens == 3


def test_stream_rows_build_a_fresh_accumulator_for_the_calls_model() -> None:
    spec = BEDROCK_OPERATIONS["InvokeModelWithResponseStream"].stream
    assert spec is not None
    first, second = spec.accumulator({"modelId": MODEL}, True), spec.accumulator({"modelId": MODEL}, False)
    assert isinstance(first, InvokeStreamAccumulator) and first is not second
    first.feed({"type": "message_start", "message": {"id": "msg_9"}})  # read as the model's family writes it
    assert first.response().response_id == "msg_9"
    assert second.response().response_id is None
