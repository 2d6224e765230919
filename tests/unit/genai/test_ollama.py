"""Ollama's native API, table-tested with its own payload shapes (NDJSON lines and whole answers)."""

from __future__ import annotations

from typing import Any

from otel_chatbot.genai import ollama
from otel_chatbot.genai.types import TokenUsage

LINES: list[dict[str, Any]] = [
    {
        "model": "llama3.2",
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": "Hel"},
        "done": False,
    },
    {
        "model": "llama3.2",
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": "lo"},
        "done": False,
    },
    {
        "model": "llama3.2",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 1,
        "prompt_eval_count": 26,
        "eval_count": 2,
    },
]


def test_requests_stream_unless_told_not_to() -> None:
    body = {
        "model": "llama3.2",
        "messages": [],
        "options": {"num_predict": 64, "temperature": 0.1, "top_k": 40, "seed": 3},
    }
    request = ollama.chat_request(body)
    assert request.attributes() == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "ollama",
        "gen_ai.request.model": "llama3.2",
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.temperature": 0.1,
        "gen_ai.request.top_k": 40.0,
        "gen_ai.request.seed": 3,
        "gen_ai.request.stream": True,
    }
    assert ollama.streams({"stream": False}) is False
    assert ollama.generate_request({"model": "m", "prompt": "p"}).operation_name == "text_completion"
    assert ollama.embed_request({"model": "m", "input": "x"}).attributes().get("gen_ai.request.stream") is None


def test_stream_lines_fold_into_the_answer() -> None:
    acc = ollama.AnswerStreamAccumulator(capture_content=True)
    for line in LINES:
        acc.feed(line)
    assert acc.chunks == 2
    response = acc.response()
    assert (response.usage, response.finish_reasons, response.response_model) == (
        TokenUsage(26, 2),
        ("stop",),
        "llama3.2",
    )
    assert acc.output_messages() == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello"}], "finish_reason": "stop"}
    ]


def test_a_whole_answer_with_a_tool_call() -> None:
    answer = {
        "model": "llama3.2",
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Rome"}}}],
        },
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 40,
        "eval_count": 8,
    }
    assert ollama.answer_response(answer).usage == TokenUsage(40, 8)
    assert ollama.answer_output_messages(answer) == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": None, "name": "weather", "arguments": {"city": "Rome"}}],
            "finish_reason": "tool_call",  # Ollama says stop; the convention's word for asking for a tool
        }
    ]


def test_generate_answer_and_input() -> None:
    assert ollama.generate_input_messages({"prompt": "Why?"}) == [
        {"role": "user", "parts": [{"type": "text", "content": "Why?"}]}
    ]
    acc = ollama.AnswerStreamAccumulator(capture_content=True)
    acc.feed({"model": "m", "response": "Because", "done": False})
    assert acc.output_messages()[0]["parts"] == [{"type": "text", "content": "Because"}]


def test_an_error_line_is_the_error_type_and_a_cut_stream_keeps_no_tokens() -> None:
    acc = ollama.AnswerStreamAccumulator(capture_content=False)
    acc.feed(LINES[0])
    acc.feed({"error": "model runner has unexpectedly stopped"})
    response = acc.response()
    assert response.error_type == "error"
    assert not response.usage.known


def test_chat_input_messages() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "Hi", "images": ["aGk="]},
            {"role": "tool", "content": "18C", "tool_name": "weather"},
        ]
    }
    assert ollama.chat_input_messages(body) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}, {"type": "image"}]},
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": None, "response": "18C"}],
        },
    ]


def test_embed_answer() -> None:
    assert ollama.embed_response(
        {"model": "all-minilm", "embeddings": [[0.1]], "prompt_eval_count": 3}
    ).usage == TokenUsage(3)
