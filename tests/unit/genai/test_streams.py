from __future__ import annotations

import json
from typing import Any

import pytest

from otel_chatbot.genai.streams import ConverseStreamAccumulator, InvokeStreamAccumulator
from otel_chatbot.genai.types import TokenUsage

CONVERSE_EVENTS: list[dict[str, Any]] = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"delta": {"text": "Hel"}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": "lo"}, "contentBlockIndex": 0}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {
        "contentBlockStart": {
            "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "weather"}},
            "contentBlockIndex": 1,
        }
    },
    {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"city": "Paris"}'}}, "contentBlockIndex": 1}},
    {"contentBlockStop": {"contentBlockIndex": 1}},
    {"messageStop": {"stopReason": "tool_use"}},
    {
        "metadata": {
            "usage": {
                "inputTokens": 30,
                "outputTokens": 25,
                "totalTokens": 1055,
                "cacheReadInputTokens": 1000,
            },
            "metrics": {"latencyMs": 1234},
        }
    },
]


def test_converse_stream_accumulates() -> None:
    acc = ConverseStreamAccumulator(capture_content=True)
    acc.feed(CONVERSE_EVENTS[0])
    assert acc.chunks == 0  # messageStart carries no content
    acc.feed(CONVERSE_EVENTS[1])
    assert acc.chunks == 1
    for event in CONVERSE_EVENTS[2:]:
        acc.feed(event)
    assert acc.chunks == 3
    assert acc.output_messages() == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Hello"},
                {"type": "tool_call", "id": "tooluse_1", "name": "weather", "arguments": {"city": "Paris"}},
            ],
            "finish_reason": "tool_call",
        }
    ]
    response = acc.response()
    assert response.finish_reasons == ("tool_use",)
    assert response.usage == TokenUsage(30, 25, 1000, None)
    assert response.usage.input_tokens == 1030
    assert response.server_latency_ms == 1234
    assert response.error_type is None


def test_converse_stream_partial_response_before_metadata() -> None:
    acc = ConverseStreamAccumulator()
    for event in CONVERSE_EVENTS[:3]:
        acc.feed(event)
    response = acc.response()
    assert response.usage.input_tokens is None
    assert response.finish_reasons == ()
    assert acc.output_messages() == []  # content not captured unless asked


@pytest.mark.parametrize(
    ("event", "error_type"),
    [
        ({"throttlingException": {"message": "Too many requests"}}, "ThrottlingException"),
        (
            {"modelStreamErrorException": {"message": "x", "originalStatusCode": 500}},
            "ModelStreamErrorException",
        ),
        ({"internalServerException": {"message": "x"}}, "InternalServerException"),
        ({"validationException": {"message": "x"}}, "ValidationException"),
        ({"serviceUnavailableException": {"message": "x"}}, "ServiceUnavailableException"),
    ],
)
def test_converse_stream_exception_events(event: dict[str, Any], error_type: str) -> None:
    acc = ConverseStreamAccumulator()
    acc.feed(CONVERSE_EVENTS[1])
    acc.feed(event)
    assert acc.response().error_type == error_type
    assert acc.response().attributes()["error.type"] == error_type


def test_converse_stream_guardrail_intervened() -> None:
    acc = ConverseStreamAccumulator(guardrail_configured=True)
    acc.feed({"messageStop": {"stopReason": "guardrail_intervened"}})
    assert acc.response().guardrail_intervened is True


@pytest.mark.parametrize(
    "event",
    [
        {},
        None,
        "x",
        {"contentBlockDelta": "oops"},
        {"metadata": {"usage": [1]}},
        {"messageStop": None},
        {"contentBlockDelta": {"delta": {"text": ""}}},
    ],
)
def test_converse_stream_odd_events(event: Any) -> None:
    acc = ConverseStreamAccumulator()
    acc.feed(event)
    assert acc.chunks == 0
    assert acc.response().usage == TokenUsage()


INVOCATION_METRICS = {
    "amazon-bedrock-invocationMetrics": {
        "inputTokenCount": 21,
        "outputTokenCount": 8,
        "invocationLatency": 930,
        "firstByteLatency": 210,
    }
}

