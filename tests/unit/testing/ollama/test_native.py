"""Ollama's native bodies and answers: token counts, deterministic durations, NDJSON."""

from __future__ import annotations

import json

import pytest

from otel_chatbot.testing.ollama.native import (
    EVAL_NS_PER_TOKEN,
    LOAD_NS,
    PROMPT_EVAL_NS_PER_TOKEN,
    chat_prompt,
    chat_stream,
    done_fields,
    embed_body,
    generate_prompt,
)
from otel_chatbot.testing.standin.api import InvalidRequest
from otel_chatbot.testing.standin.generation import Completion
from otel_chatbot.testing.standin.usage import Usage

TEXT = Completion("Hello! This is fine", False, Usage(5, 4), False, "x")


def test_chat_and_generate_prompts() -> None:
    chat = chat_prompt(
        {"messages": [{"role": "user", "content": "hi there"}, {"role": "tool", "content": "ok"}], "options": {}}
    )
    assert chat.parts == ("hi there", "ok") and not chat.awaiting_answer
    assert chat_prompt({"messages": [], "options": {"num_predict": -1}}).max_tokens is None
    assert chat_prompt({"messages": [], "options": {"num_predict": 3}}).max_tokens == 3
    generate = generate_prompt({"prompt": "why", "system": "be brief"})
    assert generate.parts == ("be brief", "why") and generate.last_user_text == "why"
    for bad in (
        {"messages": "x"},
        {"messages": [{"role": "robot"}]},
        {"messages": [], "options": {"num_predict": "3"}},
    ):
        with pytest.raises(InvalidRequest):
            chat_prompt(bad)


def test_done_fields_are_deterministic() -> None:
    fields = done_fields(TEXT)
    assert fields == {
        "done": True,
        "done_reason": "stop",
        "total_duration": LOAD_NS + 5 * PROMPT_EVAL_NS_PER_TOKEN + 4 * EVAL_NS_PER_TOKEN,
        "load_duration": LOAD_NS,
        "prompt_eval_count": 5,
        "prompt_eval_duration": 5 * PROMPT_EVAL_NS_PER_TOKEN,
        "eval_count": 4,
        "eval_duration": 4 * EVAL_NS_PER_TOKEN,
    }
    assert done_fields(Completion("Hello!", True, Usage(5, 1), False, "x"))["done_reason"] == "length"


def test_a_chat_stream_is_ndjson_with_usage_on_the_last_line() -> None:
    events = list(chat_stream(TEXT, "llama3.2"))
    lines = [json.loads(event.frame) for event in events]
    assert all(event.frame.endswith(b"\n") and event.frame.count(b"\n") == 1 for event in events)
    assert "".join(line["message"]["content"] for line in lines) == TEXT.text
    assert [event.usage for event in events][-1] == Usage(input_tokens=5, output_tokens=4)
    assert all(event.usage is None for event in events[:-1])


def test_embed() -> None:
    body, tokens = embed_body({"input": ["a b", "c"], "dimensions": 4}, "nomic-embed-text")
    assert [len(vector) for vector in body["embeddings"]] == [4, 4]
    assert body["prompt_eval_count"] == tokens.input_tokens == 3
    with pytest.raises(InvalidRequest):
        embed_body({"input": 3}, "m")
