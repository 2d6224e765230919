"""Anthropic's Messages format: request bodies into the deterministic model, and its answers back out.

Anthropic's API and Bedrock's InvokeModel for Claude speak the same format, so both stand-ins
use this module; a :class:`MessageStyle` holds where they differ (id prefixes, the usage in
``message_delta``, ``ping`` events, how tool arguments are split). A stream is
``message_start`` (with the input usage), per content block ``content_block_start``,
``content_block_delta`` (``text_delta`` / ``input_json_delta``) and ``content_block_stop``,
then ``message_delta`` (``stop_reason`` and the output tokens) and ``message_stop``.

Usage: ``input_tokens`` excludes the cached prefix, reported apart as
``cache_creation_input_tokens`` (first sight) or ``cache_read_input_tokens`` (later): the text
up to and including the last block with ``cache_control`` (tools, then system, then messages).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otel_chatbot.testing.standin.api import InvalidRequest
from otel_chatbot.testing.standin.generation import Completion, Prompt, PromptBuilder, json_pieces, split_chunks
from otel_chatbot.testing.standin.tools import NONE, REQUIRED
from otel_chatbot.testing.standin.usage import Usage

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class MessageStyle:
    """How one service words the Messages format."""

    tool_id_prefix: str
    cumulative_delta_usage: bool  # message_delta repeats input and cache counts (Anthropic's API)
    ping: bool  # a ping event after the first content block starts (Anthropic's API)
    split_tool_json: bool  # input_json_delta in several pieces (Anthropic's API) or one (Bedrock)
    usage_details: bool  # cache_creation breakdown and service_tier in usage (Anthropic's API)


ANTHROPIC = MessageStyle("toolu_01", cumulative_delta_usage=True, ping=True, split_tool_json=True, usage_details=True)
BEDROCK = MessageStyle(
    "toolu_bdrk_", cumulative_delta_usage=False, ping=False, split_tool_json=False, usage_details=False
)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


def _list(value: Any, where: str) -> list[JsonObject]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InvalidRequest(f"{where}: Input should be a valid list of objects")
    return value


def _block_text(block: Mapping[str, Any]) -> str:
    kind = block.get("type")
    if not isinstance(kind, str):
        raise InvalidRequest("content block type: Field required")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return _dumps(block.get("input", {}))
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, str):
            return content
        return " ".join(_block_text(item) for item in content if isinstance(item, dict))
    return ""


def _blocks(builder: PromptBuilder, content: Any, where: str) -> list[str]:
    """Add content (a string or blocks); ``cache_control`` caches up to and including its block."""
    if isinstance(content, str):
        builder.add(content)
        return [content]
    texts = []
    for block in _list(content, where):
        text = _block_text(block)
        builder.add(text)
        texts.append(text)
        if block.get("cache_control"):
            builder.cache_point()
    return texts


def _tool_choice(choice: Any, builder: PromptBuilder) -> bool:
    """Apply ``tool_choice`` (``auto``, ``any``, ``tool`` + ``name``, ``none``); False when tools are off."""
    if choice is None:
        return True
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind == "auto":
        return True
    if kind == "none":
        builder.choose_tool(NONE)
        return False
    if kind == "any":
        builder.choose_tool(REQUIRED)
        return True
    if kind == "tool" and isinstance(choice.get("name"), str):
        builder.choose_tool(choice["name"])
        return True
    raise InvalidRequest("tool_choice: Input tag does not match the expected tags 'auto', 'any', 'tool', 'none'")


def messages_prompt(body: Mapping[str, Any]) -> Prompt:
    """A Messages body: ``tools``, ``system``, ``messages``; ``max_tokens`` is required."""
    builder = PromptBuilder()
    _tool_choice(body.get("tool_choice"), builder)
    for tool in _list(body.get("tools", []), "tools"):
        spec = {key: value for key, value in tool.items() if key != "cache_control"}
        builder.add_tool(str(tool.get("name", "")), tool.get("input_schema", {}), _dumps(spec))
        if tool.get("cache_control"):
            builder.cache_point()
    if "system" in body:
        _blocks(builder, body["system"], "system")
    if "messages" not in body:
        raise InvalidRequest("messages: Field required")
    for index, message in enumerate(_list(body["messages"], "messages")):
        content = message.get("content", "")
        texts = _blocks(builder, content, f"messages.{index}.content")
        if message.get("role") == "user":
            has_result = isinstance(content, list) and any(block.get("type") == "tool_result" for block in content)
            builder.user_turn(" ".join(texts), has_result)
        else:
            builder.other_turn()
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        raise InvalidRequest("max_tokens: Field required")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise InvalidRequest("max_tokens: Input should be a valid integer")
    return builder.build(max_tokens)


def stop_reason(completion: Completion) -> str:
    if completion.tool_call is not None:
        return "tool_use"
    return "max_tokens" if completion.truncated else "end_turn"


def usage_json(usage: Usage, style: MessageStyle, output_tokens: int) -> JsonObject:
    """``usage`` of a message (``output_tokens`` given: ``message_start`` reports a provisional 1)."""
    document: JsonObject = {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_write_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
    }
    if style.usage_details:
        document["cache_creation"] = {
            "ephemeral_5m_input_tokens": usage.cache_write_input_tokens,
            "ephemeral_1h_input_tokens": 0,
        }
    document["output_tokens"] = output_tokens
    if style.usage_details:
        document["service_tier"] = "standard"
    return document


def _head(message_id: str, model: str) -> JsonObject:
    return {"id": message_id, "type": "message", "role": "assistant", "model": model}


def _tool_block(completion: Completion, style: MessageStyle, *, done: bool) -> JsonObject | None:
    tool = completion.tool_call
    if tool is None:
        return None
    tool_input = tool.input if done else {}
    return {"type": "tool_use", "id": tool.id(style.tool_id_prefix), "name": tool.name, "input": tool_input}


def message_body(completion: Completion, style: MessageStyle, message_id: str, model: str) -> JsonObject:
    """The complete ``message`` answer."""
    content: list[JsonObject] = [{"type": "text", "text": completion.text}]
    tool_block = _tool_block(completion, style, done=True)
    if tool_block is not None:
        content.append(tool_block)
    return {
        **_head(message_id, model),
        "content": content,
        "stop_reason": stop_reason(completion),
        "stop_sequence": None,
        "usage": usage_json(completion.usage, style, completion.usage.output_tokens),
    }


def stream_events(completion: Completion, style: MessageStyle, message_id: str, model: str) -> list[JsonObject]:
    """The stream's events in order, each with its ``type`` (the SSE event name)."""
    usage = completion.usage
    start = {
        **_head(message_id, model),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage_json(usage, style, 1),
    }
    events: list[JsonObject] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    if style.ping:
        events.append({"type": "ping"})
    for text in split_chunks(completion.text):
        events.append({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})
    events.append({"type": "content_block_stop", "index": 0})
    tool = completion.tool_call
    tool_block = _tool_block(completion, style, done=False)
    if tool is not None and tool_block is not None:
        events.append({"type": "content_block_start", "index": 1, "content_block": tool_block})
        pieces = json_pieces(tool.input_json) if style.split_tool_json else [tool.input_json]
        for piece in pieces:
            delta = {"type": "input_json_delta", "partial_json": piece}
            events.append({"type": "content_block_delta", "index": 1, "delta": delta})
        events.append({"type": "content_block_stop", "index": 1})
    delta_usage = (
        usage_json(usage, style, usage.output_tokens)
        if style.cumulative_delta_usage
        else {"output_tokens": usage.output_tokens}
    )
    if style.cumulative_delta_usage:
        delta_usage.pop("cache_creation", None)
        delta_usage.pop("service_tier", None)
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(completion), "stop_sequence": None},
            "usage": delta_usage,
        }
    )
    events.append({"type": "message_stop"})
    return events
