"""Argument checks of the helpers' public API (the bound on values that become metric labels: ``cardinality``).

A misused helper is the app's bug: it raises TypeError or ValueError at the call site,
with the helper's name in the message, whether or not telemetry is configured.
"""

from __future__ import annotations


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
