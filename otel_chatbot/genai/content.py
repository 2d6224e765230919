"""Opt-in capture of prompts and completions in the GenAI convention's JSON shape.

Builds ``gen_ai.input.messages`` / ``gen_ai.output.messages`` values: lists of
``{"role", "parts": [{"type": "text", "content": ...}, ...]}`` (plus ``finish_reason`` on
output messages), following the
convention's input/output messages JSON schemas. :func:`serialize` turns them into a
size-bounded JSON string, optionally redacted. Capturing is the wiring's decision;
nothing here runs unless called.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import models
from ._coerce import as_dict, as_list, as_str, dig, parse_json_object
from .bedrock import read_invoke_model_response
from .messages import Message, Part, assistant_output, text_part, tool_call_part
from .redaction import Redactor
from .types import normalize_finish_reason

__all__ = [
    "converse_input_messages",
    "converse_output_messages",
    "invoke_input_messages",
    "invoke_output_messages",
    "serialize",
]

TRUNCATION_MARKER = "...[truncated]"


def _converse_part(block: Mapping[str, Any]) -> Part | None:
    """One Converse content block as a convention message part."""
    if "text" in block:
        return text_part(block.get("text"))
    tool_use = as_dict(block.get("toolUse"))
    if tool_use:
        return tool_call_part(tool_use.get("toolUseId"), tool_use.get("name"), tool_use.get("input"))
    tool_result = as_dict(block.get("toolResult"))
    if tool_result:
        texts = [as_str(as_dict(c).get("text")) for c in as_list(tool_result.get("content"))]
        jsons = [as_dict(c).get("json") for c in as_list(tool_result.get("content")) if "json" in as_dict(c)]
        return {
            "type": "tool_call_response",
            "id": as_str(tool_result.get("toolUseId")),
            "response": jsons[0] if len(jsons) == 1 and not any(texts) else "".join(t for t in texts if t),
        }
    reasoning = as_str(dig(block, "reasoningContent", "reasoningText", "text"))
    if reasoning is not None:
        return {"type": "reasoning", "content": reasoning}
    for kind in ("image", "document", "video", "audio"):
        media = as_dict(block.get(kind))
        if media:
            # Raw bytes are never captured; record that the modality was there.
            return {"type": kind, "format": as_str(media.get("format"))}
    return None


def _converse_message(message: object, finish_reason: str | None = None) -> Message | None:
    data = as_dict(message)
    role = as_str(data.get("role"))
    if role is None:
        return None
    parts = [p for p in (_converse_part(as_dict(b)) for b in as_list(data.get("content"))) if p]
    result: Message = {"role": role, "parts": parts}
    if finish_reason is not None:
        result["finish_reason"] = finish_reason
    return result


def converse_input_messages(params: Mapping[str, Any]) -> list[Message]:
    """``gen_ai.input.messages`` from ``converse`` keyword arguments (``messages``)."""
    found = (_converse_message(m) for m in as_list(as_dict(params).get("messages")))
    return [m for m in found if m is not None]


def converse_output_messages(response: Mapping[str, Any]) -> list[Message]:
    """``gen_ai.output.messages`` from a ``converse`` result (one choice)."""
    response = as_dict(response)
    reason = as_str(response.get("stopReason"))
    message = _converse_message(dig(response, "output", "message"), normalize_finish_reason(reason) if reason else None)
    return [message] if message is not None else []


def _openai_content(content: object) -> list[Part]:
    """Message content that is a string or a list of ``{"type": "text", "text"}`` blocks."""
    if isinstance(content, str):
        part = text_part(content)
        return [part] if part else []
    parts: list[Part] = []
    for block in as_list(content):
        block = as_dict(block)
        part = text_part(block.get("text")) if block.get("type", "text") == "text" else None
        if part is None and block:
            part = _converse_part(block)  # Nova bodies use Converse-style blocks
        if part is not None:
            parts.append(part)
    return parts


def _chat_messages(messages: object) -> list[Message]:
    result = []
    for message in as_list(messages):
        message = as_dict(message)
        role = as_str(message.get("role"))
        if role is not None:
            result.append({"role": role, "parts": _openai_content(message.get("content"))})
    return result


_COHERE_ROLES = {"USER": "user", "CHATBOT": "assistant", "SYSTEM": "system"}


def invoke_input_messages(model_id: str, body: bytes | str | Mapping[str, Any] | None) -> list[Message]:
    """``gen_ai.input.messages`` from an InvokeModel request body of any family."""
    data = parse_json_object(body)
    if "messages" in data:
        return [m for m in _chat_messages(data.get("messages")) if m["role"] != "system"]
    if models.model_family(model_id) == models.COHERE and "message" in data:
        history = []
        for turn in as_list(data.get("chat_history")):
            turn = as_dict(turn)
            role = _COHERE_ROLES.get(str(turn.get("role")), as_str(turn.get("role")))
            part = text_part(turn.get("message"))
            if role and part:
                history.append({"role": role, "parts": [part]})
        current = text_part(data.get("message"))
        return history + ([{"role": "user", "parts": [current]}] if current else [])
    for key in ("prompt", "inputText"):
        part = text_part(data.get(key))
        if part is not None:
            return [{"role": "user", "parts": [part]}]
    return []


def invoke_output_messages(
    model_id: str, body: bytes | str | Mapping[str, Any] | None, headers: Mapping[str, str] | None = None
) -> list[Message]:
    """``gen_ai.output.messages`` from an InvokeModel response body of any family.

    Multi-generation bodies are folded into one assistant message.
    """
    return assistant_output(read_invoke_model_response(model_id, body, headers))


_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


def _json(value: object) -> tuple[str, int]:
    """``value`` as JSON text with a UTF-8 form, and that form's size.

    A lone surrogate (a valid JSON escape such as ``"\\ud800"`` in a provider's answer)
    has no UTF-8 form: it becomes U+FFFD, so the attribute can still be exported.
    """
    text = json.dumps(value, ensure_ascii=False, default=str)
    try:
        return text, len(text.encode("utf-8"))
    except UnicodeEncodeError:
        text = _LONE_SURROGATES.sub("\ufffd", text)
        return text, len(text.encode("utf-8"))


# Only free-text fields are cut; roles, types, ids and names keep the structure readable.
_CUTTABLE = frozenset({"content", "arguments", "response", "result"})


def _cap_strings(value: Any, limit: int, cuttable: bool = False) -> Any:
    if isinstance(value, str):
        if not cuttable or len(value) <= limit:
            return value
        return value[:limit] + TRUNCATION_MARKER
    if isinstance(value, dict):
        return {k: _cap_strings(v, limit, cuttable or k in _CUTTABLE) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cap_strings(v, limit, cuttable) for v in value]
    return value


def _longest_string(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((_longest_string(v) for v in value.values()), default=0)
    if isinstance(value, list | tuple):
        return max((_longest_string(v) for v in value), default=0)
    return 0


def serialize(messages: Sequence[Any], *, max_bytes: int = 16 * 1024, redactor: Redactor | None = None) -> str:
    """JSON for a messages/instructions list, redacted and at most ``max_bytes`` UTF-8 bytes.

    The result is always valid JSON: long strings are cut and end in
    ``...[truncated]``; if that is not enough the oldest messages are dropped. Returns
    ``"[]"`` when nothing fits.
    """
    value: Any = list(messages)
    if redactor is not None:
        value = redactor.redact_value(value)
    text, size = _json(value)
    if size <= max_bytes:
        return text
    while value:
        low, high = 0, _longest_string(value)
        best = None
        while low <= high:  # longest per-string cap that still fits
            mid = (low + high) // 2
            candidate = _cap_strings(value, mid)
            if _json(candidate)[1] <= max_bytes:
                best, low = candidate, mid + 1
            else:
                high = mid - 1
        if best is not None:
            return _json(best)[0]
        value = value[1:]
    return "[]"