STREAM_CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = [
    (
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        [
            {
                "type": "message_start",
                "message": {
                    "id": "msg_bdrk_01",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-3-5-haiku-20241022",
                    "content": [],
                    "stop_reason": None,
                    "usage": {
                        "input_tokens": 12,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 2048,
                        "output_tokens": 1,
                    },
                },
            },
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " there"}},
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 6},
            },
            {
                "type": "message_stop",
                "amazon-bedrock-invocationMetrics": {
                    "inputTokenCount": 12,
                    "outputTokenCount": 6,
                    "invocationLatency": 700,
                    "firstByteLatency": 300,
                    "cacheReadInputTokenCount": 2048,
                    "cacheWriteInputTokenCount": 0,
                },
            },
        ],
        {
            "id": "msg_bdrk_01",
            "model": "claude-3-5-haiku-20241022",
            "reasons": ("end_turn",),
            "usage": TokenUsage(12, 6, 2048, 0),
            "chunks": 2,
            "text": "Hi there",
            "first_byte": 300,
        },
    ),
    (
        "amazon.nova-micro-v1:0",
        [
            {"messageStart": {"role": "assistant"}},
            {"contentBlockDelta": {"delta": {"text": "Bon"}, "contentBlockIndex": 0}},
            {"contentBlockDelta": {"delta": {"text": "jour"}, "contentBlockIndex": 0}},
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "end_turn"}},
            {
                "metadata": {"usage": {"inputTokens": 4, "outputTokens": 2}, "metrics": {}, "trace": {}},
                **INVOCATION_METRICS,
            },
        ],
        {
            "reasons": ("end_turn",),
            "usage": TokenUsage(4, 2),
            "chunks": 2,
            "text": "Bonjour",
            "first_byte": 210,
        },
    ),
    (
        "amazon.titan-text-lite-v1",
        [
            {
                "outputText": "Once",
                "index": 0,
                "totalOutputTextTokenCount": 1,
                "completionReason": None,
                "inputTextTokenCount": 7,
            },
            {
                "outputText": " upon",
                "index": 0,
                "totalOutputTextTokenCount": 2,
                "completionReason": "FINISH",
                "inputTextTokenCount": None,
                **INVOCATION_METRICS,
            },
        ],
        {
            "reasons": ("FINISH",),
            "usage": TokenUsage(7, 2),
            "chunks": 2,
            "text": "Once upon",
            "first_byte": 210,
        },
    ),
    (
        "meta.llama3-8b-instruct-v1:0",
        [
            {"generation": "Hi", "prompt_token_count": 11, "generation_token_count": 1, "stop_reason": None},
            {"generation": "!", "prompt_token_count": None, "generation_token_count": 2, "stop_reason": None},
            {
                "generation": "",
                "prompt_token_count": None,
                "generation_token_count": 3,
                "stop_reason": "stop",
                **INVOCATION_METRICS,
            },
        ],
        {"reasons": ("stop",), "usage": TokenUsage(11, 3), "chunks": 2, "text": "Hi!", "first_byte": 210},
    ),
    (
        "cohere.command-r-v1:0",
        [
            {"is_finished": False, "event_type": "stream-start", "generation_id": "g"},
            {"is_finished": False, "event_type": "text-generation", "text": "Hel"},
            {"is_finished": False, "event_type": "text-generation", "text": "lo"},
            {
                "is_finished": True,
                "event_type": "stream-end",
                "finish_reason": "COMPLETE",
                "response": {"response_id": "resp-1", "text": "Hello"},
                **INVOCATION_METRICS,
            },
        ],
        {
            "id": "resp-1",
            "reasons": ("COMPLETE",),
            "usage": TokenUsage(21, 8),
            "chunks": 2,
            "text": "Hello",
            "first_byte": 210,
        },
    ),
    (
        "mistral.mistral-7b-instruct-v0:2",
        [
            {"outputs": [{"text": "Bon", "stop_reason": None}]},
            {"outputs": [{"text": "jour", "stop_reason": "stop"}], **INVOCATION_METRICS},
        ],
        {"reasons": ("stop",), "usage": TokenUsage(21, 8), "chunks": 2, "text": "Bonjour", "first_byte": 210},
    ),
    (
        "mistral.mistral-large-2407-v1:0",
        [
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "stop_reason": None}]},
            {
                "choices": [{"index": 0, "message": {"role": "assistant", "content": ""}, "stop_reason": "stop"}],
                **INVOCATION_METRICS,
            },
        ],
        {"reasons": ("stop",), "usage": TokenUsage(21, 8), "chunks": 1, "text": "Hi", "first_byte": 210},
    ),
    (
        "ai21.jamba-1-5-mini-v1:0",
        [
            {
                "id": "cmpl-1",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
            },
            {"id": "cmpl-1", "choices": [{"index": 0, "delta": {"content": "Hey"}, "finish_reason": None}]},
            {
                "id": "cmpl-1",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
                **INVOCATION_METRICS,
            },
        ],
        {
            "id": "cmpl-1",
            "reasons": ("stop",),
            "usage": TokenUsage(9, 1),
            "chunks": 1,
            "text": "Hey",
            "first_byte": 210,
        },
    ),
]


