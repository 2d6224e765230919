"""Fixtures for the stack tests: helpers in stack_lib.py (the suite imports with --import-mode=importlib)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
