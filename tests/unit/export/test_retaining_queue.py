"""A failed export is kept and sent again; only the bound drops, oldest first, counted and logged once.

A scripted destination fails, recovers or refuses on command; the queue's own worker
thread does the sending. Retry delays are shortened (or lengthened, where a test must
decide when the retry happens: a flush retries at once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_chatbot.export import retaining_queue
from otel_chatbot.export.log_batching import RetainingBatchLogRecordProcessor
from otel_chatbot.export.queue_metrics import observe_queue
from otel_chatbot.export.retaining_queue import Outcome, QueueCounts, RetainingQueue, outcome_of
from otel_chatbot.export.span_batching import RetainingBatchSpanProcessor
from otel_chatbot.guard import set_raise_internal_errors


class Destination:
    """Records every batch it is offered; answers as told (down, up, or refusing some items)."""

    def __init__(self) -> None:
        self.down = False
        self.refuse: set[Any] = set()
        self.raise_error = False
        self.delay_s = 0.0
        self.attempts: list[list[Any]] = []
        self.delivered: list[Any] = []
        self._lock = threading.Lock()

    def send(self, batch: list[Any]) -> Outcome:
        time.sleep(self.delay_s)
        with self._lock:
            self.attempts.append(list(batch))
            if self.raise_error:
                raise RuntimeError("exporter bug")
            if self.down:
                return Outcome.RETRY
            if self.refuse & set(batch):
                return Outcome.REJECTED
            self.delivered.extend(batch)
            return Outcome.SENT


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.fixture
def retry_after(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Set the retry delay (first and longest) for the test."""

    def set_delay(seconds: float) -> None:
        monkeypatch.setattr(retaining_queue, "FIRST_RETRY_S", seconds)
        monkeypatch.setattr(retaining_queue, "MAX_RETRY_S", seconds)

    return set_delay


@pytest.fixture
def made() -> Iterator[Callable[..., tuple[RetainingQueue[Any], Destination]]]:
    queues: list[RetainingQueue[Any]] = []

    def make(
        max_queue_size: int = 10, batch: int = 4, delay_ms: float = 60_000
    ) -> tuple[RetainingQueue[Any], Destination]:
        destination = Destination()
        queue: RetainingQueue[Any] = RetainingQueue(
            destination.send,
            name="test",
            max_queue_size=max_queue_size,
            max_export_batch_size=batch,
            schedule_delay_millis=delay_ms,
        )
        queues.append(queue)
        return queue, destination

    yield make
    for queue in queues:
        queue.shutdown(1000)


def counts(**expected: int) -> QueueCounts:
    base = {
        "sent": 0,
        "dropped_queue_full": 0,
        "rejected": 0,
        "abandoned_at_shutdown": 0,
        "after_shutdown": 0,
        "waiting": 0,
        "accepted": 0,
    }
    return QueueCounts(**{**base, **expected})


def test_a_failed_batch_is_sent_again_when_the_destination_recovers(
    made: Callable[..., tuple[RetainingQueue[Any], Destination]], retry_after: Callable[[float], None]
) -> None:
    retry_after(0.02)
    queue, destination = made()
    destination.down = True
    for item in range(10):
        queue.emit(item)
    wait_for(lambda: len(destination.attempts) >= 3)  # batch [0..3], tried again and again
    destination.down = False
    assert queue.force_flush(5000)
    assert destination.delivered == list(range(10))  # each once, in order
    assert {tuple(a) for a in destination.attempts[:3]} == {(0, 1, 2, 3)}
    assert queue.counts() == counts(sent=10, accepted=10)


