"""Responses API payload shapes: the response object and the typed event stream."""

from __future__ import annotations

import json
from typing import Any

from otel_chatbot.testing.openai.responses_api import ResponseIds, response_events, response_object
from otel_chatbot.testing.standin.generation import Completion
from otel_chatbot.testing.standin.tools import ToolCall
from otel_chatbot.testing.standin.usage import Usage

IDS = ResponseIds("resp_1", "msg_1", 1_700_000_000, "gpt-4o-mini-2024-07-18")
TEXT = Completion("Hello! This is fine", False, Usage(5, 4), False, "x")
CUT = Completion("Hello! This", True, Usage(5, 2), False, "x")
CALL = Completion("I will use the f tool.", False, Usage(5, 7), False, "x", ToolCall("f", {"a": 1}, "cd" * 32))


def decoded(completion: Completion) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for event in response_events({"model": "gpt-4o-mini"}, completion, IDS, obfuscate=False):
        head, data = event.frame.decode().rstrip("\n").split("\n")
        out.append((head.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out


def test_the_object_echoes_the_request_and_reports_usage() -> None:
    body, tokens = response_object({"instructions": "hi", "temperature": 0.2}, TEXT, IDS, done=True)
    assert (body["status"], body["instructions"], body["temperature"], body["tool_choice"]) == (
        "completed",
        "hi",
        0.2,
        "auto",
    )
    assert body["output"][0]["content"][0] == {
        "type": "output_text",
        "annotations": [],
        "logprobs": [],
        "text": TEXT.text,
    }
    assert body["usage"]["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}
    assert tokens is not None and tokens.output_tokens == 4


def test_text_stream_names_match_types_and_only_the_last_reports_usage() -> None:
    events = decoded(TEXT)
    assert all(name == data["type"] for name, data in events)
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    with_usage = [name for name, data in events if data.get("response", {}).get("usage")]
    assert with_usage == ["response.completed"]


def test_a_cut_answer_ends_incomplete() -> None:
    name, data = decoded(CUT)[-1]
    assert name == "response.incomplete"
    assert data["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_a_function_call_stream() -> None:
    events = decoded(CALL)
    added = next(data for name, data in events if name == "response.output_item.added")
    assert added["item"]["type"] == "function_call" and added["item"]["arguments"] == ""
    pieces = [data["delta"] for name, data in events if name == "response.function_call_arguments.delta"]
    assert "".join(pieces) == '{"a":1}'
    assert events[-1][1]["response"]["output"][0]["arguments"] == '{"a":1}'
