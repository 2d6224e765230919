"""A bounded export queue that keeps what failed and sends it again: nothing lost that the bound did not force.

Upstream's batch processors hand a batch to the exporter once; when the exporter gives up
(its own retries last at most its timeout) the batch is gone. At 100 requests/s a 20 s
collector stop lost 16 % of the traces although the queue could have held them all.

Here a batch that fails goes back to the front of the queue and is tried again, with
exponential backoff (:data:`FIRST_RETRY_S` doubling up to :data:`MAX_RETRY_S`, ±20 %
jitter), oldest first, until it is sent. The bound is ``max_queue_size`` items waiting
(the batch being sent is not counted): when an item arrives at a full queue the oldest
waiting item, which is a failed one when there are any, is dropped and counted. A batch
the destination refused for good (malformed, too large: the exporter says so through
``last_failure_permanent``) is dropped at once and counted, never retried.

Every item ends in exactly one count (sent, dropped because the queue was full, rejected
by the destination, abandoned at shutdown, turned away after shutdown), so ``accepted == resolved + waiting``
holds at all times; :mod:`otel_chatbot.export.queue_metrics` reports them with the SDK's
own metric names. A full queue is logged once per episode, with the count when it drains.

The hot path (:meth:`RetainingQueue.emit`) takes one uncontended lock and appends to a
deque; the export thread does the rest. Delivery is at least once: a request that timed
out may still have reached the destination, and is sent again.
"""

from __future__ import annotations

import enum
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from opentelemetry.instrumentation.utils import suppress_instrumentation

from otel_chatbot.guard import report

_log = logging.getLogger("otel_chatbot.export")

T = TypeVar("T")

FIRST_RETRY_S = 0.5
MAX_RETRY_S = 5.0
_JITTER = 0.2


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    """Failed, may succeed later (the destination is down, slow, or refuses for now)."""
    REJECTED = "rejected"
    """The destination will never take this batch (malformed, too large)."""


def outcome_of(success: bool, exporter: object) -> Outcome:
    """An exporter's result as an :class:`Outcome`; a failure is retried unless the exporter says it is final."""
    if success:
        return Outcome.SENT
    return Outcome.REJECTED if getattr(exporter, "last_failure_permanent", False) is True else Outcome.RETRY


@dataclass(frozen=True)
class QueueCounts:
    """Every item the queue accepted or refused, by how it ended; ``waiting`` have not ended yet."""

    sent: int
    dropped_queue_full: int
    rejected: int
    abandoned_at_shutdown: int
    after_shutdown: int
    waiting: int
    accepted: int


