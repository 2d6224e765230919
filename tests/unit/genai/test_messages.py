"""The convention's message shapes, built from what a response builder kept."""

from __future__ import annotations

from otel_chatbot.genai._builder import ResponseBuilder
from otel_chatbot.genai.messages import assistant_output, text_part, tool_call_part


def test_text_and_finish_reason_make_one_assistant_message() -> None:
    b = ResponseBuilder()
    b.add_text("Hel")
    b.add_text("lo")
    b.add_finish_reason("end_turn")
    assert assistant_output(b) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello"}], "finish_reason": "stop"}
    ]


def test_nothing_kept_is_no_message() -> None:
    assert assistant_output(ResponseBuilder()) == []


def test_tool_calls_follow_the_text_with_the_conventions_finish_reason() -> None:
    b = ResponseBuilder()
    b.add_text("I will use the weather tool.")
    b.tool_calls.add(1, "toolu_1", "weather")
    b.tool_calls.extend_arguments(1, '{"city": ')
    b.tool_calls.extend_arguments(1, '"Paris"}')
    b.tool_calls.add(2, "toolu_2", "clock", {"tz": "UTC"})
    b.add_finish_reason("tool_use")
    (message,) = assistant_output(b)
    assert message["finish_reason"] == "tool_call"
    assert message["parts"] == [
        {"type": "text", "content": "I will use the weather tool."},
        {"type": "tool_call", "id": "toolu_1", "name": "weather", "arguments": {"city": "Paris"}},
        {"type": "tool_call", "id": "toolu_2", "name": "clock", "arguments": {"tz": "UTC"}},
    ]


def test_arguments_cut_off_stay_text_and_are_kept_only_for_capture() -> None:
    b = ResponseBuilder()
    b.tool_calls.add(0, "call_1", "search")
    b.tool_calls.extend_arguments(0, '{"q": "par')
    assert b.tool_calls.parts() == [{"type": "tool_call", "id": "call_1", "name": "search", "arguments": '{"q": "par'}]
    private = ResponseBuilder(keep_text=False)
    private.tool_calls.add(0, "call_1", "search", {"q": "secret"})
    private.tool_calls.extend_arguments(0, '{"q": "secret"}')
    assert private.tool_calls.parts() == [{"type": "tool_call", "id": "call_1", "name": "search", "arguments": None}]


def test_part_helpers() -> None:
    assert text_part("") is None
    assert text_part(3) is None
    assert text_part("hi") == {"type": "text", "content": "hi"}
    assert tool_call_part(None, "f", {}) == {"type": "tool_call", "id": None, "name": "f", "arguments": {}}
