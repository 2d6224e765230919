"""Parse the request bodies Bedrock accepts into the model-independent ``Prompt``.

Each body shape (Converse / Nova messages, OpenAI-style chat, Cohere chat, plain prompt
strings; Claude's Messages bodies are :mod:`otel_chatbot.testing.anthropic.messages`) is
validated just enough to answer malformed bodies with the ``ValidationException`` real
Bedrock sends, instead of a confusing 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from otel_chatbot.testing.bedrock.errors import validation
from otel_chatbot.testing.standin.generation import Prompt, PromptBuilder

JsonObject = dict[str, Any]

_PROMPT_MARKUP = re.compile(r"<\|[^|>]*\|>|\[/?INST\]|</?s>|<<SYS>>|<</SYS>>")
_LAST_USER_MARKERS = (
    ("<|start_header_id|>user<|end_header_id|>", "<|eot_id|>"),
    ("[INST]", "[/INST]"),
    ("Human:", "Assistant:"),
    ("User:", "Bot:"),
)


def parse_json_object(raw: bytes) -> JsonObject:
    """Decode a request body that must be a JSON object."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise validation() from exc
    if not isinstance(body, dict):
        raise validation()
    return body


def optional_int(body: Mapping[str, Any], *keys: str) -> int | None:
    """The first integer found under one of ``keys`` (the families spell max tokens differently)."""
    for key in keys:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise validation(f"{key} must be an integer")
        return value
    return None


def required_str(body: Mapping[str, Any], key: str) -> str:
    """A string member the body shape requires."""
    value = body.get(key)
    if not isinstance(value, str):
        raise validation(f"Required field {key} is missing or not a string")
    return value


def _object_list(body: Mapping[str, Any], key: str, *, required: bool) -> list[JsonObject]:
    value = body.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise validation(f"{key} must be a list of objects")
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


def _converse_block_text(block: Mapping[str, Any]) -> str:
    """Text a Converse / Nova content block contributes to the input."""
    if isinstance(block.get("text"), str):
        return str(block["text"])
    if "toolUse" in block:
        return _dumps(block["toolUse"].get("input", {}))
    if "toolResult" in block:
        return " ".join(_converse_block_text(item) for item in block["toolResult"].get("content", []))
    if "json" in block:
        return _dumps(block["json"])
    if "guardContent" in block:
        return str(block["guardContent"].get("text", {}).get("text", ""))
    if "reasoningContent" in block:
        return str(block["reasoningContent"].get("reasoningText", {}).get("text", ""))
    return ""


def converse_prompt(body: Mapping[str, Any]) -> Prompt:
    """Converse / ConverseStream bodies, and Amazon Nova's ``messages-v1`` InvokeModel bodies."""
    builder = PromptBuilder()
    tool_config = body.get("toolConfig") or {}
    for tool in _object_list(tool_config, "tools", required=False):
        if "cachePoint" in tool:
            builder.cache_point()
            continue
        spec = tool.get("toolSpec") or {}
        schema = (spec.get("inputSchema") or {}).get("json", {})
        builder.add_tool(str(spec.get("name", "")), schema, _dumps(spec))
    for block in _object_list(body, "system", required=False):
        if "cachePoint" in block:
            builder.cache_point()
        else:
            builder.add(_converse_block_text(block))
    for message in _object_list(body, "messages", required=True):
        content = message.get("content")
        if not isinstance(content, list):
            raise validation("messages[].content must be a list of content blocks")
        texts = []
        for block in content:
            if not isinstance(block, dict):
                raise validation("messages[].content must be a list of content blocks")
            if "cachePoint" in block:
                builder.cache_point()
                continue
            text = _converse_block_text(block)
            builder.add(text)
            texts.append(text)
        if message.get("role") == "user":
            has_result = any("toolResult" in block for block in content)
            builder.user_turn(" ".join(texts), has_result)
        else:
            builder.other_turn()
    config = body.get("inferenceConfig") or {}
    return builder.build(optional_int(config, "maxTokens", "max_new_tokens"))


def chat_prompt(body: Mapping[str, Any], *max_token_keys: str) -> Prompt:
    """OpenAI-style ``messages`` with string content (AI21 Jamba, Mistral Large chat)."""
    builder = PromptBuilder()
    for message in _object_list(body, "messages", required=True):
        content = message.get("content", "")
        text = content if isinstance(content, str) else _dumps(content)
        builder.add(text)
        if message.get("role") == "user":
            builder.user_turn(text, has_tool_result=False)
        else:
            builder.other_turn()
    return builder.build(optional_int(body, *max_token_keys))


def cohere_chat_prompt(body: Mapping[str, Any]) -> Prompt:
    """Cohere Command R bodies: ``preamble``, ``chat_history`` and the new ``message``."""
    builder = PromptBuilder()
    preamble = body.get("preamble")
    if isinstance(preamble, str):
        builder.add(preamble)
    for turn in _object_list(body, "chat_history", required=False):
        builder.add(str(turn.get("message", "")))
    for document in _object_list(body, "documents", required=False):
        builder.add(_dumps(document))
    message = required_str(body, "message")
    builder.add(message)
    builder.user_turn(message, has_tool_result=False)
    return builder.build(optional_int(body, "max_tokens"))


def last_user_text_of(prompt: str) -> str:
    """Best-effort last user turn of a templated prompt string (Llama, Mistral, Titan styles)."""
    for start, end in _LAST_USER_MARKERS:
        position = prompt.rfind(start)
        if position >= 0:
            turn = prompt[position + len(start) :]
            stop = turn.find(end)
            return _PROMPT_MARKUP.sub(" ", turn if stop < 0 else turn[:stop]).strip()
    return _PROMPT_MARKUP.sub(" ", prompt).strip()


def text_prompt(prompt: str, max_tokens: int | None) -> Prompt:
    """Single prompt-string bodies (Titan ``inputText``, Llama and Mistral ``prompt``)."""
    builder = PromptBuilder()
    builder.add(prompt)
    builder.user_turn(last_user_text_of(prompt), has_tool_result=False)
    return builder.build(max_tokens)
