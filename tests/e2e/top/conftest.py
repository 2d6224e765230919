"""The example app with its live view on, for ``otel-chatbot top`` to watch (the live page tests' fixture)."""

from __future__ import annotations

from tests.e2e.stats.conftest import live_app

__all__ = ["live_app"]
