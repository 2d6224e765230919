"""A batch span processor that encodes each span when it ends and lets its export thread run.

Two costs of upstream's ``BatchSpanProcessor`` show under an event loop (measured in
``bench/README.md``):

* It keeps every finished span object alive until its batch is sent and encodes the whole
  batch on the export thread, holding the GIL for milliseconds while the event loop waits
  (p99 latency). Here each span is encoded at ``on_end`` (~9 µs on the thread that ended
  it) and the queue holds one bytes object per span.
* The export thread starves. CPython's GIL hands itself over on request only after the
  waiting thread timed out for 5 ms without any release, but a busy event loop releases
  and re-takes it on every poll, restarting that wait each time: the export thread stays
  runnable for most of the wall time, and every one of those releases wakes it on the
  other CPU (a futex wake per request, ~40 µs of the event loop's CPU per request on the
  2-core benchmark machine). So while an export is due or running, the thread that ends a
  span offers the GIL once (``time.sleep(0)``), and the export thread gets through.

Everything else (queue limit, batch size, schedule, flush, shutdown, fork handling,
dropped-span accounting) is upstream's ``BatchProcessor``, fed with encoded items. Its
queue is private: it comes from :func:`otel_chatbot.compat.span_batch_queue`; without it,
or if it refuses an item, spans go through upstream's ``on_end`` as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from otel_chatbot.compat import ENCODED_QUEUE, fall_back, span_batch_queue
from otel_chatbot.export.fast_spans import encode_finished, offer_gil
from otel_chatbot.guard import report


def _never() -> bool:
    return False


class _ExportingFlag(SpanExporter):
    """Passes batches through, and says whether one is being exported right now."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.active = False

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.active = True
        try:
            return self.inner.export(spans)
        finally:
            self.active = False

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class EncodingBatchSpanProcessor(BatchSpanProcessor):
    """``BatchSpanProcessor`` for exporters that take :class:`~otel_chatbot.export.fast_spans.EncodedSpan`."""

    def __init__(self, exporter: SpanExporter, **batch_settings: Any) -> None:
        self._exporting = _ExportingFlag(exporter)
        super().__init__(self._exporting, **batch_settings)
        queue = span_batch_queue(self)
        self._emit: Callable[[Any], None] | None = None if queue is None else queue.emit
        self._export_due: Callable[[], bool] = _never if queue is None else queue.export_due

    @property
    def span_exporter(self) -> SpanExporter:
        return self._exporting.inner

    @property
    def encodes_at_end(self) -> bool:
        """Whether spans are encoded when they end (tests demand it on the tested SDK)."""
        return self._emit is not None

    def on_end(self, span: ReadableSpan) -> None:
        emit = self._emit
        if emit is None:
            super().on_end(span)
            return
        context = span.context
        if not (context and context.trace_flags.sampled):
            return
        try:
            item = encode_finished(span)
        except Exception as exc:  # the app's span.end() must never raise because of us
            report("span encoding", exc)
            return
        try:
            emit(item)
        except Exception as exc:  # upstream's queue changed: this span and later ones go in as they are
            self._emit = None
            fall_back(ENCODED_QUEUE, exc)
            super().on_end(span)
            return
        try:
            due = self._export_due()
        except Exception as exc:  # only the GIL hand-over is lost
            self._export_due = _never
            fall_back("offering the GIL to the span export thread", exc)
            due = False
        if due or self._exporting.active:
            offer_gil()
