"""The helpers' argument checks and the bound on label values."""

from __future__ import annotations

import threading

import pytest

from otel_chatbot.helpers.checks import FirstSeen, check_count, check_fraction, check_name


def test_first_seen_keeps_the_first_values_and_folds_later_ones() -> None:
    labels = FirstSeen("label", 2)
    assert [labels(v) for v in ("a", "b", "c", "a", "d", "b")] == ["a", "b", "_OTHER", "a", "_OTHER", "b"]


def test_first_seen_holds_its_limit_across_threads() -> None:
    labels = FirstSeen("label", 50)
    kept: set[str] = set()
    lock = threading.Lock()

    def add(offset: int) -> None:
        for n in range(offset, offset + 100):
            value = labels(f"v{n}")
            with lock:
                kept.add(value)

    threads = [threading.Thread(target=add, args=(n * 100,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept - {"_OTHER"}) == 50


def test_checks_name_the_place_and_the_argument() -> None:
    assert check_name("here", "name", "x") == "x"
    assert check_fraction("here", "score", 1) == 1.0 and isinstance(check_fraction("here", "score", 1), float)
    assert check_count("here", "tokens", None) is None and check_count("here", "tokens", 0) == 0
    with pytest.raises(ValueError, match=r"^here: score must be between 0 and 1, got inf$"):
        check_fraction("here", "score", float("inf"))
    with pytest.raises(TypeError, match=r"^here: tokens must be a non-negative int or None, got bool True$"):
        check_count("here", "tokens", True)
