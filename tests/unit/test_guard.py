"""Internal errors are logged once per place; warnings keyed by outside values are bounded in total."""

from __future__ import annotations

import logging
import threading

import pytest

from otel_chatbot.guard import STATE, BoundedOnce, OncePerMessage, guarded, set_raise_internal_errors

LOGGER = logging.getLogger("otel_chatbot.test_guard")


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER.name]


def test_a_thousand_model_ids_make_the_first_few_warnings_and_one_line_more(caplog: pytest.LogCaptureFixture) -> None:
    unpriced = BoundedOnce(LOGGER, "models without a price", limit=3)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        for _round in range(2):
            for i in range(1000):
                unpriced.warning(f"model-{i}", "no price for model %s", f"model-{i}")
    assert _messages(caplog) == [
        "no price for model model-0",
        "no price for model model-1",
        "no price for model model-2",
        "otel_chatbot: more than 3 models without a price; further ones are not logged",
    ]
    assert unpriced.suppressed == 2000 - 3


def test_each_key_is_logged_once_within_the_limit(caplog: pytest.LogCaptureFixture) -> None:
    once = BoundedOnce(LOGGER, "keys", limit=10)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert once.warning("a", "key %s", "a")
        assert not once.warning("a", "key %s", "a")
        assert once.log(logging.ERROR, "b", "key %s", "b")
    assert _messages(caplog) == ["key a", "key b"]
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.ERROR]


def test_memory_stays_bounded_past_the_limit() -> None:
    once = BoundedOnce(LOGGER, "keys", limit=5)
    for i in range(10_000):
        once.first(i)
    assert len(once._seen) == 5


def test_concurrent_callers_log_each_key_at_most_once(caplog: pytest.LogCaptureFixture) -> None:
    once = BoundedOnce(LOGGER, "keys", limit=50)

    def hammer() -> None:
        for i in range(200):
            once.warning(i % 60, "key %s", i % 60)

    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    lines = _messages(caplog)
    assert len(lines) == 51 and len(set(lines)) == 51


@pytest.mark.parametrize("limit", [-1, 1.5, True, "3"])
def test_a_bad_limit_is_refused_where_it_is_given(limit: object) -> None:
    with pytest.raises(ValueError, match="limit must be an int >= 0"):
        BoundedOnce(LOGGER, "keys", limit=limit)  # type: ignore[arg-type]


def test_a_logger_is_required() -> None:
    with pytest.raises(TypeError, match=r"needs a logging\.Logger"):
        BoundedOnce("otel_chatbot", "keys")  # type: ignore[arg-type]


def test_once_per_message_passes_each_template_once() -> None:
    once = OncePerMessage()
    records = [
        logging.LogRecord("lib", logging.ERROR, "", 0, "Failed to encode key %s: %s", (f"k{i}", "bad"), None)
        for i in range(214)
    ]
    other = logging.LogRecord("lib", logging.ERROR, "", 0, "something else", (), None)
    assert [once.filter(r) for r in records].count(True) == 1
    assert once.filter(other)
    assert once.suppressed == 213


def test_an_internal_error_is_logged_once_per_place(caplog: pytest.LogCaptureFixture) -> None:
    set_raise_internal_errors(False)
    STATE.logged.discard("test place")
    with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
        for _ in range(214):
            with guarded("test place"):
                raise ValueError("Value out of range")
    assert len([r for r in caplog.records if "test place" in r.getMessage()]) == 1
