"""Parsing of the command line's values (durations, user levels), kept free of Locust."""

from __future__ import annotations

import re

DEFAULT_USERS = (10, 50, 100, 200)
"""The source documents' scenarios: baseline, moderate, high load, stress."""

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_duration(text: str) -> float:
    """``30s``, ``2m``, ``1m30s``, ``1h``, ``45``, ``2.5s`` -> seconds (Locust's ``-t`` forms)."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 2m, 1m30s)")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return total


def parse_users(text: str) -> tuple[int, ...]:
    """``10,50,100,200`` -> (10, 50, 100, 200): positive, distinct, in the given order."""
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"not a list of user counts: {text!r}") from None
    if not levels or any(n < 1 for n in levels):
        raise ValueError(f"user counts must be positive integers: {text!r}")
    if len(set(levels)) != len(levels):
        raise ValueError(f"user counts repeat: {text!r}")
    return levels
