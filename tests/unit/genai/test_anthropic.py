"""Anthropic's Messages format, table-tested with the API's own payload shapes (direct API and Claude on Bedrock)."""

from __future__ import annotations

import json
from typing import Any

from otel_chatbot.genai import anthropic
from otel_chatbot.genai.content import invoke_output_messages
from otel_chatbot.genai.framing import ServerSentEvent
from otel_chatbot.genai.types import TokenUsage

REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 256,
    "temperature": 0.2,
    "top_k": 5,
    "stop_sequences": ["END"],
    "system": "You are terse.",
    "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
    "messages": [
        {"role": "user", "content": "Weather in Paris? Use get_weather"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_0", "name": "get_weather", "input": {"city": "Paris"}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_0", "content": "18C"}]},
    ],
}

MESSAGE: dict[str, Any] = {
    "id": "msg_01ABC",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "text", "text": "I will use the get_weather tool."},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Lyon"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 30,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 12,
        "service_tier": "standard",
    },
}


def test_request_facts() -> None:
    request = anthropic.messages_request({**REQUEST, "stream": True})
    assert request.attributes() == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_k": 5.0,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.stream": True,
    }
    assert request.span_name == "chat claude-sonnet-4-5"


def test_response_input_tokens_include_the_cache_as_the_convention_says() -> None:
    response = anthropic.messages_response(MESSAGE)
    assert response.usage == TokenUsage(30, 12, 1000, 100)
    assert response.attributes() == {
        "gen_ai.response.id": "msg_01ABC",
        "gen_ai.response.model": "claude-sonnet-4-5-20250929",
        "gen_ai.response.finish_reasons": ("tool_use",),
        "gen_ai.usage.input_tokens": 1130,
        "gen_ai.usage.output_tokens": 12,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.cache_creation.input_tokens": 100,
    }


def test_output_messages_carry_the_tool_call_and_the_conventions_finish_reason() -> None:
    assert anthropic.output_messages(MESSAGE) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "I will use the get_weather tool."},
                {"type": "tool_call", "id": "toolu_01", "name": "get_weather", "arguments": {"city": "Lyon"}},
            ],
            "finish_reason": "tool_call",
        }
    ]


def test_input_messages_keep_tool_calls_and_results() -> None:
    assert anthropic.input_messages(REQUEST) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris? Use get_weather"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "toolu_0", "name": "get_weather", "arguments": {"city": "Paris"}}],
        },
        {"role": "user", "parts": [{"type": "tool_call_response", "id": "toolu_0", "response": "18C"}]},
    ]


def _sse(kind: str, data: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(kind, json.dumps({"type": kind, **data}))


STREAM = [
    _sse(
        "message_start",
        {
            "message": {
                **{k: v for k, v in MESSAGE.items() if k not in ("content", "stop_reason")},
                "content": [],
                "usage": {"input_tokens": 30, "cache_read_input_tokens": 1000, "output_tokens": 1},
            }
        },
    ),
    _sse("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
    _sse("ping", {}),
    _sse("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "I will "}}),
    _sse("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "check."}}),
    _sse("content_block_stop", {"index": 0}),
    _sse(
        "content_block_start",
        {"index": 1, "content_block": {"type": "tool_use", "id": "toolu_02", "name": "get_weather", "input": {}}},
    ),
    _sse("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city": '}}),
    _sse("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta", "partial_json": '"Nice"}'}}),
    _sse("content_block_stop", {"index": 1}),
    _sse(
        "message_delta",
        {
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 15, "input_tokens": 30, "cache_read_input_tokens": 1000},
        },
    ),
    _sse("message_stop", {}),
]


def test_stream_assembles_text_tool_call_and_final_usage() -> None:
    acc = anthropic.MessagesStreamAccumulator(capture_content=True)
    for event in STREAM:
        acc.feed(event)
    assert acc.chunks == 4
    response = acc.response()
    assert response.usage == TokenUsage(30, 15, 1000, None)
    assert response.finish_reasons == ("tool_use",)
    assert response.response_id == "msg_01ABC"
    assert acc.output_messages() == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "I will check."},
                {"type": "tool_call", "id": "toolu_02", "name": "get_weather", "arguments": {"city": "Nice"}},
            ],
            "finish_reason": "tool_call",
        }
    ]


def test_a_stream_cut_after_message_start_has_input_but_no_estimated_output() -> None:
    acc = anthropic.MessagesStreamAccumulator(capture_content=False)
    for event in STREAM[:4]:
        acc.feed(event)
    usage = acc.response().usage
    assert usage.input_tokens == 1030
    assert usage.output_tokens is None  # message_start's output_tokens is provisional
    assert acc.output_messages() == []  # nothing kept without capture


def test_an_in_stream_error_event_is_the_error_type() -> None:
    acc = anthropic.MessagesStreamAccumulator(capture_content=False)
    acc.feed(STREAM[0])
    acc.feed(_sse("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}}))
    assert acc.response().error_type == "overloaded_error"


def test_claude_on_bedrock_reads_the_same_tool_calls() -> None:
    (message,) = invoke_output_messages("anthropic.claude-sonnet-4-20250514-v1:0", json.dumps(MESSAGE))
    assert message["parts"][1] == {
        "type": "tool_call",
        "id": "toolu_01",
        "name": "get_weather",
        "arguments": {"city": "Lyon"},
    }
    assert message["finish_reason"] == "tool_call"


def test_garbage_reads_as_nothing() -> None:
    assert anthropic.messages_response({"usage": "x", "content": 5}).usage == TokenUsage()
    acc = anthropic.MessagesStreamAccumulator(capture_content=True)
    acc.feed(ServerSentEvent("message", "{oops"))
    acc.feed(_sse("content_block_delta", {"delta": 3}))
    assert acc.chunks == 0 and acc.output_messages() == []