class RetainingQueue(Generic[T]):
    """Items in, batches out to ``send`` on one worker thread, failed batches kept and retried."""

    def __init__(
        self,
        send: Callable[[list[T]], Outcome],
        *,
        name: str,
        max_queue_size: int,
        max_export_batch_size: int,
        schedule_delay_millis: float,
    ) -> None:
        for setting, value in (("max_queue_size", max_queue_size), ("max_export_batch_size", max_export_batch_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{setting} must be a positive int, got {value!r}")
        if max_export_batch_size > max_queue_size:
            raise ValueError(
                f"max_export_batch_size ({max_export_batch_size}) must not exceed max_queue_size ({max_queue_size})"
            )
        if not schedule_delay_millis > 0:
            raise ValueError(f"schedule_delay_millis must be positive, got {schedule_delay_millis!r}")
        self._send = send
        self.name = name
        self.max_queue_size = max_queue_size
        self._batch_size = max_export_batch_size
        self._delay_s = schedule_delay_millis / 1000
        self._init_state()
        self._shutdown = False
        # Counts (read by queue_metrics; written under the lock).
        self._accepted = self._sent = self._dropped = self._rejected = self._abandoned = self._late = 0
        self._dropping_since = -1  # dropped count when the current full-queue episode began, or -1
        self._start_worker()
        if hasattr(os, "register_at_fork"):
            weak_reinit = weakref.WeakMethod(self._after_fork_in_child)

            def after_fork() -> None:
                reinit = weak_reinit()
                if reinit is not None:
                    reinit()

            os.register_at_fork(after_in_child=after_fork)

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._resolved_changed = threading.Condition(self._lock)
        self._queue: deque[T] = deque()  # newest on the left, oldest on the right
        self._held: deque[T] = deque()  # failed items, oldest on the left; all older than the queue's
        self._in_flight = 0
        self._flush_target = 0
        self._wake = threading.Event()  # a batch is full, a flush or shutdown wants the worker
        self._urgent = threading.Event()  # a flush or shutdown: do not wait out a retry delay
        self.exporting = False

    def _start_worker(self) -> None:
        self._worker = threading.Thread(target=self._work, name=f"otel_chatbot {self.name} export", daemon=True)
        self._worker.start()

    def _after_fork_in_child(self) -> None:
        """The parent's items are the parent's to send; the child starts empty with its own worker."""
        self._init_state()
        self._start_worker()

    # --- the app's side ---------------------------------------------------------------------

    def emit(self, item: T) -> None:
        """Queue ``item``; at a full queue drop the oldest waiting item (counted)."""
        first_drop = False
        with self._lock:
            if self._shutdown:
                self._late += 1
                return
            if len(self._queue) + len(self._held) >= self.max_queue_size:
                if self._held:
                    self._held.popleft()
                else:
                    self._queue.pop()
                if self._dropping_since < 0:
                    self._dropping_since = self._dropped
                    first_drop = True
                self._dropped += 1
            self._queue.appendleft(item)
            self._accepted += 1
            full = len(self._queue) >= self._batch_size
        if full and not self._wake.is_set():
            self._wake.set()
        if first_drop:
            _log.warning(
                "otel_chatbot: the %s export queue is full (%d items): the oldest are dropped and counted "
                "(otel.sdk.processor.*.processed with error.type=queue_full); logged once until it drains",
                self.name,
                self.max_queue_size,
            )

    def export_due(self) -> bool:
        """Whether the worker was asked to export now (a full batch, a flush)."""
        return self._wake.is_set()

    def counts(self) -> QueueCounts:
        with self._lock:
            return self._counts()

    def _counts(self) -> QueueCounts:
        return QueueCounts(
            sent=self._sent,
            dropped_queue_full=self._dropped,
            rejected=self._rejected,
            abandoned_at_shutdown=self._abandoned,
            after_shutdown=self._late,
            waiting=len(self._queue) + len(self._held) + self._in_flight,
            accepted=self._accepted,
        )

    def _resolved(self) -> int:
        return self._sent + self._dropped + self._rejected + self._abandoned

    def force_flush(self, timeout_millis: float = 30_000) -> bool:
        """Send everything accepted so far; False if it is not all resolved within the timeout."""
        deadline = time.monotonic() + timeout_millis / 1000
        with self._lock:
            if self._shutdown:
                return False
            target = self._accepted
            self._flush_target = max(self._flush_target, target)
        self._urgent.set()
        self._wake.set()
        # Items resolve oldest first, except that a full queue may drop newer ones while the oldest
        # are being sent: then this returns while that last batch is still on its way.
        with self._resolved_changed:
            while self._resolved() < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._resolved_changed.wait(remaining)
        return True

    def shutdown(self, timeout_millis: float = 30_000) -> None:
        """Refuse new items, send what is queued (one try each), abandon the rest (counted)."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
        self._urgent.set()
        self._wake.set()
        self._worker.join(timeout_millis / 1000)

    # --- the worker -------------------------------------------------------------------------

    def _work(self) -> None:
        retry_at: float | None = None
        failures = 0
        while True:
            if retry_at is None:
                self._wake.wait(self._delay_s)
            else:
                self._urgent.wait(max(0.0, retry_at - time.monotonic()))
            urgent = self._urgent.is_set()
            self._urgent.clear()
            self._wake.clear()
            if self._shutdown:
                break
            if retry_at is not None and not urgent and time.monotonic() < retry_at:
                continue  # woken by a full batch while waiting to retry: keep waiting
            if self._export_pending():
                failures, retry_at = 0, None
            else:
                failures += 1
                retry_at = time.monotonic() + _retry_delay(failures)
        self._export_pending(at_shutdown=True)  # one more try for everything queued

    def _take(self, partial: bool) -> list[T]:
        """The next batch, oldest first: failed items before queued ones (call with the lock held).

        A queue holding less than a batch gives what it has only when ``partial`` (the schedule
        came round, a flush or shutdown asks for everything); otherwise it waits to fill up, so a
        steady trickle of spans does not turn into a request per span.
        """
        batch: list[T] = []
        if self._held:
            while self._held and len(batch) < self._batch_size:
                batch.append(self._held.popleft())
        elif partial or len(self._queue) >= self._batch_size:
            while self._queue and len(batch) < self._batch_size:
                batch.append(self._queue.pop())
        self._in_flight = len(batch)
        return batch

    def _export_pending(self, at_shutdown: bool = False) -> bool:
        """Send what is due: full batches, the rest once; False when one failed (kept, or at shutdown abandoned)."""
        partial = True
        while True:
            with self._lock:
                everything = at_shutdown or self._flush_target > self._resolved()
                batch = self._take(partial or everything)
            partial = False
            if not batch:
                return True
            outcome = self._attempt(batch)
            abandoned = 0
            with self._lock:
                self._in_flight = 0
                if outcome is Outcome.SENT:
                    self._sent += len(batch)
                elif outcome is Outcome.REJECTED:
                    self._rejected += len(batch)
                elif at_shutdown:  # no more tries: this batch and everything behind it
                    abandoned = len(batch) + len(self._held) + len(self._queue)
                    self._held.clear()
                    self._queue.clear()
                    self._abandoned += abandoned
                else:
                    self._held.extendleft(reversed(batch))
                    self._trim()
                drained = self._episode_drained()
                self._resolved_changed.notify_all()
            if drained is not None:
                _log.warning(
                    "otel_chatbot: the %s export queue drained; %d items were dropped while it was full",
                    self.name,
                    drained,
                )
            if abandoned:
                _log.warning(
                    "otel_chatbot: shutting down with the %s export failing: %d items not sent", self.name, abandoned
                )
            if outcome is Outcome.RETRY:
                return False

    def _trim(self) -> None:
        """Drop the oldest failed items beyond the bound (call with the lock held)."""
        excess = len(self._queue) + len(self._held) - self.max_queue_size
        for _ in range(max(0, excess)):
            self._held.popleft()
            if self._dropping_since < 0:
                self._dropping_since = self._dropped
            self._dropped += 1

    def _episode_drained(self) -> int | None:
        """Items dropped in the full-queue episode that just ended, or None (lock held)."""
        if self._dropping_since < 0 or self._queue or self._held:
            return None
        dropped, self._dropping_since = self._dropped - self._dropping_since, -1
        return dropped

    def _attempt(self, batch: list[T]) -> Outcome:
        self.exporting = True
        try:
            with suppress_instrumentation():
                return self._send(batch)
        except Exception as exc:  # an exporter that raises: treated as a failure worth retrying
            report(f"the {self.name} exporter", exc)
            return Outcome.RETRY
        finally:
            self.exporting = False


def _retry_delay(failures: int) -> float:
    base = min(MAX_RETRY_S, FIRST_RETRY_S * float(2 ** min(failures - 1, 16)))
    return base * random.uniform(1 - _JITTER, 1 + _JITTER)
