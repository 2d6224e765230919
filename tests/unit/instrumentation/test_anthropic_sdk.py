"""The anthropic SDK's option with its spans off, the rest of it kept (the SDK calls: tests/e2e/instrumentation)."""

from __future__ import annotations

import pytest

from otel_chatbot.instrumentation.anthropic_sdk import without_traces


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, {"traces": {"enabled": False}}),
        (False, False),
        ({"propagation": False}, {"propagation": False, "traces": {"enabled": False}}),
        ({"traces": True}, {"traces": {"enabled": False}}),
        ({"traces": {"content_mode": "content"}}, {"traces": {"content_mode": "content", "enabled": False}}),
    ],
)
def test_without_traces_keeps_the_rest_of_the_option(given: object, expected: object) -> None:
    assert without_traces(given) == expected
