"""The OpenAI API and every server that speaks it: Chat Completions, Responses, Embeddings.

Azure OpenAI, vLLM, LiteLLM and Ollama's ``/v1/`` answer in the same shapes; who answered
is the wiring's ``provider`` argument, never guessed here. Token counts: OpenAI's
``prompt_tokens`` (Responses: ``input_tokens``) *includes* the cached prompt tokens
reported in ``*_tokens_details.cached_tokens``, so the builder gets the uncached part and
the cached part separately and ``gen_ai.usage.input_tokens`` equals what OpenAI reported.

The Responses API has no finish reason; its ``status`` and ``incomplete_details.reason``
are recorded in Chat Completions' words (``stop``, ``tool_calls``, ``length``,
``content_filter``) so one query covers both APIs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from . import names
from ._builder import ResponseBuilder
from ._coerce import as_dict, as_float, as_int, as_list, as_str, first, str_tuple
from .framing import ServerSentEvent
from .messages import (
    Message,
    Part,
    assistant_output,
    by_role,
    content_parts,
    output_of,
    response_of,
    text_part,
    tool_call_part,
)
from .types import GenAIRequest, GenAIResponse

PROVIDER = "openai"
"""``gen_ai.provider.name`` of OpenAI, and of an OpenAI-compatible server of unknown vendor:
the convention's value names the API flavour, ``server.address`` the server."""

AZURE_PROVIDER = "azure.ai.openai"
"""``gen_ai.provider.name`` of Azure OpenAI (the convention's ``azure.ai.openai``)."""

USAGE_HINT = 'stream_options={"include_usage": true}'
"""The request option that makes a streamed Chat Completion report its usage."""


def _usage(usage: Mapping[str, Any], b: ResponseBuilder, input_key: str, output_key: str, details_key: str) -> None:
    total_input = as_int(usage.get(input_key))
    cached = as_int(as_dict(usage.get(details_key)).get("cached_tokens"))
    b.set_usage(
        uncached_input=None if total_input is None else max(total_input - (cached or 0), 0),
        output=usage.get(output_key),
        cache_read=cached if total_input is not None else None,
    )


def _request(body: Mapping[str, Any], operation: str, provider: str, model: str | None) -> GenAIRequest:
    return GenAIRequest(
        operation_name=operation,
        provider_name=provider,
        model=as_str(body.get("model")) or model,
        max_tokens=as_int(
            first(body.get("max_completion_tokens"), body.get("max_tokens"), body.get("max_output_tokens"))
        ),
        temperature=as_float(body.get("temperature")),
        top_p=as_float(body.get("top_p")),
        stop_sequences=str_tuple(body.get("stop")),
        seed=as_int(body.get("seed")),
        choice_count=as_int(body.get("n")),
        stream=body.get("stream") is True,
    )


# --- Chat Completions ----------------------------------------------------------------------


def chat_request(body: Mapping[str, Any], provider: str = PROVIDER, model: str | None = None) -> GenAIRequest:
    """Request facts from a ``/chat/completions`` body; ``model`` is the Azure deployment when the path names one."""
    return _request(body, names.OPERATION_CHAT, provider, model)


def _choice_builder(choices: dict[int, ResponseBuilder], index: object, keep: bool) -> ResponseBuilder:
    key = as_int(index) or 0
    found = choices.get(key)
    if found is None:
        found = choices[key] = ResponseBuilder(keep_text=keep)
    return found


def _read_message(message: Mapping[str, Any], b: ResponseBuilder) -> None:
    b.add_text(message.get("content"))
    for position, call in enumerate(as_list(message.get("tool_calls"))):
        call = as_dict(call)
        function = as_dict(call.get("function"))
        b.tool_calls.add(position, call.get("id"), function.get("name"), function.get("arguments"))


