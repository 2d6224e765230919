"""Bounds on metric attribute values that come from outside: the first few distinct values, then ``_OTHER``.

A metric series is paid for by every exporter and backend for as long as it lives, so
each attribute whose values the app or its users choose (a model id, a cache name, the
host an outgoing request goes to) has a budget: its first ``limit`` distinct values are
recorded as they are, later new ones as ``_OTHER`` (the value the conventions give
``error.type`` and ``http.request.method`` for the same purpose). Spans keep the real
value; only metrics fold. The folded calls stay counted: they are the ``_OTHER`` series.
The README's "Telemetry budgets" (docs/reliability.md) lists every metric's bound.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

_log = logging.getLogger("otel_chatbot")

OTHER: Final = "_OTHER"
"""Value a bounded attribute takes past its limit of distinct values (as ``error.type`` does in the conventions)."""


class FirstSeen:
    """Keeps the first ``limit`` distinct values of a label as they are; later ones become ``_OTHER``.

    A value seen before costs one set lookup and no lock. The first time a value is
    folded, one warning names the label (and the setting that sizes it, when there is
    one); memory holds at most ``limit`` values.
    """

    __slots__ = ("_label", "_limit", "_lock", "_seen", "_warned")

    def __init__(self, label: str, limit: int) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError(f"FirstSeen limit must be an int >= 0, got {limit!r}")
        self._label = label
        self._limit = limit
        self._seen: set[str] = set()
        self._warned = False
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return self._limit

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
                "otel_chatbot: more than %d distinct %s values; %r and later new ones are recorded as %s in metrics",
                self._limit,
                self._label,
                value,
                OTHER,
            )
        return OTHER
