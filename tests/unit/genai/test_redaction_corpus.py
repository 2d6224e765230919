"""The redactor against a corpus of secrets and personal data as they appear in prompts and log lines.

``redaction_corpus.json`` beside this file is shared with the collector's end-to-end test
(tests/e2e/collector/test_collector_pipelines.py), which sends the same samples through
otelcol-chatbot's redaction processor. Every sample's secrets must be gone and ordinary
text must pass unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from otel_chatbot.genai import redaction
from otel_chatbot.genai.redaction import Redactor

CORPUS: dict[str, Any] = json.loads((Path(__file__).with_name("redaction_corpus.json")).read_text())
SAMPLES: list[dict[str, Any]] = CORPUS["samples"]
CLEAN: list[str] = CORPUS["clean"]
MARK = "[REDACTED]"


def _sample_id(sample: dict[str, Any]) -> str:
    index = SAMPLES.index(sample)
    return f"{index:02d}-{sample['kind']}"


def _params() -> list[Any]:
    params = []
    for sample in SAMPLES:
        params.append(pytest.param(sample, id=_sample_id(sample)))
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