def read_chat_completion(body: Mapping[str, Any], b: ResponseBuilder, choices: dict[int, ResponseBuilder]) -> None:
    """Fill ``b`` (the call's facts) and ``choices`` (each choice's content) from a ``chat.completion``."""
    b.set_id(body.get("id"))
    b.set_model(body.get("model"))
    for choice in as_list(body.get("choices")):
        choice = as_dict(choice)
        reason = choice.get("finish_reason")
        b.add_finish_reason(reason)
        content = _choice_builder(choices, choice.get("index"), b.keep_text)
        content.add_finish_reason(reason)
        _read_message(as_dict(choice.get("message")), content)
    _usage(as_dict(body.get("usage")), b, "prompt_tokens", "completion_tokens", "prompt_tokens_details")


def chat_response(body: Mapping[str, Any]) -> GenAIResponse:
    b = ResponseBuilder(keep_text=False)
    read_chat_completion(body, b, {})
    return b.build()


def _choice_messages(choices: Mapping[int, ResponseBuilder]) -> list[Message]:
    found: list[Message] = []
    for index in sorted(choices):
        found.extend(assistant_output(choices[index]))
    return found


def chat_output_messages(body: Mapping[str, Any]) -> list[Message]:
    """``gen_ai.output.messages``: one assistant message per choice (text, tool calls, finish reason)."""
    choices: dict[int, ResponseBuilder] = {}
    read_chat_completion(body, ResponseBuilder(keep_text=True), choices)
    return _choice_messages(choices)


def _chat_part(block: Mapping[str, Any]) -> Part | None:
    kind = block.get("type", "text")
    if kind == "text":
        return text_part(block.get("text"))
    if kind in ("image_url", "input_audio", "file"):
        return {"type": kind}  # raw media is never captured; only that it was there
    return None


def _chat_message_parts(message: dict[str, Any]) -> list[Part]:
    content = message.get("content")
    if message.get("role") == "tool":
        return [{"type": "tool_call_response", "id": as_str(message.get("tool_call_id")), "response": content}]
    parts = content_parts(content, _chat_part)
    for call in as_list(message.get("tool_calls")):
        call = as_dict(call)
        function = as_dict(call.get("function"))
        parts.append(tool_call_part(call.get("id"), function.get("name"), function.get("arguments")))
    return parts


def chat_input_messages(body: Mapping[str, Any]) -> list[Message]:
    """``gen_ai.input.messages`` from a ``/chat/completions`` body (system and developer messages included)."""
    return by_role(body.get("messages"), _chat_message_parts)


_PLAIN = r'[^"\\\x00-\x1f]'  # a JSON string's character that needs no escape
_CONTENT_CHUNK = re.compile(
    r'\{"id":"(' + _PLAIN + r'+)","object":"chat\.completion\.chunk","created":(?:0|[1-9][0-9]*),'
    r'"model":"(' + _PLAIN + r'+)"'
    r'(?:,"service_tier":"' + _PLAIN + r'*")?(?:,"system_fingerprint":(?:"' + _PLAIN + r'*"|null))?'
    r',"choices":\[\{"index":0,"delta":\{(?:"role":"assistant",)?'
    r'"content":"(' + _PLAIN + r'*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})' + _PLAIN + r'*)*)"\}'
    r'(?:,"logprobs":null)?,"finish_reason":null\}\](?:,"usage":null)?(?:,"obfuscation":"' + _PLAIN + r'*")?\}'
)
"""A Chat Completions content chunk exactly as OpenAI writes it (compact JSON, these keys in this
order, one choice, a text delta, no finish reason, no usage): id, model and the raw text."""


def content_chunk(data: str) -> tuple[str, str, str] | None:
    """``(id, model, text)`` of the commonest chunk of a streamed Chat Completion, or None.

    Matched whole, so a match is valid JSON of exactly that shape and the general reader
    (``json.loads`` and :meth:`ChatStreamAccumulator.feed`) would find the same id, model
    and text; the text is decoded only when it has escapes.
    """
    found = _CONTENT_CHUNK.fullmatch(data)
    if found is None:
        return None
    chunk_id, model, text = found.groups()
    return chunk_id, model, json.loads(f'"{text}"') if "\\" in text else text


