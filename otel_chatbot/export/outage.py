"""Log a backend outage once, not once per batch; the wrappers around the OTLP exporters.

The upstream OTLP exporters log every failed batch (and every retry). During a
collector outage that floods the app's log. :class:`OutageLog` tracks the state per
signal: it logs when exports start failing (with the last reason the exporter gave and
what happens to the data meanwhile) and when they recover (with how long it took), and a
logging filter keeps the exporters' per-batch messages out of the app's log. Upstream's
OTLP encoder logs a traceback for every attribute it cannot encode: a
:class:`~otel_chatbot.guard.OncePerMessage` filter lets the first through.

What happens to the data: spans and log records stay in their processor's queue and are
sent again (``export/retaining_queue.py``); metrics are cumulative, so the next export
that succeeds carries the totals; metric points beyond int64 are sent as doubles
(``export/safe_values.py``), so one huge value cannot fail every export.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_chatbot.compat import metric_exporter_preferences
from otel_chatbot.export.safe_values import exportable_metrics

_log = logging.getLogger("otel_chatbot.export")

EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http",
    "opentelemetry.exporter.otlp.proto.grpc",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
)
# Upstream's OTLP encoders: they log per attribute (and per point) they cannot encode.
ENCODER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.common._internal",
    "opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder",
)

# What happens to each signal's data while its exports fail.
MEANWHILE = {
    "traces": "spans are kept in the export queue and sent again; only what it cannot hold is dropped (counted)",
    "logs": "log records are kept in the export queue and sent again; only what it cannot hold is dropped (counted)",
    "metrics": "metrics are cumulative: the next export that succeeds carries the totals",
}


class ExporterMessages(logging.Filter):
    """Swallow the OTLP exporters' per-batch warnings, remembering the latest reason."""

    def __init__(self) -> None:
        super().__init__()
        self.last_reason = ""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.CRITICAL:
            return True
        try:
            self.last_reason = record.getMessage()[:300]
        except Exception:  # a malformed record must not break logging
            self.last_reason = str(record.msg)[:300]
        return False


class OutageLog:
    """Per-signal outage state: log the first failure and the recovery, nothing between."""

    def __init__(self, signal: str, destination: str, messages: ExporterMessages) -> None:
        self.signal = signal
        self.destination = destination
        self._messages = messages
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self.failed_batches = 0
        self.failed_items = 0
        self.outages = 0

    def record(self, ok: bool, items: int) -> None:
        with self._lock:
            if ok:
                if self._failing_since is not None:
                    _log.warning(
                        "otel_chatbot: %s export to %s recovered after %.1fs (%d failed attempts with %d items)",
                        self.signal,
                        self.destination,
                        time.monotonic() - self._failing_since,
                        self.failed_batches,
                        self.failed_items,
                    )
                    self._failing_since = None
                return
            self.failed_batches += 1
            self.failed_items += items
            if self._failing_since is None:
                self._failing_since = time.monotonic()
                self.outages += 1
                self.failed_batches, self.failed_items = 1, items
                _log.warning(
                    "otel_chatbot: %s export to %s is failing (%s); the app is unaffected; %s; "
                    "logged once until it recovers",
                    self.signal,
                    self.destination,
                    self._messages.last_reason or "no reason given",
                    MEANWHILE.get(self.signal, "data is kept up to the queue limit"),
                )


def accepts_encoded_spans(exporter: object) -> bool:
    """Whether ``exporter`` (or the one a wrapper holds) takes ``fast_spans.EncodedSpan`` items.

    Asked by attribute, so the OTLP http modules are imported only when that exporter is used.
    """
    return bool(getattr(exporter, "accepts_encoded_spans", False))


class OutageSpanExporter(SpanExporter):
    def __init__(self, inner: SpanExporter, outage: OutageLog) -> None:
        self.inner = inner
        self.outage = outage

    @property
    def accepts_encoded_spans(self) -> bool:
        return accepts_encoded_spans(self.inner)

    @property
    def last_failure_permanent(self) -> bool:
        """Whether the last failure will not go away by sending again (see retaining_queue.outcome_of)."""
        return getattr(self.inner, "last_failure_permanent", False) is True

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception:
            result = SpanExportResult.FAILURE
        self.outage.record(result is SpanExportResult.SUCCESS, len(spans))
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class OutageLogExporter(LogRecordExporter):
    def __init__(self, inner: LogRecordExporter, outage: OutageLog) -> None:
        self.inner = inner
        self.outage = outage

    @property
    def last_failure_permanent(self) -> bool:
        return getattr(self.inner, "last_failure_permanent", False) is True

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        try:
            result = self.inner.export(batch)
        except Exception:
            result = LogRecordExportResult.FAILURE
        self.outage.record(result is LogRecordExportResult.SUCCESS, len(batch))
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.inner.force_flush(timeout_millis))


class OutageMetricExporter(MetricExporter):
    """Asks the metric reader for the temporality and aggregation ``inner`` asks for.

    The reader reads them from the exporter it holds (this one), so they are copied
    from ``inner`` (:func:`otel_chatbot.compat.metric_exporter_preferences`). If they
    cannot be read, the base class is not initialised and every attribute this class
    lacks, the preferences included, is read from ``inner`` itself: the same answer.
    """

    def __init__(self, inner: MetricExporter, outage: OutageLog) -> None:
        preferences = metric_exporter_preferences(inner)
        if preferences is not None:
            super().__init__(**preferences)
        self.inner = inner
        self.outage = outage

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        try:
            metrics_data = exportable_metrics(metrics_data)
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception:
            result = MetricExportResult.FAILURE
        points = sum(
            len(metric.data.data_points)
            for resource in metrics_data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        )
        self.outage.record(result is MetricExportResult.SUCCESS, points)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)
