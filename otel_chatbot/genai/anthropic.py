"""Anthropic's Messages format: the direct API (``POST /v1/messages``) and Claude on Bedrock.

One format, two transports: Bedrock's InvokeModel carries the same message bodies and
stream events (``message_start`` / ``content_block_delta`` / ``message_delta``), so the
Bedrock family readers use :func:`read_message` and :func:`read_event` too.

Token counts: Anthropic's ``input_tokens`` excludes the prompt-cache reads and writes,
which come as ``cache_read_input_tokens`` / ``cache_creation_input_tokens``; the builder
keeps that split and ``gen_ai.usage.input_tokens`` adds them back (see
:class:`~.types.TokenUsage`). In a stream, ``message_start`` carries the input and cache
counts and a provisional ``output_tokens``; ``message_delta`` the final (cumulative) ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import names
from ._builder import ResponseBuilder
from ._coerce import as_dict, as_float, as_int, as_list, as_str, str_tuple
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

PROVIDER = "anthropic"
"""``gen_ai.provider.name`` of the Anthropic API (the convention's ``anthropic``)."""


def read_usage(usage: Mapping[str, Any], b: ResponseBuilder) -> None:
    b.set_usage(
        uncached_input=usage.get("input_tokens"),
        output=usage.get("output_tokens"),
        cache_read=usage.get("cache_read_input_tokens"),
        cache_write=usage.get("cache_creation_input_tokens"),
    )


def read_message(body: Mapping[str, Any], b: ResponseBuilder) -> None:
    """Fill ``b`` from a whole message (a response body, or ``message_start``'s message)."""
    b.set_id(body.get("id"))
    b.set_model(body.get("model"))
    b.add_finish_reason(body.get("stop_reason"))
    read_usage(as_dict(body.get("usage")), b)
    for index, block in enumerate(as_list(body.get("content"))):
        block = as_dict(block)
        kind = block.get("type")
        if kind == "text":
            b.add_text(block.get("text"))
        elif kind == "tool_use":
            b.tool_calls.add(index, block.get("id"), block.get("name"), block.get("input"))
    b.add_text(body.get("completion"))  # legacy text-completion body


def read_event(event: Mapping[str, Any], b: ResponseBuilder) -> bool:
    """Fill ``b`` from one stream event; True when it carried generated content.

    Tool calls are assembled from ``content_block_start`` (id, name) and the
    ``input_json_delta`` pieces of their block.
    """
    kind = event.get("type")
    if kind == "content_block_delta":
        delta = as_dict(event.get("delta"))
        b.add_text(delta.get("text"))
        if delta.get("type") == "input_json_delta":
            b.tool_calls.extend_arguments(event.get("index"), delta.get("partial_json"))
        return any(as_str(delta.get(k)) for k in ("text", "partial_json", "thinking"))
    if kind == "content_block_start":
        block = as_dict(event.get("content_block"))
        if block.get("type") == "tool_use":
            b.tool_calls.add(event.get("index"), block.get("id"), block.get("name"))
        return False
    if kind == "message_start":
        # Its output_tokens is provisional (message_delta has the count): an estimate is never recorded.
        message = as_dict(event.get("message"))
        read_message({k: v for k, v in message.items() if k not in ("content", "usage")}, b)
        usage = as_dict(message.get("usage"))
        read_usage({k: v for k, v in usage.items() if k != "output_tokens"}, b)
        return False
    if kind == "message_delta":
        b.add_finish_reason(as_dict(event.get("delta")).get("stop_reason"))
        read_usage(as_dict(event.get("usage")), b)
        return False
    if kind == "error":
        b.error_type = as_str(as_dict(event.get("error")).get("type")) or "error"
        return False
    if "completion" in event:  # legacy text-completion stream
        b.add_text(event.get("completion"))
        b.add_finish_reason(event.get("stop_reason"))
        return bool(as_str(event.get("completion")))
    return False


# --- the direct API -----------------------------------------------------------------------


def messages_request(body: Mapping[str, Any], provider: str = PROVIDER, model: str | None = None) -> GenAIRequest:
    """Request facts from a ``POST /v1/messages`` body (``model`` when a gateway's path names it)."""
    return GenAIRequest(
        operation_name=names.OPERATION_CHAT,
        provider_name=provider,
        model=as_str(body.get("model")) or model,
        max_tokens=as_int(body.get("max_tokens")),
        temperature=as_float(body.get("temperature")),
        top_p=as_float(body.get("top_p")),
        top_k=as_float(body.get("top_k")),
        stop_sequences=str_tuple(body.get("stop_sequences")),
        stream=body.get("stream") is True,
    )


def messages_response(body: Mapping[str, Any]) -> GenAIResponse:
    """Response facts from a message body."""
    return response_of(read_message, body)


def _part(block: Mapping[str, Any]) -> Part | None:
    kind = block.get("type")
    if kind == "text":
        return text_part(block.get("text"))
    if kind == "tool_use":
        return tool_call_part(block.get("id"), block.get("name"), block.get("input"))
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, list):
            content = "".join(as_str(as_dict(c).get("text")) or "" for c in content)
        return {"type": "tool_call_response", "id": as_str(block.get("tool_use_id")), "response": content}
    if kind == "thinking":
        return {"type": "reasoning", "content": as_str(block.get("thinking"))}
    if kind in ("image", "document"):
        return {"type": kind}  # raw media is never captured; only that it was there
    return None


def input_messages(body: Mapping[str, Any]) -> list[Message]:
    """``gen_ai.input.messages`` from a Messages request body (the system prompt is not a message)."""
    return by_role(body.get("messages"), lambda message: content_parts(message.get("content"), _part))


def output_messages(body: Mapping[str, Any]) -> list[Message]:
    """``gen_ai.output.messages`` from a message body: its text and tool calls, with the finish reason."""
    return output_of(read_message, body)


class MessagesStreamAccumulator:
    """Folds the server-sent events of a streamed ``/v1/messages`` answer."""

    steps = ()

    def __init__(self, *, capture_content: bool) -> None:
        self._b = ResponseBuilder(keep_text=capture_content)
        self.chunks = 0

    def feed(self, event: ServerSentEvent) -> None:
        if read_event(event.json(), self._b):
            self.chunks += 1

    def response(self) -> GenAIResponse:
        return self._b.build()

    def output_messages(self) -> list[Message]:
        return assistant_output(self._b)
