from __future__ import annotations

import json
from typing import Any

import pytest

from otel_chatbot.genai.content import (
    TRUNCATION_MARKER,
    converse_input_messages,
    converse_output_messages,
    invoke_input_messages,
    invoke_output_messages,
    serialize,
)
from otel_chatbot.genai.redaction import Redactor

CONVERSE_PARAMS: dict[str, Any] = {
    "modelId": "amazon.nova-pro-v1:0",
    "system": [{"text": "You are a support bot."}, {"cachePoint": {"type": "default"}}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"text": "Weather in Paris?"},
                {"image": {"format": "png", "source": {"bytes": b"\x89PNG"}}},
            ],
        },
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}],
        },
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": "tooluse_1", "content": [{"json": {"temp_c": 14}}]}}],
        },
    ],
}


def test_converse_input_messages() -> None:
    assert converse_input_messages(CONVERSE_PARAMS) == [
        {
            "role": "user",
            "parts": [{"type": "text", "content": "Weather in Paris?"}, {"type": "image", "format": "png"}],
        },
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "tooluse_1",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                }
            ],
        },
        {
            "role": "user",
            "parts": [{"type": "tool_call_response", "id": "tooluse_1", "response": {"temp_c": 14}}],
        },
    ]


def test_converse_output_messages_normalize_finish_reason() -> None:
    response = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "Think...", "signature": "sig"}}},
                    {"text": "It is 14°C."},
                ],
            }
        },
        "stopReason": "end_turn",
    }
    assert converse_output_messages(response) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Think..."},
                {"type": "text", "content": "It is 14°C."},
            ],
            "finish_reason": "stop",
        }
    ]


