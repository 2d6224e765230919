"""Read OpenAI request bodies (Chat Completions, Responses, Embeddings) into the deterministic model's input.

Validated just enough to answer what OpenAI rejects with its own 400 (a missing model or
messages, a wrong type) instead of a confusing 500. Prompt caching follows OpenAI's automatic
rule in miniature: everything before the last message (tools, system prompt, history) is the
prefix; once it holds ``CACHE_MIN_TOKENS`` tokens it is cached on first sight, and later
requests with the same prefix report it as cached, in ``CACHE_INCREMENT`` steps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from otel_chatbot.testing.standin.api import InvalidRequest
from otel_chatbot.testing.standin.generation import Prompt, PromptBuilder
from otel_chatbot.testing.standin.tools import AUTO, NONE, REQUIRED

JsonObject = dict[str, Any]

CACHE_MIN_TOKENS = 1024
CACHE_INCREMENT = 128
MAX_EMBEDDING_INPUTS = 2048
_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text", "refusal"})
CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


def invalid_type(param: str, expected: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid type for '{param}': expected {expected}.", param=param, code="invalid_type")


def required_model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("you must provide a model parameter", param="model", code="missing_required_parameter")
    return model


def optional_int(body: Mapping[str, Any], *keys: str) -> int | None:
    """The first integer under one of ``keys`` (``max_completion_tokens`` before ``max_tokens``)."""
    for key in keys:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidRequest(f"Invalid '{key}': expected an integer above 0.", param=key, code="invalid_value")
        return value
    return None


def content_text(content: Any, param: str) -> str:
    """A message's text: a string, or the text of its parts (images and audio add none)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict):
                raise invalid_type(param, "an object")
            if part.get("type") in _TEXT_PART_TYPES:
                texts.append(str(part.get("text") or part.get("refusal") or ""))
        return " ".join(texts)
    raise invalid_type(param, "a string or an array")


def _object_list(body: Mapping[str, Any], key: str, *, required: bool) -> list[JsonObject]:
    value = body.get(key)
    if value is None and not required:
        return []
    if value is None:
        raise InvalidRequest(f"Missing required parameter: '{key}'.", param=key, code="missing_required_parameter")
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid_type(key, "an array of objects")
    if required and not value:
        raise InvalidRequest(f"Invalid '{key}': empty array. Expected an array with minimum length 1.", param=key)
    return value


def _tool_choice(choice: Any, builder: PromptBuilder) -> bool:
    """Apply ``tool_choice``; False when tools must not be called (``"none"``)."""
    if choice is None or choice == AUTO:
        return True
    if choice == NONE:
        return False
    if choice == REQUIRED:
        builder.choose_tool(REQUIRED)
        return True
    if isinstance(choice, dict):
        nested = choice.get("function")  # Chat: {"type": "function", "function": {"name": ...}}
        name = nested.get("name") if isinstance(nested, dict) else choice.get("name")
        if isinstance(name, str):
            builder.choose_tool(name)
            return True
    raise InvalidRequest("Invalid value for 'tool_choice'.", param="tool_choice", code="invalid_value")


def add_tools(builder: PromptBuilder, body: Mapping[str, Any], *, nested: bool) -> None:
    """Offer ``tools`` (Chat nests ``function``; Responses does not); their specs count as input."""
    callable_tools = _tool_choice(body.get("tool_choice"), builder)
    for tool in _object_list(body, "tools", required=False):
        spec = tool.get("function") if nested else tool
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise InvalidRequest("Missing required parameter: 'tools[0].function.name'.", param="tools")
        if callable_tools:
            builder.add_tool(spec["name"], spec.get("parameters") or {}, _dumps(tool))
        else:
            builder.add(_dumps(tool))


def _cache_prefix(builder: PromptBuilder) -> None:
    """Mark what is collected so far as the automatically cached prefix, if long enough."""
    if builder.token_count() >= CACHE_MIN_TOKENS:
        builder.cache_point()


def cached_tokens(prefix_tokens: int) -> int:
    """Cached tokens as OpenAI reports them: whole increments of ``CACHE_INCREMENT``."""
    return prefix_tokens // CACHE_INCREMENT * CACHE_INCREMENT


def chat_prompt(body: Mapping[str, Any]) -> Prompt:
    """A Chat Completions body: ``messages`` (text parts, tool calls and tool results), ``tools``."""
    builder = PromptBuilder()
    add_tools(builder, body, nested=True)
    messages = _object_list(body, "messages", required=True)
    for index, message in enumerate(messages):
        role = message.get("role")
        if role not in CHAT_ROLES:
            raise InvalidRequest(
                f"Invalid value: '{role}'. Supported values are: {', '.join(sorted(CHAT_ROLES))}.",
                param=f"messages[{index}].role",
                code="invalid_value",
            )
        if index == len(messages) - 1:
            _cache_prefix(builder)
        text = content_text(message.get("content"), f"messages[{index}].content")
        builder.add(text)
        if role == "user":
            builder.user_turn(text, has_tool_result=False)
        elif role in ("tool", "function"):
            builder.user_turn(text, has_tool_result=True)
        else:
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    builder.add(f"{function.get('name', '')} {function.get('arguments', '')}")
            if role == "assistant":
                builder.other_turn()
    return builder.build(optional_int(body, "max_completion_tokens", "max_tokens"))


def _input_item(builder: PromptBuilder, item: Mapping[str, Any], index: int) -> None:
    kind = item.get("type", "message")
    if kind == "message":
        text = content_text(item.get("content"), f"input[{index}].content")
        builder.add(text)
        if item.get("role") == "user":
            builder.user_turn(text, has_tool_result=False)
        elif item.get("role") == "assistant":
            builder.other_turn()
    elif kind == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else content_text(output, f"input[{index}].output")
        builder.add(text)
        builder.user_turn(text, has_tool_result=True)
    elif kind == "function_call":
        builder.add(f"{item.get('name', '')} {item.get('arguments', '')}")
        builder.other_turn()


def responses_prompt(body: Mapping[str, Any]) -> Prompt:
    """A Responses body: ``instructions``, ``input`` (a string or items), ``tools``."""
    builder = PromptBuilder()
    add_tools(builder, body, nested=False)
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        builder.add(instructions)
    items = body.get("input")
    if isinstance(items, str):
        _cache_prefix(builder)
        builder.add(items)
        builder.user_turn(items, has_tool_result=False)
    elif isinstance(items, list) and items and all(isinstance(item, dict) for item in items):
        for index, item in enumerate(items):
            if index == len(items) - 1:
                _cache_prefix(builder)
            _input_item(builder, item, index)
    else:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    return builder.build(optional_int(body, "max_output_tokens"))


def embedding_inputs(body: Mapping[str, Any]) -> list[str | list[int]]:
    """``input``: a string, strings, token ids or lists of token ids; at most ``MAX_EMBEDDING_INPUTS``."""
    value = body.get("input")
    if isinstance(value, str):
        inputs: list[Any] = [value]
    elif isinstance(value, list) and value and all(isinstance(item, int) for item in value):
        inputs = [value]
    elif isinstance(value, list) and value:
        inputs = value
    else:
        raise InvalidRequest("'input' : input must be a string or an array", param="input", code="invalid_type")
    if len(inputs) > MAX_EMBEDDING_INPUTS:
        raise InvalidRequest(f"'input' : maximum {MAX_EMBEDDING_INPUTS} inputs per request", param="input")
    for item in inputs:
        if not isinstance(item, str) and not (isinstance(item, list) and all(isinstance(n, int) for n in item)):
            raise InvalidRequest("'input' : input must be a string or an array", param="input", code="invalid_type")
    return inputs
