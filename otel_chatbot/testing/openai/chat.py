"""Chat Completions answers: the ``chat.completion`` object and the ``chat.completion.chunk`` stream.

A stream is ``data: {chunk}`` events: a first chunk with the role, the content (or the tool
call's arguments) in pieces, a chunk with the ``finish_reason`` and an empty delta, then -- only
when the request asked with ``stream_options.include_usage`` -- a chunk with empty ``choices``
and the ``usage``, and ``data: [DONE]``. With ``include_usage`` every other chunk carries
``"usage": null``, as OpenAI's do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from otel_chatbot.testing.openai.flavor import Flavor
from otel_chatbot.testing.openai.tokens import reported
from otel_chatbot.testing.standin.frames import sse_frame
from otel_chatbot.testing.standin.generation import Completion, json_pieces, split_chunks
from otel_chatbot.testing.standin.responses import StreamEvent
from otel_chatbot.testing.standin.tools import ToolCall
from otel_chatbot.testing.standin.usage import Usage

JsonObject = dict[str, Any]

TOOL_CALL_ID_PREFIX = "call_"
DONE = "[DONE]"
_OBFUSCATION_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SAFE = {"filtered": False, "severity": "safe"}
CONTENT_FILTER_RESULTS = {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}
PROMPT_FILTER_RESULTS = [{"prompt_index": 0, "content_filter_results": CONTENT_FILTER_RESULTS}]


@dataclass(frozen=True)
class Answer:
    """Per-request facts an answer echoes."""

    id: str
    created: int
    model: str
    flavor: Flavor


def finish_reason(completion: Completion) -> str:
    if completion.tool_call is not None:
        return "tool_calls"
    return "length" if completion.truncated else "stop"


def obfuscation(index: int) -> str:
    """OpenAI pads stream events with an ``obfuscation`` string of varying length; clients ignore it."""
    return _OBFUSCATION_ALPHABET[: 3 + (index * 5) % 13]


def tool_call_json(call: ToolCall) -> JsonObject:
    return {
        "id": call.id(TOOL_CALL_ID_PREFIX),
        "type": "function",
        "function": {"name": call.name, "arguments": call.input_json},
    }


def usage_json(tokens: Usage, flavor: Flavor) -> JsonObject:
    """``usage`` of a chat completion, from the tokens OpenAI reports (:func:`tokens.reported`)."""
    usage: JsonObject = {
        "prompt_tokens": tokens.input_tokens,
        "completion_tokens": tokens.output_tokens,
        "total_tokens": tokens.input_tokens + tokens.output_tokens,
    }
    if flavor.usage_details:
        usage["prompt_tokens_details"] = {"cached_tokens": tokens.cache_read_input_tokens, "audio_tokens": 0}
        usage["completion_tokens_details"] = {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
    return usage


def _envelope(answer: Answer, kind: str) -> JsonObject:
    envelope: JsonObject = {"id": answer.id, "object": kind, "created": answer.created, "model": answer.model}
    if answer.flavor.service_tier is not None:
        envelope["service_tier"] = answer.flavor.service_tier
    if answer.flavor.system_fingerprint is not None:
        envelope["system_fingerprint"] = answer.flavor.system_fingerprint
    return envelope


def completion_body(completion: Completion, answer: Answer) -> tuple[JsonObject, Usage]:
    """The ``chat.completion`` object, and the tokens it reports (for the ledger)."""
    message: JsonObject = {"role": "assistant", "content": completion.text, "refusal": None, "annotations": []}
    if completion.tool_call is not None:
        message["content"] = None
        message["tool_calls"] = [tool_call_json(completion.tool_call)]
    choice: JsonObject = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(completion)}
    if answer.flavor.content_filters:
        choice["content_filter_results"] = CONTENT_FILTER_RESULTS
    tokens = reported(completion.usage)
    body = {**_envelope(answer, "chat.completion"), "choices": [choice], "usage": usage_json(tokens, answer.flavor)}
    if answer.flavor.content_filters:
        body["prompt_filter_results"] = PROMPT_FILTER_RESULTS
    return body, tokens


def _deltas(completion: Completion) -> list[JsonObject]:
    """The ``delta`` of each content chunk, the first one carrying the role."""
    call = completion.tool_call
    if call is None:
        first: JsonObject = {"role": "assistant", "content": "", "refusal": None}
        return [first, *({"content": piece} for piece in split_chunks(completion.text))]
    opening = {**tool_call_json(call), "index": 0, "function": {"name": call.name, "arguments": ""}}
    first = {"role": "assistant", "content": None, "tool_calls": [opening], "refusal": None}
    pieces = json_pieces(call.input_json)
    return [first, *({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} for piece in pieces)]


def completion_chunks(
    completion: Completion, answer: Answer, *, include_usage: bool, obfuscate: bool
) -> Iterator[StreamEvent]:
    """The stream of ``chat.completion.chunk`` events; the usage chunk reports the tokens to the ledger."""
    flavor = answer.flavor
    envelope = _envelope(answer, "chat.completion.chunk")
    index = 0

    def event(choices: list[JsonObject], usage: JsonObject | None = None) -> bytes:
        nonlocal index
        chunk: JsonObject = {**envelope, "choices": choices}
        if include_usage:
            chunk["usage"] = usage
        if obfuscate:
            chunk["obfuscation"] = obfuscation(index)
        index += 1
        return sse_frame(chunk)

    if flavor.content_filters:  # Azure: a first chunk with no choices, only the prompt's filter results
        opening = {"choices": [], "created": 0, "id": "", "model": "", "object": ""}
        yield StreamEvent(sse_frame({**opening, "prompt_filter_results": PROMPT_FILTER_RESULTS}))
    for delta in _deltas(completion):
        choice: JsonObject = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        if flavor.content_filters:
            choice["content_filter_results"] = {} if "role" in delta else CONTENT_FILTER_RESULTS
        yield StreamEvent(event([choice]))
    last: JsonObject = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish_reason(completion)}
    if flavor.content_filters:
        last["content_filter_results"] = {}
    yield StreamEvent(event([last]))
    if include_usage:
        tokens = reported(completion.usage)
        yield StreamEvent(event([], usage_json(tokens, flavor)), usage=tokens)
    yield StreamEvent(sse_frame(DONE))
