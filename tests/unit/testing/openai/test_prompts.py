"""Reading OpenAI request bodies: what counts as input, who is speaking last, automatic caching."""

from __future__ import annotations

from typing import Any

import pytest

from otel_chatbot.testing.openai.prompts import (
    CACHE_MIN_TOKENS,
    cached_tokens,
    chat_prompt,
    embedding_inputs,
    responses_prompt,
)
from otel_chatbot.testing.standin.api import InvalidRequest
from otel_chatbot.testing.standin.tools import REQUIRED

TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


def test_chat_text_parts_tool_calls_and_tool_results() -> None:
    prompt = chat_prompt(
        {
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "find"}, {"type": "image_url", "image_url": {}}]},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": "c", "content": "found it"},
            ],
            "max_tokens": 5,
        }
    )
    assert prompt.parts == ("be brief", "find", "lookup {}", "found it")
    assert prompt.last_user_text == "found it" and not prompt.awaiting_answer
    assert prompt.max_tokens == 5


def test_chat_tool_choice() -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}], "tools": [TOOL]}
    assert chat_prompt(body).tools[0].name == "lookup"
    assert chat_prompt({**body, "tool_choice": "required"}).tool_choice == REQUIRED
    named = {"type": "function", "function": {"name": "lookup"}}
    assert chat_prompt({**body, "tool_choice": named}).tool_choice == "lookup"
    off = chat_prompt({**body, "tool_choice": "none"})
    assert off.tools == () and len(off.parts) == 2  # the spec still counts as input


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "x"}], "tool_choice": 5}, "tool_choice"),
    ],
)
def test_chat_bodies_openai_refuses(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        chat_prompt(body)
    assert raised.value.param == param


def test_the_prefix_before_the_last_message_is_cached_once_long_enough() -> None:
    short = chat_prompt({"messages": [{"role": "system", "content": "a b"}, {"role": "user", "content": "c"}]})
    assert short.cached_parts == 0
    long_system = {"role": "system", "content": "w " * CACHE_MIN_TOKENS}
    long = chat_prompt({"messages": [long_system, {"role": "user", "content": "c"}]})
    assert (long.cached_parts, long.cache_requested) == (1, True)
    assert [cached_tokens(n) for n in (0, 127, 1024, 1100, 1152)] == [0, 0, 1024, 1024, 1152]


def test_responses_input_forms() -> None:
    plain = responses_prompt({"input": "hello there", "instructions": "be brief", "max_output_tokens": 9})
    assert (plain.parts, plain.last_user_text, plain.max_tokens) == (("be brief", "hello there"), "hello there", 9)
    items = responses_prompt(
        {
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
                {"type": "function_call", "call_id": "c", "name": "lookup", "arguments": '{"q": 1}'},
                {"type": "function_call_output", "call_id": "c", "output": "sunny"},
            ],
            "tools": [{"type": "function", "name": "lookup", "parameters": {}}],
        }
    )
    assert items.last_user_text == "sunny" and not items.awaiting_answer
    assert items.tools[0].name == "lookup"
    with pytest.raises(InvalidRequest, match="input"):
        responses_prompt({"input": 3})


def test_embedding_inputs() -> None:
    assert embedding_inputs({"input": "a b"}) == ["a b"]
    assert embedding_inputs({"input": [1, 2, 3]}) == [[1, 2, 3]]
    assert embedding_inputs({"input": ["a", [4, 5]]}) == ["a", [4, 5]]
    for bad in ({}, {"input": []}, {"input": [None]}, {"input": ["x"] * 2049}):
        with pytest.raises(InvalidRequest):
            embedding_inputs(bad)
