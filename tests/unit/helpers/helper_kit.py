"""The active configuration under test and what it recorded (the fixture is in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_chatbot.telemetry import Telemetry
from otel_chatbot.wiring import Instrumentations


@dataclass
class Configured:
    """The active configuration under test and what it recorded."""

    telemetry: Telemetry
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    logs: InMemoryLogRecordExporter

    @property
    def instrumentations(self) -> Instrumentations:
        assert self.telemetry._instrumentations is not None
        return self.telemetry._instrumentations

    def finished(self, name: str | None = None) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if name is None or s.name == name]

    def points(self, metric: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        found: list[Any] = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == metric:
                        found.extend(m.data.data_points)
        return found

    def values(self, metric: str, *keys: str) -> dict[tuple[Any, ...], float]:
        """Counter values (or histogram counts) by the given attributes; other attributes must not vary."""
        result: dict[tuple[Any, ...], float] = {}
        for point in self.points(metric):
            key = tuple(point.attributes.get(k) for k in keys)
            assert key not in result, f"{metric}: two points for {key}: {self.points(metric)}"
            result[key] = getattr(point, "value", None) if hasattr(point, "value") else point.count
        return result

    def unit(self, metric: str) -> str:
        data = self.metrics.get_metrics_data()
        assert data is not None
        units = {m.unit for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics if m.name == metric}
        (unit,) = units
        return str(unit)
