"""What the fast-path tests share: which path the SDK under test must take, its log, a span taker.

``FAST`` is True on an SDK inside ``otel_chatbot.compat.SDK_REQUIREMENT`` (the pinned one):
then each fast path must be active, and a silent fallback fails. Outside it (the newest-SDK
job, ``scripts/test_newest_sdk.sh``, after an upstream release) each must be off, with the
same data through the public API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from opentelemetry.sdk.trace import SpanProcessor

from otel_chatbot import compat
from otel_chatbot.guard import STATE

FAST = compat.sdk_in_tested_range()
# A release the fast paths were never tried with.
UNTESTED_SDK = "1.46.0"


class TakesTheSpan(SpanProcessor):
    """Declares what our batch processor declares (``takes_ended_span``); keeps what it was handed."""

    takes_ended_span = True

    def __init__(self) -> None:
        self.ended: list[Any] = []

    def on_end(self, span: Any) -> None:
        self.ended.append(span)


def forget_fallback_notes() -> None:
    """Let every capability log its fallback again (they log once per process)."""
    with STATE.lock:
        STATE.logged = {where for where in STATE.logged if not where.startswith("compat: ")}


def fallback_notes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "otel_chatbot" and " is off (" in r.getMessage()]


@contextmanager
def watching_fallbacks(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog at WARNING for ``otel_chatbot``, the once-only fallback notes forgotten around the block."""
    forget_fallback_notes()
    try:
        with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
            yield caplog
    finally:
        forget_fallback_notes()
