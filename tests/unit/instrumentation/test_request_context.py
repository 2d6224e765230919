"""Where a request's conversation id is read: header, path parameter, or a top-level JSON body field."""

from __future__ import annotations

import pytest

from otel_chatbot.instrumentation.request_context import conversation_id_from

SOURCES = (("body", "conversation_id"), ("header", "x-conversation-id"), ("path", "session_id"))


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b'{"conversation_id": "c-1"}', "c-1"),
        (b'{"conversation_id": 42}', "42"),
        (b'{"conversation_id": "  "}', "from-header"),  # blank: the next source
        (b'{"conversation_id": true}', "from-header"),  # no id: a boolean, an object, a list, null
        (b'{"conversation_id": {"id": "c-1"}}', "from-header"),
        (b'{"conversation_id": [' + b"[" * 50 + b"]" * 50 + b"]}", "from-header"),
        (b'{"conversation_id": null}', "from-header"),
        (b"[" * 100_000 + b"]" * 100_000, "from-header"),  # too deep to decode (RecursionError), found by fuzzing
        (b'{"conversation_id": 1' + b"0" * 5000 + b"}", "from-header"),  # an integer too long to decode
        (b"\xff\xfe not json", "from-header"),
        (b'{"conversation_id": "' + b"x" * 300 + b'"}', "x" * 256),  # bounded
    ],
)
def test_a_body_field_is_an_id_only_when_it_is_a_string_or_an_integer(body: bytes, found: str) -> None:
    assert conversation_id_from(SOURCES, {"x-conversation-id": "from-header"}, {"session_id": "s"}, body) == found


def test_the_path_parameter_when_nothing_else_has_one() -> None:
    assert conversation_id_from(SOURCES, {}, {"session_id": "s-9"}, b"") == "s-9"
    assert conversation_id_from(SOURCES, {}, {}, b"") is None
