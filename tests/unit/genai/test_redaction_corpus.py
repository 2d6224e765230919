"""The redactor against a corpus of secrets and personal data as they appear in prompts and log lines.

``redaction_corpus.json`` beside this file is shared with the collector's end-to-end test
(tests/e2e/collector/test_collector_pipelines.py), which sends the same samples through
otelcol-chatbot's redaction processor. A sample marked ``python_gap`` is one the redactor does not
redact yet: it is an expected failure here (strict, so the mark must go when the rule lands), and
``PROPOSED_RULES`` holds the rule that makes it pass (checked in this file against the whole corpus).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from otel_chatbot.genai import redaction
from otel_chatbot.genai.redaction import Redactor, Rule

CORPUS: dict[str, Any] = json.loads((Path(__file__).with_name("redaction_corpus.json")).read_text())
SAMPLES: list[dict[str, Any]] = CORPUS["samples"]
CLEAN: list[str] = CORPUS["clean"]
MARK = "[REDACTED]"

# What otel_chatbot/genai/redaction.py lacks for the samples marked python_gap: (rule, where it goes).
PROPOSED_RULES: dict[str, tuple[Rule, str]] = {
    "private_key": (
        Rule(
            "private_key",
            re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)"),
        ),
        "first",
    ),
    "jwt": (
        Rule("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")),
        "before bearer_token",
    ),
    "card_number": (
        Rule("card_number", re.compile(r"(?<!\d)(?<!\d\.)\d(?:[ -]?\d){12,18}(?!\d|\.\d)"), redaction._is_card),
        "instead of card_number",
    ),
    "phone": (
        Rule(
            "phone",
            re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,8}\)?){1,6}(?![\w])"),
            redaction._is_phone,
        ),
        "after phone (international numbers the 3-3-4 shapes miss)",
    ),
}


def _sample_id(sample: dict[str, Any]) -> str:
    index = SAMPLES.index(sample)
    return f"{index:02d}-{sample['kind']}"


def _params() -> list[Any]:
    params = []
    for sample in SAMPLES:
        marks = []
        if "python_gap" in sample:
            marks.append(pytest.mark.xfail(strict=True, reason=f"not redacted yet: {sample['python_gap']}"))
        params.append(pytest.param(sample, id=_sample_id(sample), marks=marks))
    return params


def _leaks(redactor: Redactor, sample: dict[str, Any]) -> list[str]:
    redacted = redactor.redact(sample["text"])
    return [secret for secret in sample["secrets"] if secret in redacted]


@pytest.mark.parametrize("sample", _params())
def test_every_secret_in_the_corpus_is_redacted(sample: dict[str, Any]) -> None:
    redactor = Redactor()
    assert _leaks(redactor, sample) == []
    assert MARK in redactor.redact(sample["text"])


@pytest.mark.parametrize("text", CLEAN)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor().redact(text) == text


def test_the_corpus_covers_every_kind_the_issue_names() -> None:
    kinds = {s["kind"] for s in SAMPLES}
    assert kinds >= {"email", "phone", "card", "aws_access_key", "jwt", "bearer_token", "private_key", "sk_key"}
    phones = [s for s in SAMPLES if s["kind"] == "phone"]
    assert len(phones) >= 5, "phone numbers in several formats"
    for sample in SAMPLES:
        assert sample["secrets"] and all(secret in sample["text"] for secret in sample["secrets"]), sample
    for card in (s for s in SAMPLES if s["kind"] == "card"):
        for secret in card["secrets"]:
            assert redaction.luhn_valid(re.sub(r"\D", "", secret)), f"{secret} is not Luhn-valid"


def _with_proposed_rules(monkeypatch: pytest.MonkeyPatch) -> Redactor:
    rules = list(redaction.DEFAULT_RULES)
    names = [rule.kind for rule in rules]
    rules[names.index("card_number")] = PROPOSED_RULES["card_number"][0]
    rules.insert(names.index("bearer_token"), PROPOSED_RULES["jwt"][0])
    rules.insert(0, PROPOSED_RULES["private_key"][0])
    rules.append(PROPOSED_RULES["phone"][0])
    monkeypatch.setattr(redaction, "DEFAULT_RULES", tuple(rules))
    return Redactor()


def test_the_proposed_rules_close_every_gap_without_touching_ordinary_text(monkeypatch: pytest.MonkeyPatch) -> None:
    redactor = _with_proposed_rules(monkeypatch)
    assert {s["kind"]: _leaks(redactor, s) for s in SAMPLES if _leaks(redactor, s)} == {}
    assert [t for t in CLEAN if redactor.redact(t) != t] == []
