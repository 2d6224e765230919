"""Thread-safe storage and counters for everything the sink accepted."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal, get_args

from otel_chatbot.testing.otlp_sink.records import Record
from otel_chatbot.testing.otlp_sink.signals import SIGNALS, Batch

NotAccepted = Literal["rejected", "refused", "abandoned"]
_NOT_ACCEPTED: tuple[NotAccepted, ...] = get_args(NotAccepted)


@dataclass(frozen=True)
class SinkStats:
    """A consistent snapshot of the counters.

    ``requests``/``items`` count accepted export requests and the spans, data
    points and log records in them. ``rejected`` counts undecodable requests
    (400), ``refused`` those answered with the simulated failure, ``abandoned``
    those whose client gave up (or the sink stopped) during a simulated delay.
    """

    requests: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    refused: int = 0
    abandoned: int = 0


class Store:
    """Counts always; keeps flattened records only when ``keep`` is true.

    One lock guards everything so a stats snapshot is consistent; every write
    wakes :meth:`wait_for_news` so waiters react at once instead of polling.
    """

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self._cond = threading.Condition(threading.Lock())
        self._records: dict[str, list[Record]] = {name: [] for name in SIGNALS}
        self._requests = dict.fromkeys(SIGNALS, 0)
        self._items = dict.fromkeys(SIGNALS, 0)
        self._not_accepted: dict[NotAccepted, int] = dict.fromkeys(_NOT_ACCEPTED, 0)

    def add(self, batch: Batch) -> None:
        with self._cond:
            self._requests[batch.signal] += 1
            self._items[batch.signal] += batch.items
            if self.keep and batch.records:
                self._records[batch.signal].extend(batch.records)
            self._cond.notify_all()

    def note(self, outcome: NotAccepted) -> None:
        """Count a request that was not accepted (see :class:`SinkStats`)."""
        with self._cond:
            self._not_accepted[outcome] += 1
            self._cond.notify_all()

    def stats(self) -> SinkStats:
        with self._cond:
            return SinkStats(dict(self._requests), dict(self._items), **self._not_accepted)

    def items(self, signal: str) -> int:
        """Accepted items of one signal: a single dict read, cheap enough to poll hard."""
        with self._cond:
            return self._items[signal]

    def records(self, signal: str) -> list[Record]:
        """A copy of the records of one signal, in arrival order."""
        with self._cond:
            return list(self._records[signal])

    def reset(self) -> None:
        with self._cond:
            for name in SIGNALS:
                self._records[name].clear()
                self._requests[name] = 0
                self._items[name] = 0
            self._not_accepted = dict.fromkeys(_NOT_ACCEPTED, 0)
            self._cond.notify_all()

    def wait_for_news(self, timeout: float) -> None:
        """Block until something is written or ``timeout`` passes."""
        with self._cond:
            self._cond.wait(timeout)
