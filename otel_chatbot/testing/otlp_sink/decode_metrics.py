"""ExportMetricsServiceRequest -> one flat :class:`MetricPoint` per data point."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb

from otel_chatbot.testing.otlp_sink.records import Attributes, Exemplar, MetricPoint
from otel_chatbot.testing.otlp_sink.values import attributes, enum_suffix, optional_hex_id

# proto oneof name -> the short type name tests use
_TYPE_NAMES = {
    "sum": "sum",
    "gauge": "gauge",
    "histogram": "histogram",
    "exponential_histogram": "exp_histogram",
    "summary": "summary",
}


def count_points(request: ExportMetricsServiceRequest) -> int:
    """Number of data points in a request, without building any record."""
    total = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    total += len(getattr(metric, kind).data_points)
    return total


def flatten_points(request: ExportMetricsServiceRequest) -> list[MetricPoint]:
    """Every data point of the request, each carrying its metric's metadata."""
    out: list[MetricPoint] = []
    for rm in request.resource_metrics:
        resource = attributes(rm.resource.attributes)
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                template = _template(metric, kind, resource, sm.scope.name, sm.scope.version)
                out.extend(_points(metric, kind, template))
    return out


def _template(metric: pb.Metric, kind: str, resource: Attributes, scope_name: str, scope_version: str) -> MetricPoint:
    """A point holding the metric-level fields; each real point is a copy of it."""
    temporality = None
    if kind in ("sum", "histogram", "exponential_histogram"):
        temporality = _temporality(getattr(metric, kind).aggregation_temporality)
    return MetricPoint(
        name=metric.name,
        description=metric.description,
        unit=metric.unit,
        type=_TYPE_NAMES[kind],
        is_monotonic=metric.sum.is_monotonic if kind == "sum" else None,
        temporality=temporality,
        attributes={},
        start_ns=0,
        time_ns=0,
        resource=resource,
        scope_name=scope_name,
        scope_version=scope_version,
    )


def _points(metric: pb.Metric, kind: str, t: MetricPoint) -> Iterable[MetricPoint]:
    if kind in ("sum", "gauge"):
        numbers = metric.sum.data_points if kind == "sum" else metric.gauge.data_points
        for n in numbers:
            yield replace(_base(t, n), value=_number(n), exemplars=_exemplars(n.exemplars))
    elif kind == "histogram":
        for h in metric.histogram.data_points:
            yield replace(
                _with_stats(_base(t, h), h),
                bucket_counts=tuple(h.bucket_counts),
                explicit_bounds=tuple(h.explicit_bounds),
                exemplars=_exemplars(h.exemplars),
            )
    elif kind == "exponential_histogram":
        for e in metric.exponential_histogram.data_points:
            yield replace(
                _with_stats(_base(t, e), e),
                scale=e.scale,
                zero_count=e.zero_count,
                positive_offset=e.positive.offset,
                positive_bucket_counts=tuple(e.positive.bucket_counts),
                negative_offset=e.negative.offset,
                negative_bucket_counts=tuple(e.negative.bucket_counts),
                exemplars=_exemplars(e.exemplars),
            )
    else:  # summary: only count and sum; quantiles are not flattened
        for s in metric.summary.data_points:
            yield replace(_base(t, s), count=s.count, sum=s.sum)


class _DataPoint(Protocol):
    """What every OTLP data point type has."""

    @property
    def attributes(self) -> Iterable[KeyValue]: ...
    @property
    def start_time_unix_nano(self) -> int: ...
    @property
    def time_unix_nano(self) -> int: ...


def _base(template: MetricPoint, point: _DataPoint) -> MetricPoint:
    """The template with this point's attributes and timestamps."""
    return replace(
        template,
        attributes=attributes(point.attributes),
        start_ns=point.start_time_unix_nano,
        time_ns=point.time_unix_nano,
        resource=dict(template.resource),
    )


def _with_stats(base: MetricPoint, h: pb.HistogramDataPoint | pb.ExponentialHistogramDataPoint) -> MetricPoint:
    """Count, sum, min and max; the optional ones stay None when absent."""
    return replace(
        base,
        count=h.count,
        sum=h.sum if h.HasField("sum") else None,
        min=h.min if h.HasField("min") else None,
        max=h.max if h.HasField("max") else None,
    )


def _number(point: pb.NumberDataPoint | pb.Exemplar) -> int | float | None:
    which = point.WhichOneof("value")
    if which == "as_int":
        return point.as_int
    if which == "as_double":
        return point.as_double
    return None


def _exemplars(exemplars: Iterable[pb.Exemplar]) -> tuple[Exemplar, ...]:
    return tuple(
        Exemplar(
            trace_id=optional_hex_id(ex.trace_id),
            span_id=optional_hex_id(ex.span_id),
            value=_number(ex) or 0,
            time_ns=ex.time_unix_nano,
            filtered_attributes=attributes(ex.filtered_attributes),
        )
        for ex in exemplars
    )


def _temporality(value: int) -> str:
    try:
        return enum_suffix(pb.AggregationTemporality.Name(value), "AGGREGATION_TEMPORALITY_")
    except ValueError:
        return str(value)
