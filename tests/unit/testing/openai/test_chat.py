"""Chat Completions payload shapes, per flavour: the body, and the chunks a stream is made of."""

from __future__ import annotations

import json
from typing import Any

from otel_chatbot.testing.openai.chat import Answer, completion_body, completion_chunks
from otel_chatbot.testing.openai.flavor import AZURE, OLLAMA, OPENAI, Flavor
from otel_chatbot.testing.standin.generation import Completion
from otel_chatbot.testing.standin.tools import ToolCall
from otel_chatbot.testing.standin.usage import Usage

TEXT = Completion("Hello! This is fine", False, Usage(7, 4, 2048, 0), False, "x")
CALL = ToolCall("lookup", {"q": "otel"}, "ab" * 32)
TOOL = Completion("I will use the lookup tool.", False, Usage(9, 7), False, "x", CALL)


def answer(flavor: Flavor = OPENAI) -> Answer:
    return Answer("chatcmpl-1", 1_700_000_000, "gpt-4o-mini-2024-07-18", flavor)


def events(completion: Completion, flavor: Flavor = OPENAI, **options: bool) -> list[Any]:
    frames = [event.frame.decode() for event in completion_chunks(completion, answer(flavor), **options)]
    assert all(frame.startswith("data: ") and frame.endswith("\n\n") for frame in frames)
    payloads = [frame[len("data: ") : -2] for frame in frames]
    assert payloads[-1] == "[DONE]"
    return [json.loads(payload) for payload in payloads[:-1]]


def test_body_reports_prompt_tokens_including_the_cached_ones() -> None:
    body, tokens = completion_body(TEXT, answer())
    assert body["object"] == "chat.completion" and body["service_tier"] == "default"
    assert body["choices"][0]["message"]["content"] == "Hello! This is fine"
    assert body["usage"]["prompt_tokens"] == 7 + 2048
    assert body["usage"]["prompt_tokens_details"] == {"cached_tokens": 2048, "audio_tokens": 0}
    assert (tokens.input_tokens, tokens.output_tokens, tokens.cache_read_input_tokens) == (2055, 4, 2048)


def test_a_tool_call_body() -> None:
    body, _ = completion_body(TOOL, answer())
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {
            "id": "call_" + CALL.digest[:24],
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"q":"otel"}'},
        }
    ]


def test_usage_chunk_only_with_include_usage() -> None:
    without = events(TEXT, include_usage=False, obfuscate=False)
    assert all("usage" not in chunk and "obfuscation" not in chunk for chunk in without)
    assert [chunk["choices"][0]["finish_reason"] for chunk in without][-1] == "stop"
    with_usage = events(TEXT, include_usage=True, obfuscate=True)
    assert [chunk["usage"] for chunk in with_usage[:-1]] == [None] * (len(with_usage) - 1)
    assert with_usage[-1]["choices"] == [] and with_usage[-1]["usage"]["completion_tokens"] == 4
    assert all(chunk["obfuscation"] for chunk in with_usage)


def test_streamed_tool_call_arguments_join() -> None:
    chunks = events(TOOL, include_usage=False, obfuscate=False)
    first = chunks[0]["choices"][0]["delta"]
    assert first["tool_calls"][0]["function"] == {"name": "lookup", "arguments": ""}
    pieces = [c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for c in chunks[1:-1]]
    assert "".join(pieces) == '{"q":"otel"}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_azure_and_ollama_details() -> None:
    azure = events(TEXT, AZURE, include_usage=True, obfuscate=False)
    assert azure[0]["choices"] == [] and "prompt_filter_results" in azure[0] and "usage" not in azure[0]
    body, _ = completion_body(TEXT, answer(AZURE))
    assert "content_filter_results" in body["choices"][0] and "service_tier" not in body
    ollama, _ = completion_body(TEXT, answer(OLLAMA))
    assert ollama["system_fingerprint"] == "fp_ollama"
    assert set(ollama["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
