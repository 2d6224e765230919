"""Property-based: our span encoder against upstream's, and hostile values never breaking an export.

* valid input: our bytes are upstream's bytes, exactly;
* hostile input (integers beyond int64, lone surrogates, structures nested too deep, huge
  strings) in any attribute, name or body: our span encoder never raises and writes a
  request protobuf decodes; upstream's log and metric encoders accept what
  ``export/safe_values.py`` hands them.

Spans, log records and metric points come from the real SDK. Bounded and seeded by the
"ci" Hypothesis profile (``tests/conftest.py``); ``OTEL_CHATBOT_HYPOTHESIS=long`` runs more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as upstream_encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from otel_chatbot.export.fast_spans import encode_spans
from otel_chatbot.export.log_batching import exportable_record
from otel_chatbot.export.safe_values import FINDINGS, MAX_DEPTH, MAX_ITEM_BYTES, exportable_metrics
from otel_chatbot.export.safe_values import TOO_DEEP as TOO_DEEP_KIND

INT64 = st.integers(-(2**63), 2**63 - 1)
BEYOND_INT64 = st.integers(min_value=2**63) | st.integers(max_value=-(2**63) - 1)
TEXT = st.text(max_size=30)  # Hypothesis leaves surrogates out unless asked
SURROGATE_TEXT = st.builds(lambda a, s, b: a + s + b, TEXT, st.characters(categories=["Cs"]), TEXT)
SCALARS = TEXT | st.booleans() | INT64 | st.floats() | st.binary(max_size=16)
HOMOGENEOUS = st.one_of(
    st.lists(TEXT, max_size=4),
    st.lists(INT64, max_size=4),
    st.lists(st.floats(), max_size=4),
    st.lists(st.booleans(), max_size=4),
)
VALID_VALUES = st.recursive(
    SCALARS | HOMOGENEOUS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)


def _nested(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


TOO_DEEP = st.builds(_nested, st.integers(MAX_DEPTH + 1, MAX_DEPTH + 20), st.sampled_from(["list", "map"]))
HOSTILE_SCALARS = BEYOND_INT64 | SURROGATE_TEXT
HOSTILE_VALUES = (
    st.recursive(
        SCALARS | HOSTILE_SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT | SURROGATE_TEXT, inner, max_size=3),
        max_leaves=10,
    )
    | TOO_DEEP
)
ANY_VALUES = VALID_VALUES | HOSTILE_VALUES

KEYS = st.text(min_size=1, max_size=12)


def attributes(
    values: st.SearchStrategy[Any], keys: st.SearchStrategy[str] = KEYS
) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(keys, values, max_size=5)


class Spans:
    """One SDK provider per resource; spans are built, collected and cleared per example."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.providers = [
            TracerProvider(resource=Resource(attrs), shutdown_on_exit=False)
            for attrs in ({"service.name": "a"}, {"service.name": "b", "n": 1})
        ]
        for provider in self.providers:
            provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def build(self, specs: list[dict[str, Any]]) -> tuple[ReadableSpan, ...]:
        self.exporter.clear()
        for i, spec in enumerate(specs):
            tracer = self.providers[i % 2].get_tracer(spec["scope"], "1.0")
            link = Link(SpanContext(trace_id=i + 1, span_id=i + 1, is_remote=True), spec["link_attributes"])
            span = tracer.start_span(spec["name"], kind=spec["kind"], attributes=spec["attributes"], links=[link])
            span.add_event(spec["event"], spec["event_attributes"])
            if spec["status"]:
                span.set_status(Status(StatusCode.ERROR, spec["status"]))
            span.end()
        return self.exporter.get_finished_spans()


@pytest.fixture(scope="module")
def spans() -> Iterator[Spans]:
    made = Spans()
    yield made
    for provider in made.providers:
        provider.shutdown()


