"""Spans encoded when they end reach the exporter as the same OTLP message upstream would send.

Real SDK providers; the exporter at the end joins the encoded items with our encoder, and
the result is compared with upstream's encoding of the very same spans (kept by an
in-memory exporter on the same provider). An exporter that takes encoded spans gets them
encoded; any other (and ours outside the tested SDK range) gets them as they are, none lost.
How failed batches are kept and sent again is tested in ``test_retaining_queue.py``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as upstream_encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from otel_chatbot import compat
from otel_chatbot.config import load_settings
from otel_chatbot.export import span_batching
from otel_chatbot.export.fast_spans import EncodedSpan, FastOTLPSpanExporter, encode_spans
from otel_chatbot.export.outage import accepts_encoded_spans
from otel_chatbot.export.span_batching import RetainingBatchSpanProcessor
from otel_chatbot.pipelines import build_pipelines
from tests.unit.fallbacks import FAST, UNTESTED_SDK, watching_fallbacks


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
    def __init__(self, exporter: Any = None, **batch: Any) -> None:
        self.exporter = exporter or JoiningExporter()
        self.kept = InMemorySpanExporter()
        self.processor = RetainingBatchSpanProcessor(self.exporter, **batch)
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
    assert setup.processor.force_flush()
    kept = setup.kept.get_finished_spans()
    assert len(kept) == 7
    assert setup.processor.encodes_at_end
    assert {type(item) for item in setup.exporter.items} == {EncodedSpan}
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
    assert setup.processor.force_flush()


def test_an_exporter_that_takes_only_spans_gets_spans() -> None:
    setup = Setup(InMemorySpanExporter(), max_export_batch_size=4, schedule_delay_millis=60_000)
    try:
        assert not setup.processor.encodes_at_end
        _end_spans(setup, 7)
        assert setup.exporter.get_finished_spans() == setup.kept.get_finished_spans()
    finally:
        setup.provider.shutdown()


def test_outside_the_tested_range_our_exporter_gets_spans_as_they_are(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(compat, "SDK_VERSION", UNTESTED_SDK)
    with watching_fallbacks(caplog):
        exporter = FastOTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")
        processor = RetainingBatchSpanProcessor(exporter)
    processor.shutdown()
    assert not processor.encodes_at_end


def test_on_the_tested_sdk_our_exporter_gets_encoded_spans() -> None:
    processor = RetainingBatchSpanProcessor(FastOTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces"))
    processor.shutdown()
    assert processor.encodes_at_end is FAST


def test_unsampled_spans_are_not_queued() -> None:
    exporter = JoiningExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF, shutdown_on_exit=False)
    processor = RetainingBatchSpanProcessor(exporter)
    provider.add_span_processor(processor)
    provider.get_tracer("t").start_span("dropped by the sampler").end()
    assert processor.force_flush()
    provider.shutdown()
    assert exporter.items == []
    assert processor.queue.counts().accepted == 0


def test_a_span_without_a_utf8_form_is_sent_with_replacement_characters(setup: Setup) -> None:
    tracer = setup.provider.get_tracer("t")
    tracer.start_span("fine 1").end()
    tracer.start_span("bad \ud800").end()  # no UTF-8 form: upstream would fail the whole batch
    tracer.start_span("fine 2").end()
    assert setup.processor.force_flush()
    names = [span.name for rs in setup.sent().resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert names == ["fine 1", "bad \ufffd", "fine 2"]


def test_a_span_that_cannot_be_encoded_is_reported_and_the_app_is_unaffected(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from otel_chatbot.guard import set_raise_internal_errors

    def broken(span: ReadableSpan) -> Any:
        raise RuntimeError("encoder bug")

    set_raise_internal_errors(False)
    monkeypatch.setattr(setup.processor, "_encode", broken)
    setup.provider.get_tracer("t").start_span("lost").end()  # does not raise
    assert setup.processor.force_flush()
    assert setup.exporter.items == []


def test_the_gil_is_offered_only_while_an_export_is_due_or_running(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    offers: list[int] = []
    monkeypatch.setattr(span_batching, "offer_gil", lambda: offers.append(0))
    tracer = setup.provider.get_tracer("t")
    tracer.start_span("queue 1 of 4").end()
    assert offers == []
    due = {"now": True}
    monkeypatch.setattr(setup.processor.queue, "export_due", lambda: due["now"])
    tracer.start_span("batch full: the export thread was woken").end()
    assert offers == [0]
    due["now"] = False
    setup.processor.queue.exporting = True
    tracer.start_span("an export is running").end()
    assert offers == [0, 0]
    setup.processor.queue.exporting = False
    tracer.start_span("idle again").end()
    assert offers == [0, 0]


def test_a_full_batch_wakes_the_export_thread(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    entered, gate = threading.Event(), threading.Event()
    export = setup.exporter.export

    def held(spans: Sequence[Any]) -> SpanExportResult:
        entered.set()
        gate.wait(10)
        return export(spans)

    monkeypatch.setattr(setup.exporter, "export", held)
    tracer = setup.provider.get_tracer("t")
    for i in range(3):
        tracer.start_span(f"{i}").end()
    assert not setup.processor.queue.export_due()
    assert not entered.wait(0.2)  # the schedule is 60 s
    tracer.start_span("4th: the batch is full").end()
    assert entered.wait(5)
    assert setup.processor.queue.exporting
    gate.set()
    assert setup.processor.force_flush()
    assert len(setup.exporter.items) == 4


def test_the_exporter_is_still_reachable_like_upstreams(setup: Setup) -> None:
    assert setup.processor.span_exporter is setup.exporter


def test_every_exporter_gets_this_processor_and_only_ours_gets_encoded_spans() -> None:
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
        assert [type(p) for p in processors] == [RetainingBatchSpanProcessor] * 2
        assert [p.encodes_at_end for p in processors] == [FAST, False]
    finally:
        pipelines.shutdown()


def test_the_otlp_http_modules_load_only_with_their_exporter() -> None:
    """The batch processor must not import fast_spans (and requests) for gRPC or console users."""
    probe = (
        "import sys, otel_chatbot.pipelines; "
        "print(sorted(m for m in sys.modules if m.endswith(('fast_spans', 'otlp.proto.http'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_spans_ended_without_the_sdks_copy_are_sent_as_upstream_encodes_them() -> None:
    exporter = JoiningExporter()
    processor = RetainingBatchSpanProcessor(exporter, schedule_delay_millis=60_000)
    assert processor.takes_ended_span  # it encodes at the end and keeps nothing of the span
    provider = TracerProvider(resource=Resource({"service.name": "batching"}), shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("scope.one", "1.0")
    end = compat.span_ender(tracer)
    ended = []
    with tracer.start_as_current_span("parent", attributes={"http.route": "/chat"}):
        for i in range(3):
            span = tracer.start_span(f"child {i}", attributes={"i": i})
            span.add_event("e")
            end(span)
            ended.append(span)
    assert processor.force_flush()
    merged = ExportTraceServiceRequest()
    for request in exporter.requests:
        merged.MergeFromString(request)
    sent = [span for rs in merged.resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert sent[:3] == list(upstream_encode_spans(ended).resource_spans[0].scope_spans[0].spans)
    provider.shutdown()


def test_a_processor_that_keeps_spans_as_they_are_does_not_take_the_ended_span() -> None:
    processor = RetainingBatchSpanProcessor(InMemorySpanExporter())
    assert not processor.takes_ended_span
    processor.shutdown()