@pytest.mark.parametrize(("model_id", "chunks", "expected"), STREAM_CASES, ids=[c[0] for c in STREAM_CASES])
def test_invoke_stream_families(model_id: str, chunks: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    acc = InvokeStreamAccumulator(model_id, capture_content=True)
    for chunk in chunks:
        acc.feed(chunk)
    response = acc.response()
    assert response.response_id == expected.get("id")
    assert response.response_model == expected.get("model")
    assert response.finish_reasons == expected["reasons"]
    assert response.usage == expected["usage"]
    assert acc.chunks == expected["chunks"]
    assert "".join(part["content"] for m in acc.output_messages() for part in m["parts"]) == expected["text"]
    assert response.first_byte_latency_ms == expected["first_byte"]


def test_invoke_stream_accepts_raw_bytes_and_whole_events() -> None:
    body = {"generation": "Hi", "prompt_token_count": 3, "generation_token_count": 1, "stop_reason": "stop"}
    raw = json.dumps(body).encode()
    for fed in (raw, raw.decode(), {"chunk": {"bytes": raw}}):
        acc = InvokeStreamAccumulator("meta.llama3-8b-instruct-v1:0")
        acc.feed(fed)
        assert acc.response().usage == TokenUsage(3, 1)
        assert acc.chunks == 1


def test_invoke_stream_first_chunk_without_content() -> None:
    acc = InvokeStreamAccumulator("anthropic.claude-3-haiku-20240307-v1:0")
    acc.feed({"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 5, "output_tokens": 1}}})
    acc.feed({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    assert acc.chunks == 0
    acc.feed(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": "{"},
        }
    )
    assert acc.chunks == 1


def test_invoke_stream_exception_event() -> None:
    acc = InvokeStreamAccumulator("anthropic.claude-3-haiku-20240307-v1:0")
    acc.feed({"modelTimeoutException": {"message": "timed out"}})
    assert acc.response().error_type == "ModelTimeoutException"


@pytest.mark.parametrize("chunk", [b"", b"{oops", b"[]", None, 5, {"type": 7}, {"choices": "x"}])
@pytest.mark.parametrize("model_id", [c[0] for c in STREAM_CASES] + ["unknown.model"])
def test_invoke_stream_garbage(model_id: str, chunk: Any) -> None:
    acc = InvokeStreamAccumulator(model_id)
    acc.feed(chunk)
    assert acc.chunks == 0
    assert acc.response().usage == TokenUsage()


# Text deltas of every shape near the common one, between the events of a real stream.
DELTA_SHAPES: list[Any] = [
    {"contentBlockDelta": {"delta": {"text": "plain"}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": ""}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": None}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": 7}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": "and", "citation": {"title": "t"}}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "hmm"}}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": "x"}}, "throttlingException": {"message": "slow"}},
    {"contentBlockDelta": {"delta": "text"}},
    {"contentBlockDelta": None},
    {"contentBlockDelta": {"delta": {"text": "last"}, "contentBlockIndex": 0}},
]


def _accumulated(events: list[Any], capture: bool) -> tuple[Any, ...]:
    acc = ConverseStreamAccumulator(capture_content=capture)
    for event in events:
        acc.feed(event)
    return acc.chunks, acc.response(), acc.output_messages()


@pytest.mark.parametrize("capture", [False, True])
@pytest.mark.parametrize("shape", range(len(DELTA_SHAPES)))
def test_the_short_way_for_text_deltas_gives_what_the_general_path_gives(
    shape: int, capture: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from otel_chatbot.genai import streams

    events = [*CONVERSE_EVENTS[:3], DELTA_SHAPES[shape], *CONVERSE_EVENTS[3:]]
    taken = []
    real = streams._text_delta
    monkeypatch.setattr(streams, "_text_delta", lambda e, b: taken.append(real(e, b)) or taken[-1])
    short = _accumulated(events, capture)
    monkeypatch.setattr(streams, "_text_delta", lambda e, b: False)
    assert short == _accumulated(events, capture)
    assert taken.count(True) == 2 + (shape in (0, 9))  # the two deltas of the stream and the plain shapes