def span_specs(values: st.SearchStrategy[Any], text: st.SearchStrategy[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    spec = st.fixed_dictionaries(
        {
            "scope": st.sampled_from(["scope.one", "scope.two"]),
            "name": text,
            "kind": st.sampled_from(list(SpanKind)),
            "attributes": attributes(values),
            "event": text,
            "event_attributes": attributes(values),
            "link_attributes": attributes(values),
            "status": st.none() | text,
        }
    )
    return st.lists(spec, min_size=1, max_size=4)


@pytest.fixture(autouse=True)
def quiet(caplog: pytest.LogCaptureFixture) -> None:
    """The SDK warns about values it drops; upstream's encoder about keys; both are beside the point here."""
    caplog.set_level(logging.CRITICAL)


@given(specs=span_specs(VALID_VALUES, TEXT))
def test_valid_spans_encode_to_upstreams_bytes(spans: Spans, specs: list[dict[str, Any]]) -> None:
    finished = spans.build(specs)
    assert encode_spans(finished) == upstream_encode_spans(finished).SerializeToString()


@given(specs=span_specs(ANY_VALUES, TEXT | SURROGATE_TEXT))
def test_hostile_spans_never_break_our_encoder(spans: Spans, specs: list[dict[str, Any]]) -> None:
    finished = spans.build(specs)
    FINDINGS.counts.clear()
    ours = encode_spans(finished)  # never raises
    decoded = ExportTraceServiceRequest.FromString(ours)  # valid protobuf, valid UTF-8
    assert sum(len(ss.spans) for rs in decoded.resource_spans for ss in rs.scope_spans) == len(finished)
    try:
        expected = upstream_encode_spans(finished).SerializeToString()
    except Exception:
        return  # upstream fails the whole batch; ours sent it
    if not FINDINGS.counts[TOO_DEEP_KIND]:  # upstream keeps lists a little deeper than MAX_DEPTH
        assert ours == expected  # where upstream copes (it drops the same attributes), the same bytes


@settings(max_examples=6)
@given(size=st.integers(MAX_ITEM_BYTES, MAX_ITEM_BYTES + 10), where=st.sampled_from(["attribute", "event", "name"]))
def test_a_huge_span_is_still_sent_whole_but_shorter(spans: Spans, size: int, where: str) -> None:
    huge = "x" * size
    spec = {
        "scope": "s",
        "name": huge if where == "name" else "n",
        "kind": SpanKind.INTERNAL,
        "attributes": {"a": huge if where == "attribute" else "small"},
        "event": "e",
        "event_attributes": {"e": huge} if where == "event" else {},
        "link_attributes": {},
        "status": None,
    }
    ours = encode_spans(spans.build([spec]))
    assert len(ours) < MAX_ITEM_BYTES
    (span,) = ExportTraceServiceRequest.FromString(ours).resource_spans[0].scope_spans[0].spans
    assert span.span_id


# --- log records: upstream's encoder, fed through our rules --------------------------------------


class Unknown:
    """A type OTLP has no form for (upstream's encoder raises on it)."""

    def __str__(self) -> str:
        return "unknown object"


BODIES = ANY_VALUES | st.builds(Unknown) | st.none()


class Logs:
    def __init__(self) -> None:
        self.exporter = InMemoryLogRecordExporter()
        self.provider = LoggerProvider(resource=Resource({"service.name": "logs"}), shutdown_on_exit=False)
        self.provider.add_log_record_processor(SimpleLogRecordProcessor(self.exporter))
        self.logger = self.provider.get_logger("t")

    def build(self, body: Any, attrs: dict[str, Any], severity_text: str, event_name: str) -> Any:
        self.exporter.clear()
        self.logger.emit(body=body, attributes=attrs, severity_text=severity_text, event_name=event_name)
        (record,) = self.exporter.get_finished_logs()
        return record


@pytest.fixture(scope="module")
def logs() -> Iterator[Logs]:
    made = Logs()
    yield made
    made.provider.shutdown()


@given(body=VALID_VALUES | st.none(), attrs=attributes(VALID_VALUES), severity=TEXT, event=TEXT)
def test_valid_log_records_reach_upstreams_encoder_unchanged(
    logs: Logs, body: Any, attrs: dict[str, Any], severity: str, event: str
) -> None:
    record = logs.build(body, attrs, severity, event)
    try:
        expected = encode_logs([record]).SerializeToString()
    except Exception:
        assume(False)  # deeper than upstream's own limit: not "valid" for this comparison
    assert encode_logs([exportable_record(record)]).SerializeToString() == expected


@given(body=BODIES, attrs=attributes(ANY_VALUES, KEYS | SURROGATE_TEXT), severity=TEXT | SURROGATE_TEXT, event=TEXT)
def test_hostile_log_records_never_break_upstreams_encoder(
    logs: Logs, body: Any, attrs: dict[str, Any], severity: str, event: str
) -> None:
    record = logs.build(body, attrs, severity, event)
    encoded = encode_logs([exportable_record(record)]).SerializeToString()  # never raises
    (decoded,) = ExportLogsServiceRequest.FromString(encoded).resource_logs[0].scope_logs[0].log_records
    assert decoded.observed_time_unix_nano == record.log_record.observed_timestamp


# --- metric points: a huge value in a counter or histogram ----------------------------------------


# Beyond ~1.8e308 (no float form) the SDK's own record raises OverflowError (math.isfinite): the
# record site must convert first (safe_values.exportable_number); up to there, the export is ours.
@given(
    amounts=st.lists(st.integers(0, 2**63 - 1) | st.integers(2**63, 10**300), min_size=1, max_size=4),
    histogram=st.lists(st.integers(0, 10**300) | st.floats(0, 1e300), min_size=1, max_size=4),
)
def test_huge_metric_values_never_break_upstreams_metric_encoder(amounts: list[int], histogram: list[float]) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("t")
    counter, hist = meter.create_counter("tokens"), meter.create_histogram("size")
    for amount in amounts:
        counter.add(amount, {"gen_ai.request.model": "m"})
    for value in histogram:
        hist.record(value)
    data = reader.get_metrics_data()
    provider.shutdown()
    exportable = exportable_metrics(data)
    encoded = encode_metrics(exportable).SerializeToString()  # never raises
    ExportMetricsServiceRequest.FromString(encoded)
    if sum(amounts) < 2**63 and max(histogram) < 2**63:
        assert exportable is data  # nothing to convert: nothing copied
        assert encoded == encode_metrics(data).SerializeToString()
