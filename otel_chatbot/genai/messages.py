"""The convention's message shapes for ``gen_ai.input.messages`` / ``gen_ai.output.messages``.

A message is ``{"role", "parts": [...]}`` (output messages add ``finish_reason``); a part
is ``{"type": "text", "content"}``, ``{"type": "tool_call", "id", "name", "arguments"}``,
``{"type": "tool_call_response", "id", "response"}`` and so on, as the convention's JSON
schemas define them. Every provider's content readers build them with these helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._builder import ResponseBuilder
from ._coerce import as_dict, as_list, as_str
from .types import GenAIResponse, normalize_finish_reason

Message = dict[str, Any]
Part = dict[str, Any]


def text_part(content: object) -> Part | None:
    """A ``text`` part, or None for anything but a non-empty string."""
    text = as_str(content)
    return {"type": "text", "content": text} if text is not None else None


def tool_call_part(call_id: object, name: object, arguments: object) -> Part:
    """A ``tool_call`` part: the model asks for tool ``name`` with ``arguments``, as call ``call_id``."""
    return {"type": "tool_call", "id": as_str(call_id), "name": as_str(name), "arguments": arguments}


def assistant_output(b: ResponseBuilder) -> list[Message]:
    """One assistant message of what ``b`` kept (text, then tool calls), with the normalized finish reason.

    Empty when the builder saw neither content nor a finish reason.
    """
    text = text_part(b.text)
    parts: list[Part] = ([text] if text is not None else []) + b.tool_calls.parts()
    if not parts and not b.finish_reasons:
        return []
    message: Message = {"role": "assistant", "parts": parts}
    if b.finish_reasons:
        reason = normalize_finish_reason(b.finish_reasons[-1])
        # Ollama says "stop" after asking for tools; the convention's word for that is tool_call.
        message["finish_reason"] = "tool_call" if reason == "stop" and len(b.tool_calls) else reason
    return [message]


def by_role(messages: object, parts_of: Callable[[dict[str, Any]], list[Part]]) -> list[Message]:
    """Each request message that has a role, with the parts ``parts_of`` reads from it."""
    found: list[Message] = []
    for message in as_list(messages):
        message = as_dict(message)
        role = as_str(message.get("role"))
        if role is not None:
            found.append({"role": role, "parts": parts_of(message)})
    return found


def content_parts(content: object, block_part: Callable[[dict[str, Any]], Part | None]) -> list[Part]:
    """Message content that is a string, or a list of blocks each read by ``block_part``."""
    if isinstance(content, str):
        part = text_part(content)
        return [part] if part is not None else []
    return [p for p in (block_part(as_dict(block)) for block in as_list(content)) if p is not None]


Reader = Callable[[Mapping[str, Any], ResponseBuilder], object]
"""Fills a builder from a whole answer body."""


def response_of(read: Reader, body: Mapping[str, Any]) -> GenAIResponse:
    """The response facts ``read`` finds in ``body`` (no content kept)."""
    b = ResponseBuilder(keep_text=False)
    read(body, b)
    return b.build()


def output_of(read: Reader, body: Mapping[str, Any]) -> list[Message]:
    """The assistant message ``read`` finds in ``body`` (for content capture)."""
    b = ResponseBuilder(keep_text=True)
    read(body, b)
    return assistant_output(b)
