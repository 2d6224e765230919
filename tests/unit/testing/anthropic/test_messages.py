"""The Messages format, as Anthropic's API and as Bedrock speak it."""

from __future__ import annotations

from typing import Any

import pytest

from otel_chatbot.testing.anthropic.messages import (
    ANTHROPIC,
    BEDROCK,
    message_body,
    messages_prompt,
    stream_events,
)
from otel_chatbot.testing.standin.api import InvalidRequest
from otel_chatbot.testing.standin.generation import Completion
from otel_chatbot.testing.standin.tools import NONE, REQUIRED, ToolCall
from otel_chatbot.testing.standin.usage import Usage

USAGE = Usage(input_tokens=6, output_tokens=9, cache_read_input_tokens=40, cache_write_input_tokens=0)
CALL = ToolCall("lookup", {"q": "a long query text"}, "ef" * 32)
TOOL = Completion("I will use the lookup tool.", False, USAGE, True, "x", CALL)


def test_prompt_cache_control_tools_and_tool_choice() -> None:
    body: dict[str, Any] = {
        "max_tokens": 10,
        "tools": [{"name": "lookup", "input_schema": {}}],
        "system": [{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "hi"}],
    }
    prompt = messages_prompt(body)
    assert prompt.cached_parts == 2 and prompt.tools[0].name == "lookup"
    assert messages_prompt({**body, "tool_choice": {"type": "any"}}).tool_choice == REQUIRED
    assert messages_prompt({**body, "tool_choice": {"type": "tool", "name": "lookup"}}).tool_choice == "lookup"
    assert messages_prompt({**body, "tool_choice": {"type": "none"}}).tool_choice == NONE


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": []}, "max_tokens: Field required"),
        ({"max_tokens": 1}, "messages: Field required"),
        ({"max_tokens": "1", "messages": []}, "max_tokens: Input should be a valid integer"),
        ({"max_tokens": 1, "messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
        ({"max_tokens": 1, "messages": [], "tool_choice": {"type": "x"}}, "tool_choice"),
    ],
)
def test_bodies_anthropic_refuses(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        messages_prompt(body)


def test_body_usage_in_both_styles() -> None:
    direct = message_body(TOOL, ANTHROPIC, "msg_01x", "claude-x")
    assert direct["stop_reason"] == "tool_use" and direct["content"][1]["id"].startswith("toolu_01")
    assert direct["usage"]["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
    assert direct["usage"]["service_tier"] == "standard"
    bedrock = message_body(TOOL, BEDROCK, "msg_bdrk_x", "claude-x")
    assert list(bedrock["usage"]) == [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    ]
    assert bedrock["content"][1]["id"].startswith("toolu_bdrk_")


def test_stream_events_in_both_styles() -> None:
    direct = stream_events(TOOL, ANTHROPIC, "msg_01x", "claude-x")
    kinds = [event["type"] for event in direct]
    assert kinds[:3] == ["message_start", "content_block_start", "ping"]
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert direct[0]["message"]["usage"]["output_tokens"] == 1  # provisional, as the API sends it
    assert direct[-2]["usage"] == {
        "input_tokens": 6,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 40,
        "output_tokens": 9,
    }
    pieces = [e["delta"]["partial_json"] for e in direct if e.get("delta", {}).get("type") == "input_json_delta"]
    assert len(pieces) > 1 and "".join(pieces) == CALL.input_json
    bedrock = stream_events(TOOL, BEDROCK, "msg_bdrk_x", "claude-x")
    assert "ping" not in [event["type"] for event in bedrock]
    assert bedrock[-2]["usage"] == {"output_tokens": 9}
    assert [e["delta"]["partial_json"] for e in bedrock if e.get("delta", {}).get("type") == "input_json_delta"] == [
        CALL.input_json
    ]
