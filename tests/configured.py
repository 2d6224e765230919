"""A configuration as the distro builds it for tests that drive it hard (fuzzing, budgets), and a watch on our logs.

The distro runs as in production here (internal errors are caught and logged once, not
raised), so a fuzz case finds a bug either as a difference the app sees or as a traceback
our code logged. The guard logs each place once per process; :class:`OurLogs` forgets the
places already logged, so every example can show its own.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_chatbot.config import load_settings
from otel_chatbot.guard import STATE, set_raise_internal_errors
from otel_chatbot.pipelines import build_pipelines
from otel_chatbot.resource import build_resource
from otel_chatbot.wiring import Instrumentations


def metric_points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    """The points of metric ``name`` the reader collects now (one per series), over every scope."""
    data = reader.get_metrics_data()
    if data is None:
        return []
    return [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


class OpenSpans(SpanProcessor):
    """Counts spans started and not ended: every span a call opens must end (add it to the tracer provider)."""

    def __init__(self) -> None:
        self._open: dict[int, str] = {}
        self._lock = threading.Lock()

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        with self._lock:
            self._open[span.context.span_id] = span.name

    def on_end(self, span: Any) -> None:
        with self._lock:
            self._open.pop(span.context.span_id, None)

    def still_open(self) -> list[str]:
        with self._lock:
            return sorted(self._open.values())


class Distro:
    """One configuration as ``configure()`` builds it: spans tracked until they end (kept if asked), metrics in memory.

    ``apply_libraries`` patches the AWS SDK and HTTP clients; ``revert`` undoes it all.
    """

    def __init__(self, *, keep_spans: bool = False, **overrides: Any) -> None:
        settings = load_settings(
            {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none", **overrides}, environ={}
        )
        self.reader = InMemoryMetricReader()
        self.pipelines = build_pipelines(
            settings, build_resource(settings, environ={}), extra_metric_readers=[self.reader]
        )
        self.open_spans = OpenSpans()
        self.pipelines.tracer_provider.add_span_processor(self.open_spans)
        self.spans = InMemorySpanExporter()
        if keep_spans:  # for tests that read them; a long run would hold them all
            self.pipelines.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.instrumentations = Instrumentations(settings, self.pipelines, on_shutdown=lambda: None)

    def points(self, name: str) -> list[Any]:
        """The points of metric ``name`` (one per series), over every scope."""
        return metric_points(self.reader, name)

    def series(self) -> dict[str, int]:
        """How many series each metric has."""
        data = self.reader.get_metrics_data()
        counts: dict[str, int] = {}
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    counts[metric.name] = counts.get(metric.name, 0) + len(metric.data.data_points)
        return counts

    def apply_libraries(self) -> Distro:
        self.instrumentations.apply_libraries(patch_all_apps=False)
        return self

    def revert(self) -> None:
        self.instrumentations.revert()
        self.pipelines.shutdown()


class OurLogs(logging.Handler):
    """Records what our loggers (``otel_chatbot.*``) write inside the block, from a clean slate of logged places."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> OurLogs:
        set_raise_internal_errors(False)  # as in production: an internal error is logged, not raised
        with STATE.lock:
            STATE.logged.clear()
        logger = logging.getLogger("otel_chatbot")
        self._level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        logger = logging.getLogger("otel_chatbot")
        logger.removeHandler(self)
        logger.setLevel(self._level)

    def tracebacks(self) -> list[str]:
        """Every record that carries a traceback or reports an internal error, as text."""
        return [f"{r.name}: {r.getMessage()}" for r in self.records if r.exc_info or "internal error" in r.getMessage()]
