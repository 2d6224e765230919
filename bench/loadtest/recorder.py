"""Collects Locust request events into per-endpoint histograms for one user level.

It is a plain listener (``events.request.add_listener(recorder.on_request)``), so it sees
exactly the requests Locust's own stats see -- the built-in HTTP client's and the custom SSE
and WebSocket users' alike -- and it has no Locust import, so tests feed it events directly.

Recording is off during ramp-up: the numbers describe the steady state at N users, not a
blend of 1..N. ``start()`` is called when Locust reports spawning complete.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.loadtest.histogram import LatencyHistogram
from bench.loadtest.schema import TOTAL_KEY, Endpoint

FIRST_EVENT = "first_event_ms"
"""Context key the stream users set: ms from request start to the first event or chunk."""

MAX_ERROR_KINDS = 20
"""Distinct failure messages kept per endpoint; the rest are counted under ``other``."""

_MESSAGE_ONLY = frozenset({"CatchResponseError"})
"""Locust's wrapper for a failure a user declared: its message is the whole story."""

_SESSION_ID = re.compile(r"lt-[0-9a-f]{6,}")


@dataclass
class _Tally:
    requests: int = 0
    failures: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    first_event: LatencyHistogram = field(default_factory=LatencyHistogram)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, response_time_ms: float, first_event_ms: float | None, error: str | None) -> None:
        self.requests += 1
        if error is not None:
            self.failures += 1
            kind = error if error in self.errors or len(self.errors) < MAX_ERROR_KINDS else "other"
            self.errors[kind] += 1
            return
        self.latency.record(response_time_ms)
        if first_event_ms is not None:
            self.first_event.record(first_event_ms)

    def endpoint(self, key: str, window_s: float) -> Endpoint:
        return Endpoint(
            key=key,
            requests=self.requests,
            failures=self.failures,
            throughput_rps=round(self.requests / window_s, 3) if window_s > 0 else 0.0,
            error_rate=round(self.failures / self.requests, 6) if self.requests else 0.0,
            latency_ms=self.latency.summary(),
            first_event_ms=self.first_event.summary(),
            errors=dict(self.errors.most_common()),
            histogram=self.latency.encode(),
        )


def error_message(exception: BaseException | str) -> str:
    """A stable, bounded failure label: session ids folded so one bug is one row."""
    if isinstance(exception, str) or type(exception).__name__ in _MESSAGE_ONLY:
        text = str(exception)
    else:
        text = f"{type(exception).__name__}: {exception}"
    return _SESSION_ID.sub("{session_id}", text)[:200]


class Recorder:
    """Per-endpoint tallies plus the aggregate, for the current measurement window."""

    def __init__(self) -> None:
        self.measuring = False
        self._tallies: dict[str, _Tally] = {}
        self._total = _Tally()

    def start(self) -> None:
        """Begin the measurement window, dropping anything seen before (the ramp-up)."""
        self._tallies = {}
        self._total = _Tally()
        self.measuring = True

    def stop(self) -> None:
        self.measuring = False

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int = 0,
        exception: BaseException | str | None = None,
        context: dict[str, Any] | None = None,
        **_kwargs: Any,
    ) -> None:
        if not self.measuring:
            return
        key = f"{request_type} {name}"
        first = (context or {}).get(FIRST_EVENT)
        first_ms = float(first) if isinstance(first, (int, float)) else None
        error = error_message(exception) if exception is not None else None
        elapsed = float(response_time or 0.0)
        self._tallies.setdefault(key, _Tally()).add(elapsed, first_ms, error)
        self._total.add(elapsed, first_ms, error)

    @property
    def requests(self) -> int:
        return self._total.requests

    @property
    def failures(self) -> int:
        return self._total.failures

    def percentile(self, percent: float) -> float:
        return self._total.latency.percentile(percent)

    def snapshot(self, window_s: float) -> tuple[tuple[Endpoint, ...], Endpoint]:
        endpoints = tuple(self._tallies[key].endpoint(key, window_s) for key in sorted(self._tallies))
        return endpoints, self._total.endpoint(TOTAL_KEY, window_s)
