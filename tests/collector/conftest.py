"""Fixtures for the collector-distribution tests: the otelcol-chatbot binary (built on demand)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The suite imports test modules with --import-mode=importlib, which leaves sys.path
# alone; the harness is a plain module beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from otelcol_harness import extend_build_timeout, otelcol_binary

__all__ = ["otelcol_binary"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    extend_build_timeout(items)
