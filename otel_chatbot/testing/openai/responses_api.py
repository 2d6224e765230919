"""Responses API answers: the ``response`` object and its stream of typed events.

A stream is ``event: <type>`` / ``data: {...}`` pairs with a running ``sequence_number``:
``response.created``, ``response.in_progress``, ``response.output_item.added``, then for text
``response.content_part.added``, ``response.output_text.delta`` ..., ``response.output_text.done``,
``response.content_part.done`` (for a tool call ``response.function_call_arguments.delta`` ...
and ``.done``), ``response.output_item.done`` and, last, ``response.completed`` -- or
``response.incomplete`` when ``max_output_tokens`` cut the answer -- the only event with ``usage``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from otel_chatbot.testing.openai.chat import TOOL_CALL_ID_PREFIX, obfuscation
from otel_chatbot.testing.openai.tokens import reported
from otel_chatbot.testing.standin.frames import sse_frame
from otel_chatbot.testing.standin.generation import Completion, json_pieces, split_chunks
from otel_chatbot.testing.standin.responses import StreamEvent
from otel_chatbot.testing.standin.usage import Usage

JsonObject = dict[str, Any]

# Request parameters a response echoes, with the defaults OpenAI fills in.
_ECHOED: dict[str, Any] = {
    "instructions": None,
    "max_output_tokens": None,
    "max_tool_calls": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "prompt_cache_key": None,
    "safety_identifier": None,
    "store": True,
    "temperature": 1.0,
    "tool_choice": "auto",
    "tools": [],
    "top_logprobs": 0,
    "top_p": 1.0,
    "truncation": "disabled",
    "user": None,
}


@dataclass(frozen=True)
class ResponseIds:
    """Ids of one response and of its output item (``msg_...`` or ``fc_...``)."""

    response: str
    item: str
    created_at: int
    model: str


def usage_json(tokens: Usage) -> JsonObject:
    return {
        "input_tokens": tokens.input_tokens,
        "input_tokens_details": {"cached_tokens": tokens.cache_read_input_tokens, "cache_write_tokens": 0},
        "output_tokens": tokens.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": tokens.input_tokens + tokens.output_tokens,
    }


def _status(completion: Completion) -> str:
    return "incomplete" if completion.truncated and completion.tool_call is None else "completed"


def output_item(completion: Completion, ids: ResponseIds, *, done: bool) -> JsonObject:
    """The answer's one output item: a ``message`` or a ``function_call`` (empty until ``done``)."""
    status = _status(completion) if done else "in_progress"
    call = completion.tool_call
    if call is not None:
        arguments = call.input_json if done else ""
        return {
            "id": ids.item,
            "type": "function_call",
            "status": status,
            "arguments": arguments,
            "call_id": call.id(TOOL_CALL_ID_PREFIX),
            "name": call.name,
        }
    content = [_text_part(completion.text)] if done else []
    return {"id": ids.item, "type": "message", "status": status, "content": content, "role": "assistant"}


def _text_part(text: str) -> JsonObject:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def response_object(
    request: Mapping[str, Any], completion: Completion, ids: ResponseIds, *, done: bool
) -> tuple[JsonObject, Usage | None]:
    """The ``response`` (in progress, or finished with its output and usage) and the tokens it reports."""
    status = _status(completion) if done else "in_progress"
    tokens = reported(completion.usage) if done else None
    incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
    body: JsonObject = {
        "id": ids.response,
        "object": "response",
        "created_at": ids.created_at,
        "status": status,
        "background": False,
        "completed_at": ids.created_at if status == "completed" else None,
        "error": None,
        "incomplete_details": incomplete,
        "model": ids.model,
        "output": [output_item(completion, ids, done=True)] if done else [],
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        **{key: request.get(key, default) for key, default in _ECHOED.items()},
        "usage": usage_json(tokens) if tokens is not None else None,
    }
    return body, tokens


def response_events(
    request: Mapping[str, Any], completion: Completion, ids: ResponseIds, *, obfuscate: bool
) -> Iterator[StreamEvent]:
    """The typed event stream; the final ``response.completed`` / ``.incomplete`` reports the tokens."""
    sequence = 0

    def event(kind: str, fields: JsonObject, usage: Usage | None = None, *, padded: bool = False) -> StreamEvent:
        nonlocal sequence
        document = {"type": kind, "sequence_number": sequence, **fields}
        if padded and obfuscate:
            document["obfuscation"] = obfuscation(sequence)
        sequence += 1
        return StreamEvent(sse_frame(document, event=kind), usage=usage)

    started, _ = response_object(request, completion, ids, done=False)
    yield event("response.created", {"response": started})
    yield event("response.in_progress", {"response": started})
    at = {"item_id": ids.item, "output_index": 0}
    yield event("response.output_item.added", {"output_index": 0, "item": output_item(completion, ids, done=False)})
    call = completion.tool_call
    if call is not None:
        for piece in json_pieces(call.input_json):
            yield event("response.function_call_arguments.delta", {**at, "delta": piece}, padded=True)
        yield event("response.function_call_arguments.done", {**at, "arguments": call.input_json})
    else:
        part = {**at, "content_index": 0}
        yield event("response.content_part.added", {**part, "part": _text_part("")})
        for piece in split_chunks(completion.text):
            yield event("response.output_text.delta", {**part, "delta": piece, "logprobs": []}, padded=True)
        yield event("response.output_text.done", {**part, "text": completion.text, "logprobs": []})
        yield event("response.content_part.done", {**part, "part": _text_part(completion.text)})
    yield event("response.output_item.done", {"output_index": 0, "item": output_item(completion, ids, done=True)})
    finished, tokens = response_object(request, completion, ids, done=True)
    final = "response.incomplete" if finished["status"] == "incomplete" else "response.completed"
    yield event(final, {"response": finished}, tokens)
