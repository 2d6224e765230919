"""The batch span processor: spans encoded when they end, kept until sent, its export thread let run.

It replaces upstream's ``BatchSpanProcessor`` for three reasons:

* **Nothing lost that the bound did not force.** Upstream drops a batch its exporter
  failed to send; here it stays in the bounded queue and is sent again
  (:mod:`otel_chatbot.export.retaining_queue`), and every span dropped is counted under
  the SDK's metric names (:mod:`otel_chatbot.export.queue_metrics`).
* **Encoding off the export thread** (measured in ``bench/README.md``). Upstream keeps every
  finished span object alive until its batch is sent and encodes the whole batch on the
  export thread, holding the GIL for milliseconds while the event loop waits (p99
  latency). When the exporter takes encoded spans (``FastOTLPSpanExporter``), each span is
  encoded at ``on_end`` (~9 µs on the thread that ended it) and the queue holds one bytes
  object per span. Other exporters get the spans as they are.
* **The export thread gets the GIL.** CPython hands the GIL over on request only after the
  waiting thread timed out for 5 ms without any release, but a busy event loop releases
  and re-takes it on every poll, restarting that wait: the export thread stays runnable
  for most of the wall time, and each of those releases wakes it on the other CPU (a futex
  wake per request, ~40 µs of the event loop's CPU per request on the 2-core benchmark
  machine). So while an export is due or running, the thread that ends a span offers the
  GIL once (``time.sleep(0)``), and the export thread gets through.

No private SDK name is used: the queue is ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_chatbot.export.outage import accepts_encoded_spans
from otel_chatbot.export.queue_metrics import observe_queue
from otel_chatbot.export.retaining_queue import Outcome, RetainingQueue, outcome_of
from otel_chatbot.guard import report

# Upstream's defaults (OTEL_BSP_*), for callers that do not pass the settings.
DEFAULT_MAX_QUEUE_SIZE = 2048
DEFAULT_SCHEDULE_DELAY_MS = 5000
DEFAULT_MAX_EXPORT_BATCH_SIZE = 512
DEFAULT_EXPORT_TIMEOUT_MS = 30_000


def offer_gil() -> None:
    """Release the GIL for a moment: a thread waiting for it (the event loop) takes it now."""
    time.sleep(0)


def _encoder(exporter: SpanExporter) -> Callable[[ReadableSpan], Any] | None:
    """``fast_spans.finished_encoder()`` when ``exporter`` takes encoded spans (only then is that module loaded)."""
    if not accepts_encoded_spans(exporter):
        return None
    from otel_chatbot.export.fast_spans import finished_encoder

    return finished_encoder()


class RetainingBatchSpanProcessor(SpanProcessor):
    """A batching span processor that retries failed batches and encodes spans as they end."""

    def __init__(
        self,
        span_exporter: SpanExporter,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
        schedule_delay_millis: float = DEFAULT_SCHEDULE_DELAY_MS,
        max_export_batch_size: int = DEFAULT_MAX_EXPORT_BATCH_SIZE,
        export_timeout_millis: float = DEFAULT_EXPORT_TIMEOUT_MS,
        *,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._exporter = span_exporter
        self._encode = _encoder(span_exporter)
        self._shutdown_timeout_millis = export_timeout_millis
        self._queue: RetainingQueue[Any] = RetainingQueue(
            self._send,
            name="span",
            max_queue_size=max_queue_size,
            max_export_batch_size=max_export_batch_size,
            schedule_delay_millis=schedule_delay_millis,
        )
        if meter_provider is not None:
            observe_queue(meter_provider, self._queue, "traces")

    @property
    def span_exporter(self) -> SpanExporter:
        return self._exporter

    @property
    def queue(self) -> RetainingQueue[Any]:
        return self._queue

    @property
    def encodes_at_end(self) -> bool:
        """Whether spans are encoded when they end (the exporter takes encoded spans)."""
        return self._encode is not None

    @property
    def takes_ended_span(self) -> bool:
        """Whether :meth:`on_end` may get the ended span itself rather than the SDK's read-only copy.

        True when spans are encoded at their end: nothing of the span is kept after
        :meth:`on_end` (``compat.span_ender`` asks).
        """
        return self._encode is not None

    def _send(self, batch: Sequence[Any]) -> Outcome:
        result = self._exporter.export(batch)
        return outcome_of(result is SpanExportResult.SUCCESS, self._exporter)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if not (context and context.trace_flags.sampled):
            return
        encode = self._encode
        if encode is not None:
            try:
                item: Any = encode(span)
            except Exception as exc:  # the app's span.end() must never raise because of us
                report("span encoding", exc)
                return
        else:
            item = span
        queue = self._queue
        queue.emit(item)
        if queue.export_due() or queue.exporting:
            offer_gil()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._queue.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self._queue.shutdown(self._shutdown_timeout_millis)
        self._exporter.shutdown()