@pytest.mark.parametrize(
    ("stop_reason", "normalized"),
    [
        ("max_tokens", "length"),
        ("tool_use", "tool_call"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("stop_sequence", "stop"),
        ("malformed_model_output", "error"),
        ("pause_turn", "pause_turn"),
    ],
)
def test_finish_reason_normalization(stop_reason: str, normalized: str) -> None:
    messages = converse_output_messages(
        {"output": {"message": {"role": "assistant", "content": []}}, "stopReason": stop_reason}
    )
    assert messages[0]["finish_reason"] == normalized


INVOKE_INPUT_CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    (
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        {
            "anthropic_version": "bedrock-2023-05-31",
            "system": "Be brief.",
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
            ],
            "max_tokens": 10,
        },
        [
            {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
            {"role": "assistant", "parts": [{"type": "text", "content": "Hello"}]},
        ],
    ),
    (
        "amazon.nova-lite-v1:0",
        {"system": [{"text": "Sys"}], "messages": [{"role": "user", "content": [{"text": "Hi"}]}]},
        [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
    ),
    (
        "amazon.titan-text-express-v1",
        {"inputText": "Write a poem", "textGenerationConfig": {}},
        [{"role": "user", "parts": [{"type": "text", "content": "Write a poem"}]}],
    ),
    (
        "meta.llama3-8b-instruct-v1:0",
        {"prompt": "<|begin_of_text|>Hi"},
        [{"role": "user", "parts": [{"type": "text", "content": "<|begin_of_text|>Hi"}]}],
    ),
    (
        "cohere.command-r-v1:0",
        {
            "message": "And now?",
            "preamble": "Be nice.",
            "chat_history": [{"role": "USER", "message": "Hi"}, {"role": "CHATBOT", "message": "Hello"}],
        },
        [
            {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
            {"role": "assistant", "parts": [{"type": "text", "content": "Hello"}]},
            {"role": "user", "parts": [{"type": "text", "content": "And now?"}]},
        ],
    ),
    (
        "ai21.jamba-1-5-mini-v1:0",
        {"messages": [{"role": "system", "content": "Sys"}, {"role": "user", "content": "Hi"}]},
        [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
    ),
]


@pytest.mark.parametrize(("model_id", "body", "messages"), INVOKE_INPUT_CASES, ids=[c[0] for c in INVOKE_INPUT_CASES])
def test_invoke_input_messages(model_id: str, body: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    assert invoke_input_messages(model_id, json.dumps(body).encode()) == messages


@pytest.mark.parametrize(
    ("model_id", "body", "text", "reason"),
    [
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            {"content": [{"type": "text", "text": "Hi"}], "stop_reason": "max_tokens"},
            "Hi",
            "length",
        ),
        (
            "amazon.nova-micro-v1:0",
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "Yo"}]}},
                "stopReason": "end_turn",
            },
            "Yo",
            "stop",
        ),
        (
            "amazon.titan-text-lite-v1",
            {"results": [{"outputText": "T", "completionReason": "LENGTH"}]},
            "T",
            "length",
        ),
        ("meta.llama3-8b-instruct-v1:0", {"generation": "G", "stop_reason": "stop"}, "G", "stop"),
        (
            "mistral.mistral-7b-instruct-v0:2",
            {"outputs": [{"text": "M", "stop_reason": "length"}]},
            "M",
            "length",
        ),
        ("cohere.command-r-v1:0", {"text": "C", "finish_reason": "COMPLETE"}, "C", "stop"),
    ],
)
def test_invoke_output_messages(model_id: str, body: dict[str, Any], text: str, reason: str) -> None:
    assert invoke_output_messages(model_id, json.dumps(body).encode()) == [
        {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": reason}
    ]


@pytest.mark.parametrize("garbage", [None, b"{oops", b"[]", {"messages": "x"}, {"messages": [5, {"role": 3}]}])
def test_content_garbage(garbage: Any) -> None:
    assert invoke_input_messages("anthropic.claude-3-haiku-20240307-v1:0", garbage) == []
    assert invoke_output_messages("anthropic.claude-3-haiku-20240307-v1:0", garbage) == []
    assert converse_input_messages(garbage if isinstance(garbage, dict) else {}) == []
    assert converse_output_messages({}) == []


def test_serialize_small_is_plain_json() -> None:
    messages = converse_input_messages(CONVERSE_PARAMS)
    assert json.loads(serialize(messages)) == messages


@pytest.mark.parametrize("max_bytes", [64, 200, 1000, 5000])
def test_serialize_bounds_size_and_stays_valid_json(max_bytes: int) -> None:
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": "é" * 3000}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "x" * 3000}]},
    ]
    out = serialize(messages, max_bytes=max_bytes)
    assert len(out.encode("utf-8")) <= max_bytes
    decoded = json.loads(out)
    assert isinstance(decoded, list)
    if decoded:
        assert TRUNCATION_MARKER in out
        assert all(m["role"] in ("user", "assistant") for m in decoded)
        assert all(p["type"] == "text" for m in decoded for p in m["parts"])


def test_serialize_keeps_newest_messages_when_dropping() -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": str(i)}]} for i in range(50)]
    out = json.loads(serialize(messages, max_bytes=200))
    assert out and out[-1]["parts"][0]["content"] == "49"


def test_serialize_nothing_fits() -> None:
    assert serialize([{"role": "user", "parts": []}], max_bytes=5) == "[]"


def test_serialize_redacts() -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": "I'm a@b.io, card 4111111111111111"}]}]
    out = serialize(messages, redactor=Redactor())
    assert "a@b.io" not in out and "4111" not in out
    assert json.loads(out)[0]["parts"][0]["content"] == "I'm [REDACTED], card [REDACTED]"


def test_serialize_gives_lone_surrogates_a_utf8_form() -> None:
    """A provider's ``"\\ud800"`` escape is a lone surrogate; the attribute must still encode (found by fuzzing)."""
    text = serialize([{"role": "assistant", "parts": [{"type": "text", "content": "a\ud800b"}]}], max_bytes=100)
    assert "a\ufffdb" in text
    text.encode("utf-8")
    long = serialize([{"role": "assistant", "parts": [{"type": "text", "content": "\udfff" * 200}]}], max_bytes=120)
    assert len(long.encode("utf-8")) <= 120
    json.loads(long)
