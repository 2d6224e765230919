"""Deterministic tool calling: the prompt names a tool, or the tool choice forces (or forbids) one."""

from __future__ import annotations

import pytest

from otel_chatbot.testing.standin.tools import AUTO, NONE, REQUIRED, ToolSpec, pick_tool_call

WEATHER = ToolSpec("get_weather", {"properties": {"city": {"type": "string"}, "days": {"type": "integer"}}})
TIME = ToolSpec("get_time", {"properties": {"utc": {"type": "boolean"}}})


@pytest.mark.parametrize(
    ("choice", "text", "awaiting", "called"),
    [
        (AUTO, "please get_time now", True, "get_time"),
        (AUTO, "please get_time now", False, None),  # a tool result came back: answer
        (AUTO, "hello", True, None),
        (NONE, "please get_time now", True, None),
        (REQUIRED, "hello", True, "get_weather"),  # the first tool
        (REQUIRED, "hello", False, "get_weather"),  # forced even after a result, as the APIs do
        ("get_time", "hello", True, "get_time"),
        ("missing", "hello", True, None),
    ],
)
def test_pick_tool_call(choice: str, text: str, awaiting: bool, called: str | None) -> None:
    call = pick_tool_call((WEATHER, TIME), choice, text, awaiting)
    assert (call.name if call else None) == called


def test_arguments_follow_the_schema_and_ids_are_stable() -> None:
    call = pick_tool_call((WEATHER,), REQUIRED, "weather in Paris please", True)
    assert call is not None
    assert call.input == {"city": "weather in Paris please", "days": 1}
    assert call.input_json == '{"city":"weather in Paris please","days":1}'
    again = pick_tool_call((WEATHER,), REQUIRED, "weather in Paris please", True)
    assert again is not None and call.id("call_") == again.id("call_") and call.id("call_").startswith("call_")
