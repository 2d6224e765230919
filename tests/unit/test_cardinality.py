"""The bound on metric attribute values from outside: the first values kept, later ones ``_OTHER``."""

from __future__ import annotations

import logging
import threading

import pytest

from otel_chatbot.cardinality import OTHER, FirstSeen


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


def test_first_seen_warns_once_naming_the_label(caplog: pytest.LogCaptureFixture) -> None:
    models = FirstSeen("gen_ai.request.model (OTEL_CHATBOT_MAX_MODELS)", 1)
    with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
        assert [models(m) for m in ("a", "b", "c", "a")] == ["a", OTHER, OTHER, "a"]
    (record,) = caplog.records
    assert "more than 1 distinct gen_ai.request.model (OTEL_CHATBOT_MAX_MODELS) values; 'b'" in record.getMessage()


@pytest.mark.parametrize("limit", [-1, 1.5, True, "3"])
def test_a_bad_limit_is_refused(limit: object) -> None:
    with pytest.raises(ValueError, match="FirstSeen limit must be an int >= 0"):
        FirstSeen("label", limit)  # type: ignore[arg-type]