def test_when_the_bound_forces_the_oldest_are_dropped_counted_and_logged_once(
    made: Callable[..., tuple[RetainingQueue[Any], Destination]],
    retry_after: Callable[[float], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    retry_after(60)  # no retry until the flush below asks for one
    queue, destination = made(max_queue_size=10, batch=4)
    destination.down = True
    with caplog.at_level(logging.WARNING, logger="otel_chatbot.export"):
        for item in range(4):
            queue.emit(item)
        wait_for(lambda: len(destination.attempts) == 1 and not queue.exporting)  # [0..3] failed, kept
        for item in range(4, 20):
            queue.emit(item)
        assert queue.counts() == counts(dropped_queue_full=10, waiting=10, accepted=20)
        destination.down = False
        assert queue.force_flush(5000)
        wait_for(lambda: len(caplog.records) == 2)  # the worker logs the drained queue right after
    assert destination.delivered == list(range(10, 20))  # the ten newest; the ten oldest were dropped
    assert queue.counts() == counts(sent=10, dropped_queue_full=10, accepted=20)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "the test export queue is full (10 items): the oldest are dropped" in lines[0]
    assert "the test export queue drained; 10 items were dropped while it was full" in lines[1]


def test_a_batch_the_destination_refuses_for_good_is_dropped_at_once(
    made: Callable[..., tuple[RetainingQueue[Any], Destination]],
) -> None:
    queue, destination = made(batch=2)
    destination.refuse = {"poison"}
    for item in ("a", "poison", "b", "c"):
        queue.emit(item)
    assert queue.force_flush(5000)
    assert destination.delivered == ["b", "c"]
    assert len(destination.attempts) == 2  # never retried
    assert queue.counts() == counts(sent=2, rejected=2, accepted=4)


def test_a_flush_gives_up_at_its_timeout_and_loses_nothing(
    made: Callable[..., tuple[RetainingQueue[Any], Destination]], retry_after: Callable[[float], None]
) -> None:
    retry_after(0.05)
    queue, destination = made()
    destination.down = True
    queue.emit("kept")
    started = time.monotonic()
    assert not queue.force_flush(200)
    assert time.monotonic() - started < 2
    assert queue.counts() == counts(waiting=1, accepted=1)
    destination.down = False
    assert queue.force_flush(5000)
    assert destination.delivered == ["kept"]


def test_shutdown_sends_what_it_can_and_counts_the_rest(
    made: Callable[..., tuple[RetainingQueue[Any], Destination]],
    retry_after: Callable[[float], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    retry_after(60)
    queue, destination = made()
    for item in range(3):
        queue.emit(item)
    assert queue.force_flush(5000)
    destination.down = True
    for item in range(3, 9):
        queue.emit(item)
    with caplog.at_level(logging.WARNING, logger="otel_chatbot.export"):
        queue.shutdown(5000)
    queue.emit("late")
    assert queue.counts() == counts(sent=3, abandoned_at_shutdown=6, after_shutdown=1, accepted=9)
    assert [r.getMessage() for r in caplog.records] == [
        "otel_chatbot: shutting down with the test export failing: 6 items not sent"
    ]


def test_shutdown_with_the_destination_up_sends_everything(
    made: Callable[..., tuple[RetainingQueue[Any], Destination]],
) -> None:
    queue, destination = made(max_queue_size=100, batch=8)
    for item in range(50):
        queue.emit(item)
    queue.shutdown(5000)
    assert destination.delivered == list(range(50))
    assert queue.counts() == counts(sent=50, accepted=50)


def test_an_exporter_that_raises_is_reported_once_and_its_batch_kept(
    made: Callable[..., tuple[RetainingQueue[Any], Destination]],
    retry_after: Callable[[float], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    set_raise_internal_errors(False)
    retry_after(0.02)
    queue, destination = made()
    destination.raise_error = True
    with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
        queue.emit("x")
        queue.force_flush(100)
        wait_for(lambda: len(destination.attempts) >= 3)
    destination.raise_error = False
    assert queue.force_flush(5000)
    assert destination.delivered == ["x"]
    reports = [r for r in caplog.records if "internal error in the test exporter" in r.getMessage()]
    assert len(reports) <= 1  # once per process: an earlier test may have used the place


def test_a_trickle_of_items_waits_for_the_schedule_not_a_request_per_item(
    made: Callable[..., tuple[RetainingQueue[Any], Destination]],
) -> None:
    """Partial batches go once per schedule; while a slow send runs, the next items wait for the next round."""
    queue, destination = made(max_queue_size=10_000, batch=1000, delay_ms=250)
    destination.delay_s = 0.02  # a send takes a while: items keep arriving meanwhile
    started = time.monotonic()
    for item in range(120):
        queue.emit(item)
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    assert queue.force_flush(5000)
    assert destination.delivered == list(range(120))
    rounds = elapsed / 0.25
    assert len(destination.attempts) <= rounds + 3, (len(destination.attempts), elapsed)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_queue_size": 0}, "max_queue_size must be a positive int"),
        ({"max_export_batch_size": -1}, "max_export_batch_size must be a positive int"),
        ({"max_queue_size": 4, "max_export_batch_size": 8}, "must not exceed max_queue_size"),
        ({"schedule_delay_millis": 0}, "schedule_delay_millis must be positive"),
    ],
)
def test_bad_sizes_are_refused_at_construction(arguments: dict[str, Any], message: str) -> None:
    settings = {"max_queue_size": 10, "max_export_batch_size": 2, "schedule_delay_millis": 100, **arguments}
    with pytest.raises(ValueError, match=message):
        RetainingQueue(Destination().send, name="bad", **settings)


def test_outcome_follows_the_exporters_word_on_final_failures() -> None:
    class Final:
        last_failure_permanent = True

    assert outcome_of(True, Final()) is Outcome.SENT
    assert outcome_of(False, Final()) is Outcome.REJECTED
    assert outcome_of(False, object()) is Outcome.RETRY


# --- the counts, under the SDK's metric names ---------------------------------------------------


def _points(reader: InMemoryMetricReader) -> dict[tuple[str, tuple[tuple[str, Any], ...]], Any]:
    data = reader.get_metrics_data()
    assert data is not None
    return {
        (metric.name, tuple(sorted(point.attributes.items()))): point.value
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    }


def test_counts_are_reported_as_the_sdks_processor_metrics(
    made: Callable[..., tuple[RetainingQueue[Any], Destination]], retry_after: Callable[[float], None]
) -> None:
    retry_after(60)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    queue, destination = made(max_queue_size=4, batch=2)
    observe_queue(provider, queue, "traces")
    destination.down = True
    for item in range(2):
        queue.emit(item)
    wait_for(lambda: len(destination.attempts) == 1 and not queue.exporting)
    for item in range(2, 8):
        queue.emit(item)
    points = _points(reader)
    names = {name for name, _ in points}
    assert names == {
        "otel.sdk.processor.span.processed",
        "otel.sdk.processor.span.queue.size",
        "otel.sdk.processor.span.queue.capacity",
    }
    component = next(dict(attrs) for name, attrs in points if name == "otel.sdk.processor.span.queue.capacity")
    assert component["otel.component.type"] == "batching_span_processor"
    base = tuple(sorted(component.items()))
    full = tuple(sorted({**component, "error.type": "queue_full"}.items()))
    assert points[("otel.sdk.processor.span.processed", base)] == 0
    assert points[("otel.sdk.processor.span.processed", full)] == 4
    assert points[("otel.sdk.processor.span.queue.size", base)] == 4
    assert points[("otel.sdk.processor.span.queue.capacity", base)] == 4
    destination.down = False
    assert queue.force_flush(5000)
    points = _points(reader)
    assert points[("otel.sdk.processor.span.processed", base)] == 4  # cumulative: the drops stay counted
    assert points[("otel.sdk.processor.span.processed", full)] == 4
    assert points[("otel.sdk.processor.span.queue.size", base)] == 0
    provider.shutdown()


# --- through the span and log processors ------------------------------------------------------


class FlakySpanExporter(SpanExporter):
    """Fails the first ``failures`` exports (a collector that is down), then keeps what it gets."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.spans: list[Any] = []

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.calls += 1
        if self.calls <= self.failures:
            return SpanExportResult.FAILURE
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def test_every_span_survives_an_outage_exactly_once(retry_after: Callable[[float], None]) -> None:
    retry_after(0.01)
    exporter = FlakySpanExporter(failures=5)
    processor = RetainingBatchSpanProcessor(exporter, max_queue_size=1000, max_export_batch_size=16)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    ended = []
    for i in range(200):
        span = tracer.start_span(f"span {i}")
        span.end()
        ended.append(span.context.span_id)
    assert processor.force_flush(10_000)
    provider.shutdown()
    assert exporter.calls > 5
    assert [s.context.span_id for s in exporter.spans] == ended
    assert processor.queue.counts() == counts(sent=200, accepted=200)


class FlakyLogExporter(InMemoryLogRecordExporter):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        self.calls += 1
        if self.calls <= self.failures:
            return LogRecordExportResult.FAILURE
        return super().export(batch)


def test_every_log_record_survives_an_outage_exactly_once(retry_after: Callable[[float], None]) -> None:
    retry_after(0.01)
    exporter = FlakyLogExporter(failures=4)
    processor = RetainingBatchLogRecordProcessor(exporter, max_queue_size=1000, max_export_batch_size=16)
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(processor)
    logger = provider.get_logger("t")
    for i in range(100):
        logger.emit(body=f"record {i}")
    assert processor.force_flush(10_000)
    provider.shutdown()
    assert exporter.calls > 4
    assert [r.log_record.body for r in exporter.get_finished_logs()] == [f"record {i}" for i in range(100)]
    assert processor.queue.counts() == counts(sent=100, accepted=100)