class ChatStreamAccumulator:
    """Folds the ``chat.completion.chunk`` events of a streamed Chat Completion.

    Tool calls are assembled per choice from their ``delta.tool_calls`` pieces (keyed by
    ``index``: the id and name come first, the arguments in fragments). Usage arrives only
    with ``stream_options.include_usage`` (a last chunk with no choices); Azure's first
    chunk has no choices either. ``data: {"error": ...}`` is an in-stream error.
    """

    steps = ()

    def __init__(self, *, capture_content: bool) -> None:
        self._b = ResponseBuilder(keep_text=False)
        self._choices: dict[int, ResponseBuilder] = {}
        self._keep = capture_content
        self.chunks = 0

    def feed(self, event: ServerSentEvent) -> None:
        plain = content_chunk(event.data)
        if plain is not None:  # the commonest chunk, read the short way: what the general path does with it
            b = self._b
            b.response_id, b.response_model, delta_text = plain  # set_id / set_model of a non-empty value
            target = _choice_builder(self._choices, 0, self._keep)
            if delta_text:
                target.add_text(delta_text)
                self.chunks += 1
            return
        chunk = event.json()
        if not chunk:
            return
        error = as_dict(chunk.get("error"))
        if error:
            self._b.error_type = as_str(error.get("code")) or as_str(error.get("type")) or "error"
            return
        b = self._b
        b.set_id(chunk.get("id"))
        b.set_model(chunk.get("model"))
        content = False
        for choice in as_list(chunk.get("choices")):
            choice = as_dict(choice)
            target = _choice_builder(self._choices, choice.get("index"), self._keep)
            delta = as_dict(choice.get("delta"))
            text = as_str(delta.get("content")) or as_str(delta.get("refusal"))
            target.add_text(text)
            calls = as_list(delta.get("tool_calls"))
            for call in calls:
                call = as_dict(call)
                function = as_dict(call.get("function"))
                key = as_int(call.get("index")) or 0
                target.tool_calls.add(key, call.get("id"), function.get("name"))
                target.tool_calls.extend_arguments(key, function.get("arguments"))
            content = content or text is not None or bool(calls)
            reason = choice.get("finish_reason")
            b.add_finish_reason(reason)
            target.add_finish_reason(reason)
        usage = as_dict(chunk.get("usage"))
        if usage:
            _usage(usage, b, "prompt_tokens", "completion_tokens", "prompt_tokens_details")
        if content:
            self.chunks += 1

    def response(self) -> GenAIResponse:
        return self._b.build()

    def output_messages(self) -> list[Message]:
        return _choice_messages(self._choices) if self._keep else []


# --- Responses -------------------------------------------------------------------------------


def responses_request(body: Mapping[str, Any], provider: str = PROVIDER, model: str | None = None) -> GenAIRequest:
    """Request facts from a ``/responses`` body."""
    return _request(body, names.OPERATION_CHAT, provider, model)


def read_response_object(response: Mapping[str, Any], b: ResponseBuilder) -> None:
    """Fill ``b`` from a Responses ``response`` object (a body, or a stream's final event's ``response``)."""
    b.set_id(response.get("id"))
    b.set_model(response.get("model"))
    calls = False
    for position, item in enumerate(as_list(response.get("output"))):
        item = as_dict(item)
        kind = item.get("type")
        if kind == "message":
            for part in as_list(item.get("content")):
                part = as_dict(part)
                b.add_text(part.get("text") if part.get("type") == "output_text" else part.get("refusal"))
        elif kind == "function_call":
            calls = True
            b.tool_calls.add(position, item.get("call_id"), item.get("name"), item.get("arguments"))
    status = as_str(response.get("status"))
    if status == "completed" and not b.finish_reasons:
        b.add_finish_reason("tool_calls" if calls or len(b.tool_calls) else "stop")
    elif status == "incomplete" and not b.finish_reasons:
        reason = as_str(as_dict(response.get("incomplete_details")).get("reason"))
        b.add_finish_reason("length" if reason == "max_output_tokens" else reason or "incomplete")
    elif status == "failed":
        b.error_type = as_str(as_dict(response.get("error")).get("code")) or "failed"
    usage = as_dict(response.get("usage"))
    if usage:
        _usage(usage, b, "input_tokens", "output_tokens", "input_tokens_details")


