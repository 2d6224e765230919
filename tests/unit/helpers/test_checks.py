"""The helpers' argument checks."""

from __future__ import annotations

import pytest

from otel_chatbot.helpers.checks import check_count, check_fraction, check_name


def test_checks_name_the_place_and_the_argument() -> None:
    assert check_name("here", "name", "x") == "x"
    assert check_fraction("here", "score", 1) == 1.0 and isinstance(check_fraction("here", "score", 1), float)
    assert check_count("here", "tokens", None) is None and check_count("here", "tokens", 0) == 0
    with pytest.raises(ValueError, match=r"^here: score must be between 0 and 1, got inf$"):
        check_fraction("here", "score", float("inf"))
    with pytest.raises(TypeError, match=r"^here: tokens must be a non-negative int or None, got bool True$"):
        check_count("here", "tokens", True)
