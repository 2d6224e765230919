"""Flattened, immutable views of received telemetry.

Tests assert on these instead of walking nested protobuf, so every field is a
plain Python value: ids are lowercase hex, enums are short names ("SERVER",
"CUMULATIVE"), attribute values are decoded (arrays become tuples).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

AttrValue: TypeAlias = str | bool | int | float | bytes | tuple["AttrValue", ...] | dict[str, "AttrValue"] | None
Attributes: TypeAlias = dict[str, AttrValue]


@dataclass(frozen=True)
class SpanEvent:
    """One span event; the time matters less to tests than name and attributes."""

    name: str
    time_ns: int
    attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True)
class SpanLink:
    """A link to another span context."""

    trace_id: str
    span_id: str
    attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True)
class SpanRecord:
    """One received span with its resource and scope folded in."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status_code: str
    status_message: str
    attributes: Attributes
    events: tuple[SpanEvent, ...]
    links: tuple[SpanLink, ...]
    resource: Attributes
    scope_name: str
    scope_version: str


@dataclass(frozen=True)
class Exemplar:
    """An exemplar; trace/span ids are None when the measurement had no sampled span."""

    trace_id: str | None
    span_id: str | None
    value: int | float
    time_ns: int
    filtered_attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True)
class MetricPoint:
    """One data point of any metric type, with its metric's metadata copied in.

    ``value`` is set for sums and gauges; the histogram fields for histograms.
    Exponential histograms fill ``scale``/``zero_count`` and the
    positive/negative bucket fields.
    """

    name: str
    description: str
    unit: str
    type: str
    is_monotonic: bool | None
    temporality: str | None
    attributes: Attributes
    start_ns: int
    time_ns: int
    resource: Attributes
    scope_name: str
    scope_version: str
    value: int | float | None = None
    count: int | None = None
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    bucket_counts: tuple[int, ...] = ()
    explicit_bounds: tuple[float, ...] = ()
    scale: int | None = None
    zero_count: int | None = None
    positive_offset: int | None = None
    positive_bucket_counts: tuple[int, ...] = ()
    negative_offset: int | None = None
    negative_bucket_counts: tuple[int, ...] = ()
    exemplars: tuple[Exemplar, ...] = ()


@dataclass(frozen=True)
class LogEntry:
    """One received log record; ids are None when it was emitted outside a span."""

    body: AttrValue
    severity_number: int
    severity_text: str
    attributes: Attributes
    trace_id: str | None
    span_id: str | None
    time_ns: int
    observed_time_ns: int
    event_name: str
    resource: Attributes
    scope_name: str
    scope_version: str


Record: TypeAlias = SpanRecord | MetricPoint | LogEntry
