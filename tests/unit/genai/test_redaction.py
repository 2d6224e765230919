from __future__ import annotations

import re

import pytest

from otel_chatbot.genai.redaction import Redactor, luhn_valid

R = "[REDACTED]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jane.doe+bots@example.co.uk please", f"mail me at {R} please"),
        ("call +1 415-555-0132 now", f"call {R} now"),
        ("call (415) 555-0132", f"call {R}"),
        ("ring 415.555.0132", f"ring {R}"),
        ("London: +44 20 7946 0958.", f"London: {R}."),
        ("card 4111 1111 1111 1111 exp 12/29", f"card {R} exp 12/29"),
        ("card 4111-1111-1111-1111", f"card {R}"),
        ("amex 378282246310005", f"amex {R}"),
        ("key AKIAIOSFODNN7EXAMPLE in env", f"key {R} in env"),
        ("OPENAI_API_KEY=sk-proj-abcdefghijklmnop1234", f"OPENAI_API_KEY={R}"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", f"Authorization: Bearer {R}"),
        ("secret 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", f"secret {R}"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", f"aws_secret_access_key = {R}"),
    ],
)
def test_default_patterns_redact(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Order 12345678 ships on 2024-01-15.",
        "The total is 1,299.99 USD for 3 items.",
        "Version 1.2.3 fixed bug #4521.",
        "Server 192.168.1.100 answered in 250 ms.",
        "Between 2023 and 2024 we sold 15000 units.",
        "Card-like but not Luhn: 4111 1111 1111 1112",
        "Order number 1234 5678 9012 3456 is not a card",
        "Tracking 1Z999AA10123456784 and SKU ABC-12345",
        "A long word: Pneumonoultramicroscopicsilicovolcanoconiosis is a lung disease.",
        "Path /usr/local/share/applications/something/else/entirely/here",
        "Git sha deadbeefdeadbeefdeadbeefdeadbeef",
        "Meet at 10:30, room 4.12, floor 3.",
        "ISBN 978-3-16-148410-0",
    ],
)
def test_no_false_positives_on_ordinary_text(text: str) -> None:
    assert Redactor().redact(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("41x1")


def test_replacement_template_and_extra_patterns() -> None:
    redactor = Redactor(replacement="<{kind}>", extra_patterns=[r"\bEMP-\d{6}\b", re.compile(r"(?i)project\s+zeus")])
    assert redactor.redact("EMP-123456 on Project Zeus, mail a@b.io") == "<custom> on <custom>, mail <email>"


def test_defaults_can_be_disabled() -> None:
    redactor = Redactor(include_defaults=False, extra_patterns=[r"secret"])
    assert redactor.redact("secret a@b.io") == "[REDACTED] a@b.io"


def test_redact_value_walks_structures() -> None:
    value = [{"role": "user", "parts": [{"type": "text", "content": "I am a@b.io"}]}]
    assert Redactor().redact_value(value) == [{"role": "user", "parts": [{"type": "text", "content": f"I am {R}"}]}]
    assert Redactor().redact_value(5) == 5
    assert Redactor().redact("") == ""
