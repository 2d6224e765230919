"""Every public name of ``otel_chatbot.genai`` has a caller in the package outside ``genai/``.

Read from the source (``import`` statements), so a name kept only for tests fails here.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import otel_chatbot
import otel_chatbot.genai

PACKAGE = Path(otel_chatbot.__file__).parent


@cache
def names_imported_from_genai_outside_it() -> frozenset[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "genai" and path.parent.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "otel_chatbot.genai":
                found.update(alias.name for alias in node.names)
    return frozenset(found)


def test_every_public_name_has_a_production_caller() -> None:
    unused = set(otel_chatbot.genai.__all__) - names_imported_from_genai_outside_it()
    assert not unused, f"public in otel_chatbot.genai but used by nothing outside it: {sorted(unused)}"


def test_the_check_sees_the_wiring() -> None:
    """The scan is not vacuous: the metrics wiring imports the request type and the price table."""
    assert {"GenAIRequest", "PriceTable"} <= names_imported_from_genai_outside_it()
