"""Argument checks of the helpers' public API, and the bound on values that become metric labels.

A misused helper is the app's bug: it raises TypeError or ValueError at the call site,
with the helper's name in the message, whether or not telemetry is configured.
"""

from __future__ import annotations

import logging
import threading

from otel_chatbot.helpers.names import OTHER

_log = logging.getLogger("otel_chatbot")


def check_name(where: str, what: str, value: object) -> str:
    """A non-empty string (a cache, chain or provider name)."""
    if not isinstance(value, str):
        raise TypeError(f"{where}: {what} must be a string, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise ValueError(f"{where}: {what} must not be empty")
    return value


def check_optional_name(where: str, what: str, value: object) -> str | None:
    return None if value is None else check_name(where, what, value)


def check_fraction(where: str, what: str, value: object) -> float:
    """A real number in [0, 1] (a similarity, a feedback score)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{where}: {what} must be a number between 0 and 1, got {type(value).__name__} {value!r}")
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise ValueError(f"{where}: {what} must be between 0 and 1, got {value!r}")
    return float(value)


def check_optional_fraction(where: str, what: str, value: object) -> float | None:
    return None if value is None else check_fraction(where, what, value)


def check_count(where: str, what: str, value: object) -> int | None:
    """None, or a non-negative integer (a token count)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{where}: {what} must be a non-negative int or None, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{where}: {what} must not be negative, got {value}")
    return value


class FirstSeen:
    """Keeps the first ``limit`` distinct values of a label as they are; later ones become ``_OTHER``.

    Cache names, chain names, providers, models and feedback labels come from the app,
    sometimes from its users: each one is a metric attribute, so each is a budget. The
    first time a value is folded, one warning names the setting it came from.
    """

    __slots__ = ("_label", "_limit", "_lock", "_seen", "_warned")

    def __init__(self, label: str, limit: int) -> None:
        self._label = label
        self._limit = limit
        self._seen: set[str] = set()
        self._warned = False
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        with self._lock:
            if value in self._seen:
                return value
            if len(self._seen) < self._limit:
                self._seen.add(value)
                return value
            warn, self._warned = not self._warned, True
        if warn:
            _log.warning(
                "otel_chatbot: more than %d distinct %s values; %r and later new ones are recorded as %s",
                self._limit,
                self._label,
                value,
                OTHER,
            )
        return OTHER
