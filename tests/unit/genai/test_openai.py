"""OpenAI's Chat Completions, Responses and Embeddings, table-tested with the API's own payload shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_chatbot.genai import openai
from otel_chatbot.genai.framing import ServerSentEvent
from otel_chatbot.genai.types import TokenUsage

CHAT_REQUEST: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Weather in Paris?"}, {"type": "image_url", "image_url": {}}],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": "18C"},
    ],
    "max_completion_tokens": 100,
    "temperature": 0.5,
    "top_p": 0.9,
    "stop": "END",
    "seed": 7,
    "n": 2,
}

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            "finish_reason": "tool_calls",
        },
        {"index": 1, "message": {"role": "assistant", "content": "Sunny."}, "finish_reason": "stop"},
    ],
    "usage": {
        "prompt_tokens": 1300,
        "completion_tokens": 20,
        "total_tokens": 1320,
        "prompt_tokens_details": {"cached_tokens": 1280, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_1",
}


def test_chat_request_facts() -> None:
    assert openai.chat_request({**CHAT_REQUEST, "stream": True}).attributes() == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.seed": 7,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.stream": True,
    }


def test_an_azure_deployment_is_the_model_when_the_body_names_none() -> None:
    request = openai.chat_request({"messages": []}, openai.AZURE_PROVIDER, "my-gpt4o")
    assert (request.provider_name, request.model, request.span_name) == ("azure.ai.openai", "my-gpt4o", "chat my-gpt4o")


def test_chat_response_cached_tokens_are_inside_prompt_tokens() -> None:
    response = openai.chat_response(COMPLETION)
    assert response.usage == TokenUsage(uncached_input_tokens=20, output_tokens=20, cache_read_input_tokens=1280)
    assert response.usage.input_tokens == 1300  # what OpenAI reported
    assert response.finish_reasons == ("tool_calls", "stop")
    assert (response.response_id, response.response_model) == ("chatcmpl-1", "gpt-4o-mini-2024-07-18")


def test_chat_output_is_one_message_per_choice() -> None:
    assert openai.chat_output_messages(COMPLETION) == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"city": "Paris"}}],
            "finish_reason": "tool_call",
        },
        {"role": "assistant", "parts": [{"type": "text", "content": "Sunny."}], "finish_reason": "stop"},
    ]


def test_chat_input_messages() -> None:
    assert openai.chat_input_messages(CHAT_REQUEST) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}, {"type": "image_url"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_0", "name": "weather", "arguments": "{}"}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_0", "response": "18C"}]},
    ]


def _data(chunk: dict[str, Any] | str) -> ServerSentEvent:
    return ServerSentEvent("message", chunk if isinstance(chunk, str) else json.dumps(chunk))


def _chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> ServerSentEvent:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return _data(
        {
            "id": "chatcmpl-2",
            "object": "chat.completion.chunk",
            "model": "gpt-4o-mini-2024-07-18",
            "choices": choices,
            **extra,
        }
    )


TOOL_STREAM = [
    _data({"id": "chatcmpl-2", "choices": [], "prompt_filter_results": []}),  # Azure's first chunk
    _chunk({"role": "assistant", "content": None}),
    _chunk(
        {
            "tool_calls": [
                {"index": 0, "id": "call_9", "type": "function", "function": {"name": "weather", "arguments": ""}}
            ]
        }
    ),
    _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
    _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Oslo"}'}}]}),
    _chunk({}, "tool_calls"),
    _chunk(None, usage={"prompt_tokens": 50, "completion_tokens": 9, "prompt_tokens_details": {"cached_tokens": 0}}),
    _data("[DONE]"),
]


def test_chat_stream_assembles_tool_call_deltas_and_reads_the_usage_chunk() -> None:
    acc = openai.ChatStreamAccumulator(capture_content=True)
    for event in TOOL_STREAM:
        acc.feed(event)
    assert acc.chunks == 3
    response = acc.response()
    assert response.usage == TokenUsage(50, 9, 0)
    assert response.finish_reasons == ("tool_calls",)
    assert acc.output_messages() == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_9", "name": "weather", "arguments": {"city": "Oslo"}}],
            "finish_reason": "tool_call",
        }
    ]


def test_a_chat_stream_without_include_usage_has_no_tokens() -> None:
    acc = openai.ChatStreamAccumulator(capture_content=False)
    for event in [_chunk({"content": "Hi"}), _chunk({"content": " there"}), _chunk({}, "stop"), _data("[DONE]")]:
        acc.feed(event)
    assert acc.chunks == 2
    assert not acc.response().usage.known
    assert acc.output_messages() == []


def test_an_in_stream_error_chunk() -> None:
    acc = openai.ChatStreamAccumulator(capture_content=False)
    acc.feed(_chunk({"content": "Hi"}))
    acc.feed(_data({"error": {"message": "boom", "type": "server_error", "code": None}}))
    assert acc.response().error_type == "server_error"


RESPONSE_OBJECT: dict[str, Any] = {
    "id": "resp_1",
    "object": "response",
    "status": "completed",
    "model": "gpt-4o-mini-2024-07-18",
    "output": [
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello!", "annotations": []}],
        },
        {"type": "function_call", "call_id": "call_5", "name": "lookup", "arguments": '{"q":"x"}'},
    ],
    "usage": {"input_tokens": 40, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 8, "total_tokens": 48},
}


def test_responses_in_chat_completions_words() -> None:
    response = openai.responses_response(RESPONSE_OBJECT)
    assert response.finish_reasons == ("tool_calls",)
    assert response.usage == TokenUsage(40, 8, 0)
    cut = openai.responses_response(
        {**RESPONSE_OBJECT, "output": [], "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    )
    assert cut.finish_reasons == ("length",)
    failed = openai.responses_response({"status": "failed", "error": {"code": "server_error"}})
    assert failed.error_type == "server_error"
    assert openai.responses_output_messages(RESPONSE_OBJECT)[0]["parts"] == [
        {"type": "text", "content": "Hello!"},
        {"type": "tool_call", "id": "call_5", "name": "lookup", "arguments": {"q": "x"}},
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Hi there", [{"role": "user", "parts": [{"type": "text", "content": "Hi there"}]}]),
        (
            [
                {"role": "developer", "content": "Be kind."},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
                {"type": "function_call_output", "call_id": "call_5", "output": "42"},
            ],
            [
                {"role": "developer", "parts": [{"type": "text", "content": "Be kind."}]},
                {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_5", "response": "42"}]},
            ],
        ),
    ],
)
def test_responses_input_messages(given: Any, expected: list[dict[str, Any]]) -> None:
    assert openai.responses_input_messages({"model": "m", "input": given}) == expected


def _event(kind: str, **data: Any) -> ServerSentEvent:
    return ServerSentEvent(kind, json.dumps({"type": kind, **data}))


def test_responses_stream() -> None:
    acc = openai.ResponsesStreamAccumulator(capture_content=True)
    events = [
        _event(
            "response.created", response={"id": "resp_2", "model": "gpt-4o-mini-2024-07-18", "status": "in_progress"}
        ),
        _event("response.output_text.delta", output_index=0, delta="Hel"),
        _event("response.output_text.delta", output_index=0, delta="lo"),
        _event(
            "response.output_item.added",
            output_index=1,
            item={"type": "function_call", "call_id": "call_7", "name": "lookup"},
        ),
        _event("response.function_call_arguments.delta", output_index=1, delta='{"q":'),
        _event("response.function_call_arguments.delta", output_index=1, delta='"y"}'),
        _event("response.completed", response={**RESPONSE_OBJECT, "id": "resp_2"}),
    ]
    for event in events:
        acc.feed(event)
    assert acc.chunks == 4
    response = acc.response()
    assert (response.response_id, response.usage, response.finish_reasons) == (
        "resp_2",
        TokenUsage(40, 8, 0),
        ("tool_calls",),
    )
    assert acc.output_messages()[0]["parts"] == [
        {"type": "text", "content": "Hello"},
        {"type": "tool_call", "id": "call_7", "name": "lookup", "arguments": {"q": "y"}},
    ]
    broken = openai.ResponsesStreamAccumulator(capture_content=False)
    broken.feed(_event("error", code="server_error", message="boom"))
    assert broken.response().error_type == "server_error"


def test_embeddings() -> None:
    request = openai.embeddings_request(
        {"model": "text-embedding-3-small", "input": ["a"], "encoding_format": "base64"}
    )
    assert request.attributes()["gen_ai.operation.name"] == "embeddings"
    assert request.attributes()["gen_ai.request.encoding_formats"] == ("base64",)
    response = openai.embeddings_response(
        {"model": "text-embedding-3-small", "usage": {"prompt_tokens": 4, "total_tokens": 4}}
    )
    assert response.usage == TokenUsage(uncached_input_tokens=4)


def test_a_stream_whose_positions_are_not_numbers_is_still_read() -> None:
    """An ``output_index`` that is a list or an object (unhashable) keys its own tool call (found by fuzzing)."""
    acc = openai.ResponsesStreamAccumulator(capture_content=True)
    acc.feed(_event("response.output_item.added", output_index=[], item={"type": "function_call", "name": "f"}))
    acc.feed(_event("response.function_call_arguments.delta", output_index=[], delta='{"q": 1}'))
    acc.feed(_event("response.function_call_arguments.delta", output_index={"a": 1}, delta="x"))
    parts = acc.output_messages()[0]["parts"]
    assert parts[0] == {"type": "tool_call", "id": None, "name": "f", "arguments": {"q": 1}}
    assert len(parts) == 2


OPENAI_CONTENT_CHUNK = (
    '{"id":"chatcmpl-B9","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18",'
    '"service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":'
    '" the \\"quick\\" \\u00e9"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"abc"}'
)

READ = ("chatcmpl-B9", "gpt-4o-mini-2024-07-18", ' the "quick" é')


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (OPENAI_CONTENT_CHUNK, READ),
        (OPENAI_CONTENT_CHUNK.replace('"service_tier":"default",', ""), READ),
        (OPENAI_CONTENT_CHUNK.replace('"finish_reason":null', '"finish_reason":"stop"'), None),
        (OPENAI_CONTENT_CHUNK.replace('"usage":null', '"usage":{"prompt_tokens":1}'), None),
        (OPENAI_CONTENT_CHUNK.replace('"index":0', '"index":1'), None),
        (OPENAI_CONTENT_CHUNK.replace('"created":1741570283', '"created":01'), None),  # not JSON
        (OPENAI_CONTENT_CHUNK.replace("quick", "qu\x01ck"), None),  # not JSON either
        (OPENAI_CONTENT_CHUNK.replace(":null}", ": null}"), None),  # another writer's spacing: the general path
    ],
)
def test_content_chunk_reads_only_openais_plain_content_chunk(data: str, expected: tuple[str, str, str] | None) -> None:
    assert openai.content_chunk(data) == expected
