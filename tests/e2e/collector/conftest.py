"""Fixtures for the collector end-to-end tests: the otelcol-chatbot binary and OTLP senders."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The suite uses --import-mode=importlib, which leaves sys.path alone: put this folder
# (otlp_send) and the harness's (tests/collector/otelcol_harness.py) on it.
_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE), str(_HERE.parents[1] / "collector")]

from otelcol_harness import extend_build_timeout, otelcol_binary  # noqa: E402

__all__ = ["otelcol_binary"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    extend_build_timeout(items)
