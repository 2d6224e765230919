"""Fixtures for the stack end-to-end test: the collector tests' harness and the stack tests' helpers.

The suite imports with --import-mode=importlib, which leaves sys.path alone: put this folder
(stack_harness), tests/stack (stack_lib) and tests/collector (otelcol_harness) on it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE), str(_HERE.parents[1] / "stack"), str(_HERE.parents[1] / "collector")]

from otelcol_harness import extend_build_timeout, otelcol_binary  # noqa: E402

__all__ = ["otelcol_binary"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    extend_build_timeout(items)
