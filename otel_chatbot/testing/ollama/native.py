"""Ollama's native API: ``/api/chat``, ``/api/generate`` and ``/api/embed`` bodies and answers.

Ollama streams by default: unless the request says ``"stream": false`` the answer is NDJSON,
one object per line with ``"done": false`` and a piece of the text, then a last object with
``"done": true``, ``done_reason`` (``stop`` / ``length``), ``prompt_eval_count`` (input
tokens), ``eval_count`` (output tokens) and the durations in nanoseconds. Durations are
deterministic too: ``LOAD_NS``, ``PROMPT_EVAL_NS_PER_TOKEN`` per input token and
``EVAL_NS_PER_TOKEN`` per output token, ``total_duration`` their sum.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from otel_chatbot.testing.openai.prompts import add_tools
from otel_chatbot.testing.standin.api import InvalidRequest
from otel_chatbot.testing.standin.embeddings import MAX_DIMENSIONS, embedding
from otel_chatbot.testing.standin.frames import ndjson_line
from otel_chatbot.testing.standin.generation import Completion, Prompt, PromptBuilder, count_tokens, split_chunks
from otel_chatbot.testing.standin.responses import StreamEvent
from otel_chatbot.testing.standin.usage import Usage

JsonObject = dict[str, Any]

LOAD_NS = 5_000_000
PROMPT_EVAL_NS_PER_TOKEN = 200_000
EVAL_NS_PER_TOKEN = 10_000_000
DEFAULT_EMBEDDING_DIMENSIONS = 768
EMBEDDING_DIMENSIONS = {"nomic-embed-text": 768, "all-minilm": 384, "mxbai-embed-large": 1024}
ROLES = frozenset({"system", "user", "assistant", "tool"})


def created_at() -> str:
    """Ollama's timestamp: RFC 3339 in UTC with nanoseconds."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise InvalidRequest("json: cannot unmarshal options into a map")
    value = options.get("num_predict")
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value < 0):
        return None  # Ollama: -1 (or absent) means no limit
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest("option num_predict must be of type integer")
    return value


def chat_prompt(body: Mapping[str, Any]) -> Prompt:
    """An ``/api/chat`` body: ``messages`` (string content), ``tools`` as OpenAI's, ``options.num_predict``."""
    builder = PromptBuilder()
    add_tools(builder, body, nested=True)
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(message, dict) for message in messages):
        raise InvalidRequest("messages must be an array of message objects")
    for message in messages:
        role = message.get("role")
        if role not in ROLES:
            raise InvalidRequest(f"invalid role: {role}")
        content = message.get("content") or ""
        if not isinstance(content, str):
            raise InvalidRequest("message content must be a string")
        builder.add(content)
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                builder.add(f"{function.get('name', '')} {function.get('arguments', '')}")
        if role == "user":
            builder.user_turn(content, has_tool_result=False)
        elif role == "tool":
            builder.user_turn(content, has_tool_result=True)
        elif role == "assistant":
            builder.other_turn()
    return builder.build(_max_tokens(body))


def generate_prompt(body: Mapping[str, Any]) -> Prompt:
    """An ``/api/generate`` body: ``system`` and ``prompt`` strings."""
    builder = PromptBuilder()
    for key in ("system", "prompt"):
        value = body.get(key, "")
        if not isinstance(value, str):
            raise InvalidRequest(f"{key} must be a string")
        builder.add(value)
    builder.user_turn(str(body.get("prompt", "")), has_tool_result=False)
    return builder.build(_max_tokens(body))


def done_fields(completion: Completion) -> JsonObject:
    """What the last object of every answer carries: why it ended, token counts, durations."""
    usage = completion.usage
    prompt_tokens = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_write_input_tokens
    prompt_ns = prompt_tokens * PROMPT_EVAL_NS_PER_TOKEN
    eval_ns = usage.output_tokens * EVAL_NS_PER_TOKEN
    return {
        "done": True,
        "done_reason": "length" if completion.truncated and completion.tool_call is None else "stop",
        "total_duration": LOAD_NS + prompt_ns + eval_ns,
        "load_duration": LOAD_NS,
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": prompt_ns,
        "eval_count": usage.output_tokens,
        "eval_duration": eval_ns,
    }


def reported(fields: Mapping[str, Any]) -> Usage:
    """The ledger's view of the last object: ``prompt_eval_count`` in, ``eval_count`` out."""
    return Usage(input_tokens=fields["prompt_eval_count"], output_tokens=fields["eval_count"])


def _message(content: str, completion: Completion | None = None) -> JsonObject:
    message: JsonObject = {"role": "assistant", "content": content}
    if completion is not None and completion.tool_call is not None:
        call = completion.tool_call
        message["tool_calls"] = [{"function": {"name": call.name, "arguments": call.input}}]
    return message


def chat_body(completion: Completion, model: str) -> tuple[JsonObject, Usage]:
    """The answer of a non-streamed chat, and the tokens it reports."""
    text = "" if completion.tool_call is not None else completion.text
    fields = done_fields(completion)
    body = {"model": model, "created_at": created_at(), "message": _message(text, completion), **fields}
    return body, reported(fields)


def chat_stream(completion: Completion, model: str) -> Iterator[StreamEvent]:
    if completion.tool_call is not None:
        piece = {"model": model, "created_at": created_at(), "message": _message("", completion), "done": False}
        yield StreamEvent(ndjson_line(piece))
    else:
        for text in split_chunks(completion.text):
            piece = {"model": model, "created_at": created_at(), "message": _message(text), "done": False}
            yield StreamEvent(ndjson_line(piece))
    fields = done_fields(completion)
    last = {"model": model, "created_at": created_at(), "message": _message(""), **fields}
    yield StreamEvent(ndjson_line(last), usage=reported(fields))


def generate_body(completion: Completion, model: str) -> tuple[JsonObject, Usage]:
    """The answer of a non-streamed generate, and the tokens it reports."""
    fields = done_fields(completion)
    return {"model": model, "created_at": created_at(), "response": completion.text, **fields}, reported(fields)


def generate_stream(completion: Completion, model: str) -> Iterator[StreamEvent]:
    for text in split_chunks(completion.text):
        piece = {"model": model, "created_at": created_at(), "response": text, "done": False}
        yield StreamEvent(ndjson_line(piece))
    fields = done_fields(completion)
    last = {"model": model, "created_at": created_at(), "response": "", **fields}
    yield StreamEvent(ndjson_line(last), usage=reported(fields))


def embed_body(body: Mapping[str, Any], model: str) -> tuple[JsonObject, Usage]:
    """``/api/embed``: ``input`` (a string or strings), optional ``dimensions``; tokens are input words."""
    value = body.get("input")
    inputs = [value] if isinstance(value, str) else value
    if not isinstance(inputs, list) or not all(isinstance(item, str) for item in inputs):
        raise InvalidRequest("invalid input type")
    dimensions = body.get("dimensions") or EMBEDDING_DIMENSIONS.get(model.split(":")[0], DEFAULT_EMBEDDING_DIMENSIONS)
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 0 < dimensions <= MAX_DIMENSIONS:
        raise InvalidRequest(f"dimensions must be between 1 and {MAX_DIMENSIONS}")
    tokens = sum(count_tokens(item) for item in inputs)
    prompt_ns = tokens * PROMPT_EVAL_NS_PER_TOKEN
    answer = {
        "model": model,
        "embeddings": [embedding(item, dimensions) for item in inputs],
        "total_duration": LOAD_NS + prompt_ns,
        "load_duration": LOAD_NS,
        "prompt_eval_count": tokens,
    }
    return answer, Usage(input_tokens=tokens)
