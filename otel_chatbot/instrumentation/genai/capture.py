"""Opt-in prompt/completion capture, redacted and bounded (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from otel_chatbot.genai import Redactor
from otel_chatbot.genai.content import serialize


class ContentCapture:
    """Whether messages are captured, and how they are serialized when they are."""

    def __init__(self, enabled: bool, max_bytes: int, extra_patterns: tuple[str, ...]) -> None:
        self.enabled = enabled
        self.max_bytes = max_bytes
        self.redactor = Redactor(extra_patterns=extra_patterns) if enabled else None

    def serialize(self, messages: Sequence[Any]) -> str:
        return serialize(messages, max_bytes=self.max_bytes, redactor=self.redactor)
