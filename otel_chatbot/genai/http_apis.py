"""The HTTP APIs a GenAI call can go through: one row per API, as pure functions.

Each :class:`HttpApi` row holds two :class:`~.operations.Operation` rows of the shared
operation type: ``buffered`` for a whole JSON answer, ``streamed`` for an SSE or NDJSON
stream, picked per call by what the request body asks (``"stream": true``; Ollama streams
unless told not to). Which API and provider a request is comes from :mod:`.endpoints`.

The row functions take :data:`HttpParams` (the request's JSON body, the provider, and the
model the path names, for Azure deployments) and a result ``{"body": <decoded answer>}``.
Adding an API is adding a row and its parsers; the HTTP client wiring does not change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import anthropic, ollama, openai
from ._coerce import as_dict, parse_json_object
from .framing import ServerSentEvent
from .messages import Message
from .operations import Operation, Params, Result, StreamSpec
from .types import GenAIRequest, GenAIResponse

Framing = Literal["sse", "ndjson"]

HttpParams = Params
"""``{"body": dict, "provider": str, "model": str | None}``: what the rows read of a request."""

_SCAN_LIMIT = 64 * 1024
_WINDOW = 4096


def _body(params: Params) -> dict[str, Any]:
    return as_dict(params.get("body"))


def _answer(result: Result) -> dict[str, Any]:
    return as_dict(result.get("body"))


@dataclass(frozen=True, slots=True)
class HttpApi:
    """One API: its rows, how its streams are framed, and what ends them."""

    name: str
    buffered: Operation
    streamed: Operation
    framing: Framing
    streams: Callable[[Mapping[str, Any]], bool]
    """Whether a request body asks for a streamed answer."""
    terminal: Callable[[Any], bool]
    """True for the event after which the stream is complete (the app may close it then)."""
    read_body: Callable[[bytes], dict[str, Any]] = parse_json_object
    """Decodes a whole (non-streamed) answer body."""
    usage_hint: str | None = None
    """The request option that makes a stream report its usage, for the one log hint when it did not."""

    def operation(self, body: Mapping[str, Any]) -> Operation:
        return self.streamed if self.streams(body) else self.buffered


def _streams_when_asked(body: Mapping[str, Any]) -> bool:
    return body.get("stream") is True


_END_FIELDS = ("id", "model", "usage", "prompt_eval_count", "eval_count", "stop_reason", "done_reason")


def read_scalar_fields(body: bytes) -> dict[str, Any]:
    """The top-level fields outside the vectors of a large embeddings answer, without decoding the vectors.

    A batch of float vectors is megabytes of JSON that would cost tens of milliseconds to
    decode; the fields we read (``model``, ``usage``, ``prompt_eval_count``) sit before or
    after the vectors, so only the first and last few KiB are searched. A small body is
    decoded whole.
    """
    if len(body) <= _SCAN_LIMIT:
        return parse_json_object(body)
    return scan_ends(body[:_WINDOW], body[-_WINDOW:])


def scan_ends(head: bytes, tail: bytes) -> dict[str, Any]:
    """The answer fields found in the first and last bytes of a body too large to keep (or decode) whole.

    Each key is looked up as ``"key":`` and its JSON value decoded where it stands; the
    last occurrence in a window wins (top-level fields follow nested ones of the same name).
    """
    found: dict[str, Any] = {}
    decoder = json.JSONDecoder()
    for window in (tail, head):
        text = window.decode("utf-8", "replace")
        for key in _END_FIELDS:
            marker = f'"{key}"'
            at = text.rfind(marker)
            if at < 0 or key in found:
                continue
            colon = text.find(":", at + len(marker))
            if colon < 0:
                continue
            start = colon + 1
            while start < len(text) and text[start] in " \t\r\n":
                start += 1
            try:
                value, _ = decoder.raw_decode(text, start)
            except ValueError:
                continue
            found[key] = value
    return found


def _rows(
    request: Callable[..., GenAIRequest],
    response: Callable[[Mapping[str, Any]], GenAIResponse],
    accumulator: Callable[..., Any],
    input_messages: Callable[[Mapping[str, Any]], list[Message]] | None,
    output_messages: Callable[[Mapping[str, Any]], list[Message]] | None,
) -> tuple[Operation, Operation]:
    """The buffered and streamed rows of one API, adapted to the row signatures."""

    def read_request(params: Params) -> GenAIRequest:
        return request(_body(params), params.get("provider"), params.get("model"))

    def read_response(params: Params, result: Result) -> GenAIResponse:
        return response(_answer(result))

    def stream(params: Params, capture_content: bool) -> Any:
        return accumulator(capture_content=capture_content)

    inputs = None if input_messages is None else (lambda params: input_messages(_body(params)))
    outputs = None if output_messages is None else (lambda params, result: output_messages(_answer(result)))
    return (
        Operation(request=read_request, response=read_response, input_messages=inputs, output_messages=outputs),
        Operation(request=read_request, stream=StreamSpec("body", stream), input_messages=inputs),
    )


def _sse_done(event: ServerSentEvent) -> bool:
    """``[DONE]``, or an error chunk (``data: {"error": ...}``: the SDK stops reading after it)."""
    return event.data == "[DONE]" or event.data.startswith('{"error"')


def _anthropic_done(event: ServerSentEvent) -> bool:
    return event.event in ("message_stop", "error")


def _responses_done(event: ServerSentEvent) -> bool:
    return event.event in ("response.completed", "response.incomplete", "response.failed", "error")


def _ndjson_done(line: Mapping[str, Any]) -> bool:
    return line.get("done") is True or "error" in line


def _never(event: object) -> bool:
    return False


OPENAI_CHAT = HttpApi(
    "openai.chat_completions",
    *_rows(
        openai.chat_request,
        openai.chat_response,
        openai.ChatStreamAccumulator,
        openai.chat_input_messages,
        openai.chat_output_messages,
    ),
    framing="sse",
    streams=_streams_when_asked,
    terminal=_sse_done,
    usage_hint=openai.USAGE_HINT,
)
OPENAI_RESPONSES = HttpApi(
    "openai.responses",
    *_rows(
        openai.responses_request,
        openai.responses_response,
        openai.ResponsesStreamAccumulator,
        openai.responses_input_messages,
        openai.responses_output_messages,
    ),
    framing="sse",
    streams=_streams_when_asked,
    terminal=_responses_done,
)
OPENAI_EMBEDDINGS = HttpApi(
    "openai.embeddings",
    *_rows(openai.embeddings_request, openai.embeddings_response, openai.ChatStreamAccumulator, None, None),
    framing="sse",
    streams=lambda body: False,
    terminal=_never,
    read_body=read_scalar_fields,
)
ANTHROPIC_MESSAGES = HttpApi(
    "anthropic.messages",
    *_rows(
        anthropic.messages_request,
        anthropic.messages_response,
        anthropic.MessagesStreamAccumulator,
        anthropic.input_messages,
        anthropic.output_messages,
    ),
    framing="sse",
    streams=_streams_when_asked,
    terminal=_anthropic_done,
)
OLLAMA_CHAT = HttpApi(
    "ollama.chat",
    *_rows(
        ollama.chat_request,
        ollama.answer_response,
        ollama.AnswerStreamAccumulator,
        ollama.chat_input_messages,
        ollama.answer_output_messages,
    ),
    framing="ndjson",
    streams=ollama.streams,
    terminal=_ndjson_done,
)
OLLAMA_GENERATE = HttpApi(
    "ollama.generate",
    *_rows(
        ollama.generate_request,
        ollama.answer_response,
        ollama.AnswerStreamAccumulator,
        ollama.generate_input_messages,
        ollama.answer_output_messages,
    ),
    framing="ndjson",
    streams=ollama.streams,
    terminal=_ndjson_done,
)
OLLAMA_EMBED = HttpApi(
    "ollama.embed",
    *_rows(ollama.embed_request, ollama.embed_response, ollama.AnswerStreamAccumulator, None, None),
    framing="ndjson",
    streams=lambda body: False,
    terminal=_never,
    read_body=read_scalar_fields,
)

HTTP_APIS: Mapping[str, HttpApi] = {
    api.name: api
    for api in (
        OPENAI_CHAT,
        OPENAI_RESPONSES,
        OPENAI_EMBEDDINGS,
        ANTHROPIC_MESSAGES,
        OLLAMA_CHAT,
        OLLAMA_GENERATE,
        OLLAMA_EMBED,
    )
}
"""Every HTTP API recognised, by name."""