def responses_response(body: Mapping[str, Any]) -> GenAIResponse:
    return response_of(read_response_object, body)


def responses_output_messages(body: Mapping[str, Any]) -> list[Message]:
    return output_of(read_response_object, body)


def responses_input_messages(body: Mapping[str, Any]) -> list[Message]:
    """``gen_ai.input.messages`` from a ``/responses`` body: ``input`` as a string or a list of items."""
    given = body.get("input")
    if isinstance(given, str):
        part = text_part(given)
        return [{"role": "user", "parts": [part] if part is not None else []}]
    found: list[Message] = []
    for item in as_list(given):
        item = as_dict(item)
        kind = item.get("type", "message")
        if kind == "function_call_output":
            part = {"type": "tool_call_response", "id": as_str(item.get("call_id")), "response": item.get("output")}
            found.append({"role": "tool", "parts": [part]})
        elif kind == "function_call":
            call = tool_call_part(item.get("call_id"), item.get("name"), item.get("arguments"))
            found.append({"role": "assistant", "parts": [call]})
        elif kind == "message":
            role = as_str(item.get("role")) or "user"
            content = item.get("content")
            if isinstance(content, str):
                parts = [text_part(content)]
            else:
                parts = [text_part(as_dict(c).get("text")) for c in as_list(content)]
            found.append({"role": role, "parts": [p for p in parts if p is not None]})
    return found


class ResponsesStreamAccumulator:
    """Folds the typed events of a streamed Response (``event: response.output_text.delta`` ...).

    The final ``response.completed`` / ``response.incomplete`` / ``response.failed`` event
    carries the whole response with its usage; ``error`` is an in-stream error.
    """

    steps = ()

    def __init__(self, *, capture_content: bool) -> None:
        self._b = ResponseBuilder(keep_text=capture_content)
        self.chunks = 0

    def feed(self, event: ServerSentEvent) -> None:
        data = event.json()
        kind = as_str(data.get("type")) or event.event
        b = self._b
        if kind in ("response.output_text.delta", "response.refusal.delta"):
            b.add_text(data.get("delta"))
            self.chunks += 1
        elif kind == "response.function_call_arguments.delta":
            b.tool_calls.extend_arguments(data.get("output_index"), data.get("delta"))
            self.chunks += 1
        elif kind == "response.reasoning_summary_text.delta":
            self.chunks += 1
        elif kind == "response.output_item.added":
            item = as_dict(data.get("item"))
            if item.get("type") == "function_call":
                b.tool_calls.add(data.get("output_index"), item.get("call_id"), item.get("name"))
        elif kind in ("response.created", "response.in_progress"):
            response = as_dict(data.get("response"))
            b.set_id(response.get("id"))
            b.set_model(response.get("model"))
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            final = as_dict(data.get("response"))
            # The final object repeats the output the deltas already gave: read its facts only.
            read_response_object({k: v for k, v in final.items() if k != "output"}, b)
        elif kind == "error":
            b.error_type = as_str(data.get("code")) or "error"

    def response(self) -> GenAIResponse:
        return self._b.build()

    def output_messages(self) -> list[Message]:
        b = self._b
        return assistant_output(b) if b.text_parts or len(b.tool_calls) else []


# --- Embeddings ----------------------------------------------------------------------------


def embeddings_request(body: Mapping[str, Any], provider: str = PROVIDER, model: str | None = None) -> GenAIRequest:
    return GenAIRequest(
        operation_name=names.OPERATION_EMBEDDINGS,
        provider_name=provider,
        model=as_str(body.get("model")) or model,
        encoding_formats=str_tuple(body.get("encoding_format")),
    )


def embeddings_response(body: Mapping[str, Any]) -> GenAIResponse:
    """Response facts from an embeddings body (read from its tail: see :func:`.framing` callers)."""
    b = ResponseBuilder(keep_text=False)
    b.set_model(body.get("model"))
    usage = as_dict(body.get("usage"))
    b.set_usage(uncached_input=usage.get("prompt_tokens"))
    return b.build()
