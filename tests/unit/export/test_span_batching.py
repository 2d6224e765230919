"""Spans encoded when they end reach the exporter as the same OTLP message upstream would send.

Real SDK providers and upstream's ``BatchProcessor`` underneath; the exporter at the end
joins the encoded items with our encoder, and the result is compared with upstream's
encoding of the very same spans (kept by an in-memory exporter on the same provider).
On the tested SDK the spans must reach the exporter encoded; outside its range, or when
upstream's queue changed, they must reach it as they are, none lost.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as upstream_encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from otel_chatbot import compat
from otel_chatbot.config import load_settings
from otel_chatbot.export import span_batching
from otel_chatbot.export.fast_spans import EncodedSpan, encode_spans
from otel_chatbot.export.outage import accepts_encoded_spans
from otel_chatbot.export.span_batching import EncodingBatchSpanProcessor
from otel_chatbot.guard import STATE, set_raise_internal_errors
from otel_chatbot.pipelines import build_pipelines
from tests.unit.fallbacks import FAST, UNTESTED_SDK, fallback_notes, watching_fallbacks


class JoiningExporter(SpanExporter):
    """Takes encoded items like FastOTLPSpanExporter, keeps the request bytes it would send."""

    accepts_encoded_spans = True

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.items: list[Any] = []

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.items.extend(spans)
        self.requests.append(encode_spans(spans))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class Setup:
    def __init__(self, **batch: Any) -> None:
        self.exporter = JoiningExporter()
        self.kept = InMemorySpanExporter()
        self.processor = EncodingBatchSpanProcessor(self.exporter, **batch)
        self.provider = TracerProvider(resource=Resource({"service.name": "batching"}), shutdown_on_exit=False)
        self.provider.add_span_processor(SimpleSpanProcessor(self.kept))
        self.provider.add_span_processor(self.processor)

    def sent(self) -> ExportTraceServiceRequest:
        merged = ExportTraceServiceRequest()
        for request in self.exporter.requests:
            merged.MergeFromString(request)
        return merged


@pytest.fixture
def setup() -> Iterator[Setup]:
    made = Setup(max_export_batch_size=4, schedule_delay_millis=60_000)
    yield made
    made.provider.shutdown()


def test_batches_decode_to_upstreams_message(setup: Setup) -> None:
    tracer = setup.provider.get_tracer("scope.one", "1.0")
    other = setup.provider.get_tracer("scope.two")
    with tracer.start_as_current_span("parent", attributes={"http.route": "/chat", "n": 3}):
        for i in range(6):
            other.start_span(f"child {i}", attributes={"i": i, "ok": True}).end()
    setup.processor.force_flush()
    kept = setup.kept.get_finished_spans()
    assert len(kept) == 7
    # A silent fallback to upstream's on_end fails here; outside the tested range it is demanded.
    assert setup.processor.encodes_at_end is FAST
    assert {type(item) for item in setup.exporter.items} == ({EncodedSpan} if FAST else {ReadableSpan})
    _assert_sent_like_upstream(setup, kept)


def _assert_sent_like_upstream(setup: Setup, kept: Sequence[ReadableSpan]) -> None:
    assert len(setup.exporter.requests) >= 2  # batches of at most 4
    ours = setup.sent()
    expected = upstream_encode_spans(kept)
    # Batches split the spans differently from one upstream request: compare span by span, in order.
    flatten = [
        (rs.resource, ss.scope, span)
        for request in (ours, expected)
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]
    assert flatten[: len(kept)] == flatten[len(kept) :]


def _end_spans(setup: Setup, count: int) -> None:
    tracer = setup.provider.get_tracer("scope.one", "1.0")
    with tracer.start_as_current_span("parent", attributes={"http.route": "/chat"}):
        for i in range(count - 1):
            tracer.start_span(f"child {i}", attributes={"i": i}).end()
    setup.processor.force_flush()


def test_outside_the_tested_range_spans_reach_the_exporter_as_they_are(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(compat, "SDK_VERSION", UNTESTED_SDK)
    with watching_fallbacks(caplog):
        setup = Setup(max_export_batch_size=4, schedule_delay_millis=60_000)
        try:
            _end_spans(setup, 7)
        finally:
            setup.provider.shutdown()
    assert not setup.processor.encodes_at_end
    assert {type(item) for item in setup.exporter.items} == {ReadableSpan}
    _assert_sent_like_upstream(setup, setup.kept.get_finished_spans())
    (note,) = fallback_notes(caplog)
    assert f"{compat.ENCODED_QUEUE} is off" in note


@pytest.mark.skipif(not FAST, reason="spans are not encoded at their end outside the tested SDK range")
def test_a_queue_that_refuses_encoded_spans_gets_them_as_they_are(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from opentelemetry.sdk._shared_internal import BatchProcessor

    emit = BatchProcessor.emit

    def only_spans(self: Any, item: Any) -> None:  # as if a release typed its queue
        if not isinstance(item, ReadableSpan):
            raise TypeError(f"not a span: {type(item).__name__}")
        emit(self, item)

    monkeypatch.setattr(BatchProcessor, "emit", only_spans)
    with watching_fallbacks(caplog):
        setup = Setup(max_export_batch_size=4, schedule_delay_millis=60_000)
        try:
            assert setup.processor.encodes_at_end
            _end_spans(setup, 7)
        finally:
            setup.provider.shutdown()
    assert not setup.processor.encodes_at_end
    assert {type(item) for item in setup.exporter.items} == {ReadableSpan}  # the first one too
    _assert_sent_like_upstream(setup, setup.kept.get_finished_spans())
    assert len(fallback_notes(caplog)) == 1


@pytest.mark.skipif(not FAST, reason="spans are not encoded at their end outside the tested SDK range")
def test_a_wake_up_flag_that_raises_costs_only_the_gil_hand_over(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def raising() -> bool:
        raise RuntimeError("changed")

    monkeypatch.setattr(setup.processor, "_export_due", raising)
    with watching_fallbacks(caplog):
        _end_spans(setup, 7)
    assert setup.processor.encodes_at_end
    assert {type(item) for item in setup.exporter.items} == {EncodedSpan}
    _assert_sent_like_upstream(setup, setup.kept.get_finished_spans())
    assert len(fallback_notes(caplog)) == 1


def test_unsampled_spans_are_not_queued() -> None:
    exporter = JoiningExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF, shutdown_on_exit=False)
    processor = EncodingBatchSpanProcessor(exporter)
    provider.add_span_processor(processor)
    provider.get_tracer("t").start_span("dropped by the sampler").end()
    processor.force_flush()
    provider.shutdown()
    assert exporter.items == []


@pytest.mark.skipif(not FAST, reason="spans are not encoded at their end outside the tested SDK range")
def test_a_span_that_cannot_be_encoded_is_reported_and_the_others_are_sent(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    set_raise_internal_errors(False)
    STATE.logged.discard("span encoding")
    tracer = setup.provider.get_tracer("t")
    with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
        tracer.start_span("fine 1").end()
        tracer.start_span("bad \ud800").end()  # no UTF-8 form: upstream would fail the whole batch
        tracer.start_span("fine 2").end()
    setup.processor.force_flush()
    names = [span.name for rs in setup.sent().resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert names == ["fine 1", "fine 2"]
    assert any("span encoding" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(not FAST, reason="upstream's on_end offers nothing outside the tested SDK range")
def test_the_gil_is_offered_only_while_an_export_is_due_or_running(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    offers: list[int] = []
    monkeypatch.setattr(span_batching, "offer_gil", lambda: offers.append(0))
    tracer = setup.provider.get_tracer("t")
    tracer.start_span("queue 1 of 4").end()
    assert offers == []
    due = {"now": True}
    monkeypatch.setattr(setup.processor, "_export_due", lambda: due["now"])
    tracer.start_span("batch full: the export thread was woken").end()
    assert offers == [0]
    due["now"] = False
    setup.processor._exporting.active = True
    tracer.start_span("an export is running").end()
    assert offers == [0, 0]
    setup.processor._exporting.active = False
    tracer.start_span("idle again").end()
    assert offers == [0, 0]


@pytest.mark.skipif(not FAST, reason="no wake-up flag is read outside the tested SDK range")
def test_export_due_is_upstreams_wake_up_event(setup: Setup) -> None:
    awaken = setup.processor._batch_processor._worker_awaken
    assert not setup.processor._export_due()
    awaken.set()  # what upstream's emit does when a batch is full, until its thread has sent it
    assert setup.processor._export_due()
    awaken.clear()
    assert not setup.processor._export_due()


def test_the_exporter_is_still_reachable_like_upstreams(setup: Setup) -> None:
    assert setup.processor.span_exporter is setup.exporter


def test_only_exporters_that_take_encoded_spans_get_this_processor() -> None:
    assert accepts_encoded_spans(JoiningExporter())
    assert not accepts_encoded_spans(InMemorySpanExporter())
    settings = load_settings(
        {
            "traces_exporter": "otlp,console",
            "metrics_exporter": "none",
            "logs_exporter": "none",
            "otlp_protocol": "http/protobuf",
        }
    )
    pipelines = build_pipelines(settings, Resource({}))
    try:
        processors = pipelines.tracer_provider._active_span_processor._span_processors
        kinds = [type(p) for p in processors]
        assert kinds == [EncodingBatchSpanProcessor if FAST else BatchSpanProcessor, BatchSpanProcessor]
    finally:
        pipelines.shutdown()


def test_the_otlp_http_modules_load_only_with_their_exporter() -> None:
    """Choosing the batch processor must not import fast_spans (and requests) for gRPC or console users."""
    probe = (
        "import sys, otel_chatbot.pipelines; "
        "print(sorted(m for m in sys.modules if m.endswith(('fast_spans', 'span_batching', 'otlp.proto.http'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
