"""The HTTP API rows: buffered or streamed per request, the rows read params and answers, large embeddings unparsed."""

from __future__ import annotations

import json
import random

from otel_chatbot.genai.framing import ServerSentEvent
from otel_chatbot.genai.http_apis import (
    ANTHROPIC_MESSAGES,
    HTTP_APIS,
    OLLAMA_CHAT,
    OPENAI_CHAT,
    OPENAI_EMBEDDINGS,
    read_scalar_fields,
)


def test_the_request_body_picks_the_row() -> None:
    assert OPENAI_CHAT.operation({"stream": True}) is OPENAI_CHAT.streamed
    assert OPENAI_CHAT.operation({}) is OPENAI_CHAT.buffered
    assert OLLAMA_CHAT.operation({}) is OLLAMA_CHAT.streamed  # Ollama streams by default
    assert OLLAMA_CHAT.operation({"stream": False}) is OLLAMA_CHAT.buffered
    assert all(api.streamed.ends_span_later and not api.buffered.ends_span_later for api in HTTP_APIS.values())


def test_rows_read_params_and_answers() -> None:
    params = {
        "body": {"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
        "provider": "anthropic",
        "model": "claude-x",
    }
    row = ANTHROPIC_MESSAGES.buffered
    assert row.request(params).span_name == "chat claude-x"
    assert row.input_messages is not None and row.input_messages(params)[0]["role"] == "user"
    assert row.response is not None
    answer = {"body": {"id": "msg_1", "usage": {"input_tokens": 3, "output_tokens": 1}}}
    assert row.response(params, answer).usage.input_tokens == 3
    stream = ANTHROPIC_MESSAGES.streamed.stream
    assert stream is not None and stream.accumulator(params, True).chunks == 0


def test_terminal_events() -> None:
    assert OPENAI_CHAT.terminal(ServerSentEvent("message", "[DONE]"))
    assert not OPENAI_CHAT.terminal(ServerSentEvent("message", "{}"))
    assert ANTHROPIC_MESSAGES.terminal(ServerSentEvent("message_stop", "{}"))
    assert OLLAMA_CHAT.terminal({"done": True}) and OLLAMA_CHAT.terminal({"error": "x"})
    assert not OLLAMA_CHAT.terminal({"done": False})


def test_a_large_embeddings_body_is_read_from_its_ends_only() -> None:
    vectors = [
        {"object": "embedding", "index": i, "embedding": [random.uniform(-1, 1) for _ in range(1536)]}
        for i in range(20)
    ]
    body = json.dumps(
        {
            "object": "list",
            "data": vectors,
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 41, "total_tokens": 41},
        }
    ).encode()
    assert len(body) > 500_000
    # Vectors that do not even parse: only the ends are read (json.loads of a body this size costs ~35 ms).
    middle = len(body) // 2
    body = body[:middle] + b"@not json@" + body[middle:]
    assert read_scalar_fields(body) == {
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 41, "total_tokens": 41},
    }
    assert OPENAI_EMBEDDINGS.read_body is read_scalar_fields
    ollama = json.dumps(
        {"model": "all-minilm", "embeddings": [[0.5] * 384] * 200, "total_duration": 5, "prompt_eval_count": 12}
    )
    assert read_scalar_fields(ollama.encode()) == {"model": "all-minilm", "prompt_eval_count": 12}
    assert read_scalar_fields(b'{"model": "m", "usage": {"prompt_tokens": 1}}') == {
        "model": "m",
        "usage": {"prompt_tokens": 1},
    }
    assert read_scalar_fields(b"x" * 70_000) == {}
