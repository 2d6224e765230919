"""The OTLP sink, driven by the real OpenTelemetry SDK and its real OTLP exporters."""

from __future__ import annotations

import gzip
import http.client
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags
from opentelemetry.util.types import AttributeValue

from otel_chatbot.testing.otlp_sink import Behaviour, OtlpSink, SpanEvent

REPO = Path(__file__).resolve().parents[3]
RESOURCE = Resource.create({"service.name": "sink-test", "deployment.environment": "test"})
TRACE_ID = 0x5B8EFFF798038103D269B633813FC60C
SPAN_ID = 0xEEE19B7EC3C1B174


@pytest.fixture
def sink() -> Iterator[OtlpSink]:
    with OtlpSink() as s:
        yield s


# -- helpers --------------------------------------------------------------


@contextmanager
def tracer_provider(exporter: SpanExporter, batch: bool = False) -> Iterator[TracerProvider]:
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    processor = BatchSpanProcessor(exporter, schedule_delay_millis=60_000) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    try:
        yield provider
    finally:
        provider.shutdown()


@contextmanager
def meter_provider(exporter: MetricExporter) -> Iterator[MeterProvider]:
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader], resource=RESOURCE, shutdown_on_exit=False)
    try:
        yield provider
    finally:
        provider.shutdown()


def sampled_context() -> Context:
    """A context whose current span is sampled, so logs and exemplars pick up its ids."""
    span_context = SpanContext(TRACE_ID, SPAN_ID, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(span_context))


def span_exporter(sink: OtlpSink, transport: str, timeout: float | None = None, gzip: bool = False) -> SpanExporter:
    if transport == "grpc":
        grpc_compression = grpc.Compression.Gzip if gzip else None
        return GrpcSpanExporter(
            endpoint=sink.grpc_endpoint, insecure=True, timeout=timeout, compression=grpc_compression
        )
    compression = Compression.Gzip if gzip else None
    return OTLPSpanExporter(f"{sink.http_endpoint}/v1/traces", timeout=timeout, compression=compression)


def finished_span(name: str) -> ReadableSpan:
    """An ended span to hand to an exporter directly (no processor in between)."""
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    span = provider.get_tracer("t").start_span(name)
    span.end()
    provider.shutdown()
    assert isinstance(span, ReadableSpan)
    return span


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        conn.request("POST", parts.path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def get_json(url: str) -> object:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        conn.close()


def post_protobuf(url: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    return post(url, body, {"Content-Type": "application/x-protobuf"})


def export_one_span(exporter: SpanExporter, name: str) -> None:
    with tracer_provider(exporter) as provider, provider.get_tracer("t").start_as_current_span(name):
        pass


def raw_trace_request(name: str = "raw-span", spans: int = 1) -> ExportTraceServiceRequest:
    span = Span(trace_id=TRACE_ID.to_bytes(16, "big"), span_id=SPAN_ID.to_bytes(8, "big"), name=name)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span] * spans)])])


# -- traces ---------------------------------------------------------------


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_spans_arrive_decoded(sink: OtlpSink, transport: str) -> None:
    with tracer_provider(span_exporter(sink, transport)) as provider:
        tracer = provider.get_tracer("chat.scope", "1.2.3")
        attrs: dict[str, AttributeValue] = {
            "http.route": "/chat",
            "n": 7,
            "ratio": 0.5,
            "ok": True,
            "tags": ["a", "b"],
        }
        with (
            tracer.start_as_current_span("POST /chat", kind=SpanKind.SERVER, attributes=attrs) as parent,
            tracer.start_as_current_span("bedrock.converse", kind=SpanKind.CLIENT) as child,
        ):
            child.add_event("gen_ai.choice", {"index": 0, "finish_reason": "stop"})
            child.set_status(StatusCode.ERROR, "throttled")

    server, client = sink.spans("POST /chat")[0], sink.spans("bedrock.converse")[0]
    parent_ctx, child_ctx = parent.get_span_context(), child.get_span_context()
    assert server.trace_id == client.trace_id == f"{parent_ctx.trace_id:032x}"
    assert server.span_id == f"{parent_ctx.span_id:016x}"
    assert client.span_id == f"{child_ctx.span_id:016x}"
    assert server.parent_span_id is None
    assert client.parent_span_id == server.span_id
    assert server.kind == "SERVER"
    assert client.kind == "CLIENT"
    assert server.attributes == {"http.route": "/chat", "n": 7, "ratio": 0.5, "ok": True, "tags": ("a", "b")}
    assert client.events == (
        SpanEvent("gen_ai.choice", client.events[0].time_ns, {"index": 0, "finish_reason": "stop"}),
    )
    assert (client.status_code, client.status_message) == ("ERROR", "throttled")
    assert server.status_code == "UNSET"
    assert server.start_ns <= client.start_ns <= client.end_ns <= server.end_ns
    assert server.resource["service.name"] == "sink-test"
    assert (server.scope_name, server.scope_version) == ("chat.scope", "1.2.3")
    assert sink.stats().requests["traces"] == 2
    assert sink.stats().items["traces"] == 2


def test_gzip_exporter_and_raw_gzip_body(sink: OtlpSink) -> None:
    export_one_span(span_exporter(sink, "http", gzip=True), "zipped")
    export_one_span(span_exporter(sink, "grpc", gzip=True), "zipped-grpc")
    assert [s.name for s in sink.spans()] == ["zipped", "zipped-grpc"]

    body = gzip.compress(raw_trace_request("raw-zipped").SerializeToString())
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
    status, response_headers, data = post(f"{sink.http_endpoint}/v1/traces", body, headers)
    assert status == 200
    assert response_headers["Content-Type"] == "application/x-protobuf"
    assert ExportTraceServiceResponse.FromString(data) == ExportTraceServiceResponse()
    assert sink.spans("raw-zipped")[0].trace_id == f"{TRACE_ID:032x}"


def test_chunked_bodies_on_one_keep_alive_connection(sink: OtlpSink) -> None:
    body = raw_trace_request("chunked").SerializeToString()
    conn = http.client.HTTPConnection("127.0.0.1", int(sink.http_endpoint.rsplit(":", 1)[1]), timeout=5)
    try:
        for _ in range(2):
            chunks = iter([body[:10], body[10:]])
            headers = {"Content-Type": "application/x-protobuf"}
            conn.request("POST", "/v1/traces", body=chunks, headers=headers, encode_chunked=True)
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"")
            assert response.getheader("Connection") != "close"
    finally:
        conn.close()
    assert sink.stats().requests["traces"] == 2
    assert [s.name for s in sink.spans()] == ["chunked", "chunked"]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"\xff\xff\xffnot protobuf", {"Content-Type": "application/x-protobuf"}),
        (b"not gzip", {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}),
    ],
)
def test_garbage_gets_400_and_sink_keeps_serving(sink: OtlpSink, body: bytes, headers: dict[str, str]) -> None:
    status, response_headers, data = post(f"{sink.http_endpoint}/v1/traces", body, headers)
    assert status == 400
    assert response_headers["Content-Type"] == "application/x-protobuf"
    assert Status.FromString(data).code == 3  # INVALID_ARGUMENT
    assert sink.stats().rejected == 1

    export_one_span(span_exporter(sink, "http"), "after-garbage")
    assert [s.name for s in sink.spans()] == ["after-garbage"]
    assert sink.stats().items["traces"] == 1


def test_unknown_path_and_content_type(sink: OtlpSink) -> None:
    body = raw_trace_request().SerializeToString()
    assert post_protobuf(f"{sink.http_endpoint}/v1/profiles", body)[0] == 404
    assert post(f"{sink.http_endpoint}/v1/traces", body, {"Content-Type": "text/plain"})[0] == 415
    assert sink.stats().items["traces"] == 0


def test_otlp_json(sink: OtlpSink) -> None:
    request = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "raw", "version": "0.1"},
                        "spans": [
                            {
                                "traceId": f"{TRACE_ID:032x}",
                                "spanId": f"{SPAN_ID:016x}",
                                "parentSpanId": "00f067aa0ba902b7",
                                "name": "json-span",
                                "kind": 2,
                                "startTimeUnixNano": "1544712660000000000",
                                "endTimeUnixNano": "1544712661000000000",
                                "attributes": [
                                    {"key": "n", "value": {"intValue": "42"}},
                                    {
                                        "key": "xs",
                                        "value": {"arrayValue": {"values": [{"doubleValue": 1.5}]}},
                                    },
                                ],
                                "status": {"code": 2, "message": "boom"},
                                "someFutureField": True,
                            }
                        ],
                    }
                ],
            }
        ]
    }
    status, headers, data = post(
        f"{sink.http_endpoint}/v1/traces", json.dumps(request).encode(), {"Content-Type": "application/json"}
    )
    assert (status, headers["Content-Type"], json.loads(data)) == (200, "application/json", {})
    (span,) = sink.spans("json-span")
    assert (span.trace_id, span.span_id, span.parent_span_id) == (
        f"{TRACE_ID:032x}",
        f"{SPAN_ID:016x}",
        "00f067aa0ba902b7",
    )
    assert (span.kind, span.status_code, span.status_message) == ("SERVER", "ERROR", "boom")
    assert span.attributes == {"n": 42, "xs": (1.5,)}
    assert span.resource == {"service.name": "json-svc"}
    assert (span.start_ns, span.end_ns) == (1544712660000000000, 1544712661000000000)

    status, headers, data = post(f"{sink.http_endpoint}/v1/traces", b"{nope", {"Content-Type": "application/json"})
    assert (status, headers["Content-Type"]) == (400, "application/json")
    assert json.loads(data)["code"] == 3


# -- metrics --------------------------------------------------------------


def test_metrics_arrive_with_correct_values(sink: OtlpSink) -> None:
    exporter = OTLPMetricExporter(endpoint=f"{sink.http_endpoint}/v1/metrics", compression=Compression.Gzip)
    with meter_provider(exporter) as provider:
        meter = provider.get_meter("chat.metrics", "0.9")
        requests = meter.create_counter("chat.requests", unit="{request}")
        latency = meter.create_histogram("chat.latency", unit="ms", explicit_bucket_boundaries_advisory=[10, 100])
        active = meter.create_up_down_counter("chat.active")
        requests.add(3, {"route": "/chat"})
        requests.add(4, {"route": "/chat"})
        requests.add(1, {"route": "/health"})
        for value in (5, 50, 500, 7):
            latency.record(value, {"route": "/chat"}, context=sampled_context())
        active.add(5)
        active.add(-2)
        provider.force_flush()
        requests.add(10, {"route": "/chat"})
        provider.force_flush()

    # two exports of cumulative data: latest_cumulative must pick the newer point
    assert len(sink.metric_points("chat.requests")) >= 4
    chat = sink.latest_cumulative("chat.requests", route="/chat")
    assert chat is not None
    assert (chat.value, chat.type, chat.is_monotonic, chat.temporality) == (17, "sum", True, "CUMULATIVE")
    assert (chat.unit, chat.scope_name, chat.scope_version) == ("{request}", "chat.metrics", "0.9")
    assert chat.resource["service.name"] == "sink-test"
    health = sink.latest_cumulative("chat.requests", route="/health")
    assert health is not None and health.value == 1
    with pytest.raises(AssertionError, match="2 attribute sets"):
        sink.latest_cumulative("chat.requests")

    hist = sink.latest_cumulative("chat.latency")
    assert hist is not None
    assert (hist.type, hist.count, hist.sum, hist.min, hist.max) == ("histogram", 4, 562, 5, 500)
    assert hist.explicit_bounds == (10.0, 100.0)
    assert hist.bucket_counts == (2, 1, 1)
    # exemplars belong to the collection cycle that saw the measurements (the first export)
    exemplars = [e for point in sink.metric_points("chat.latency") for e in point.exemplars]
    assert exemplars
    assert {(e.trace_id, e.span_id) for e in exemplars} == {(f"{TRACE_ID:032x}", f"{SPAN_ID:016x}")}

    updown = sink.latest_cumulative("chat.active")
    assert updown is not None
    assert (updown.value, updown.is_monotonic, updown.attributes) == (3, False, {})
    assert sink.latest_cumulative("no.such.metric") is None
    assert sink.stats().items["metrics"] == len(sink.metric_points())


def test_metrics_over_grpc(sink: OtlpSink) -> None:
    with meter_provider(GrpcMetricExporter(endpoint=sink.grpc_endpoint, insecure=True)) as provider:
        gauge = provider.get_meter("m").create_gauge("queue.depth")
        gauge.set(12.5, {"queue": "a"})
        provider.force_flush()
    point = sink.metric_points("queue.depth")[0]  # shutdown exports it once more
    assert (point.type, point.value, point.temporality, point.attributes) == (
        "gauge",
        12.5,
        None,
        {"queue": "a"},
    )


# -- logs -----------------------------------------------------------------


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_logs_carry_trace_and_span_ids(sink: OtlpSink, transport: str) -> None:
    exporter = (
        GrpcLogExporter(endpoint=sink.grpc_endpoint, insecure=True)
        if transport == "grpc"
        else OTLPLogExporter(endpoint=f"{sink.http_endpoint}/v1/logs")
    )
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    try:
        logger = provider.get_logger("chat.logs", "2.0")
        logger.emit(
            body="model call failed",
            severity_number=SeverityNumber.ERROR,
            severity_text="ERROR",
            attributes={"gen_ai.request.model": "claude", "retries": 2},
            context=sampled_context(),
        )
        logger.emit(body={"structured": [1, 2]}, severity_number=SeverityNumber.INFO, event_name="chat.event")
    finally:
        provider.shutdown()

    failed, structured = sink.logs()
    assert failed.body == "model call failed"
    assert (failed.severity_number, failed.severity_text) == (17, "ERROR")
    assert failed.attributes == {"gen_ai.request.model": "claude", "retries": 2}
    assert (failed.trace_id, failed.span_id) == (f"{TRACE_ID:032x}", f"{SPAN_ID:016x}")
    assert (failed.scope_name, failed.scope_version) == ("chat.logs", "2.0")
    assert failed.resource["service.name"] == "sink-test"
    assert structured.body == {"structured": (1, 2)}
    assert (structured.trace_id, structured.span_id, structured.event_name) == (None, None, "chat.event")
    assert sink.stats().items["logs"] == 2


# -- modes and behaviours -------------------------------------------------


def test_count_only_counts_without_storing() -> None:
    with OtlpSink(keep=False, grpc_port=None) as sink:
        with tracer_provider(span_exporter(sink, "http"), batch=True) as provider:
            tracer = provider.get_tracer("bench")
            for i in range(50):
                with tracer.start_as_current_span("s", attributes={"i": i}):
                    pass
            provider.force_flush()
        stats = sink.stats()
        assert (stats.requests["traces"], stats.items["traces"]) == (1, 50)
        assert sink.spans() == []
        with pytest.raises(RuntimeError):
            _ = sink.grpc_endpoint


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_failing_backend_fails_the_export(sink: OtlpSink, transport: str) -> None:
    sink.set_behaviour(fail_with=503, retry_after_s=30)  # Retry-After beyond the timeout: no retry
    exporter = span_exporter(sink, transport, timeout=1)
    span = finished_span("refused")
    try:
        assert exporter.export([span]) is SpanExportResult.FAILURE
        sink.set_behaviour()
        assert exporter.export([span]) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    stats = sink.stats()
    assert stats.refused == 1
    assert stats.items["traces"] == 1
    assert [s.name for s in sink.spans()] == ["refused"]


def test_failing_status_reaches_plain_http_clients(sink: OtlpSink) -> None:
    sink.set_behaviour(fail_with=429, retry_after_s=7, message="slow down")
    body = raw_trace_request().SerializeToString()
    status, headers, data = post_protobuf(f"{sink.http_endpoint}/v1/traces", body)
    assert (status, headers["Retry-After"]) == (429, "7")
    assert Status.FromString(data).message == "slow down"


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_slow_backend_times_the_export_out(sink: OtlpSink, transport: str) -> None:
    sink.set_behaviour(delay_s=1.0)
    exporter = span_exporter(sink, transport, timeout=0.3)
    try:
        started = time.monotonic()
        assert exporter.export([finished_span("slow")]) is SpanExportResult.FAILURE
        assert time.monotonic() - started < 0.9
        # the late answer finds nobody waiting: not counted as received
        sink.wait_for(lambda: sink.stats().abandoned == 1, timeout=5, what="abandoned request")
    finally:
        exporter.shutdown()
    assert sink.stats().items["traces"] == 0


def test_stop_does_not_wait_for_delayed_requests() -> None:
    sink = OtlpSink(behaviour=Behaviour(delay_s=30)).start()
    try:
        export_one_span(span_exporter(sink, "http", timeout=0.2), "hang")
    finally:
        started = time.monotonic()
        sink.stop()
    assert time.monotonic() - started < 5
    assert sink.stats().abandoned == 1


# -- queries --------------------------------------------------------------


def test_wait_for_timeout_summarises_what_arrived(sink: OtlpSink) -> None:
    export_one_span(span_exporter(sink, "http"), "only-this")
    assert sink.wait_for_spans(1, "only-this", timeout=1)[0].name == "only-this"
    expected = r"(?s)waiting for 2 span\(s\) named 'missing'.*only-this \[INTERNAL\] x1"
    with pytest.raises(AssertionError, match=expected):
        sink.wait_for_spans(2, "missing", timeout=0.2)


def test_query_api_and_jsonl(tmp_path: Path) -> None:
    jsonl = tmp_path / "sink.jsonl"
    with OtlpSink(jsonl=jsonl, grpc_port=None) as sink:
        body = raw_trace_request("queried", spans=2).SerializeToString()
        assert post_protobuf(f"{sink.http_endpoint}/v1/traces", body)[0] == 200
        stats = get_json(f"{sink.http_endpoint}/__sink/stats")
        assert stats == {
            "requests": {"traces": 1, "metrics": 0, "logs": 0},
            "items": {"traces": 2, "metrics": 0, "logs": 0},
            "rejected": 0,
            "refused": 0,
            "abandoned": 0,
        }
        spans = get_json(f"{sink.http_endpoint}/__sink/spans?name=queried")
        assert isinstance(spans, list) and len(spans) == 2
        assert spans[0]["trace_id"] == f"{TRACE_ID:032x}"
        assert get_json(f"{sink.http_endpoint}/__sink/spans?name=other") == []
        assert get_json(f"{sink.http_endpoint}/__sink/metrics") == []
        assert get_json(f"{sink.http_endpoint}/__sink/logs") == []

        status, _, data = post(f"{sink.http_endpoint}/__sink/behaviour", b'{"fail_with": 503}', {})
        assert (status, json.loads(data)["fail_with"]) == (200, 503)
        assert sink.behaviour.fail_with == 503
        assert post(f"{sink.http_endpoint}/__sink/behaviour", b'{"fail_with": 200}', {})[0] == 400
        assert post(f"{sink.http_endpoint}/__sink/behaviour", b"{}", {})[0] == 200

        assert post(f"{sink.http_endpoint}/__sink/reset", b"", {})[0] == 200
        assert sink.stats().items["traces"] == 0
        assert sink.spans() == []
        assert post(f"{sink.http_endpoint}/__sink/nope", b"", {})[0] == 404

    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [(line["signal"], line["name"]) for line in lines] == [("traces", "queried")] * 2


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    jsonl = tmp_path / "cli.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "otel_chatbot.testing.otlp_sink",
            *("--http-port", "0", "--grpc-port", "0"),
            "--jsonl",
            str(jsonl),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        words = dict(word.split("=", 1) for word in line.split()[2:])
        assert line.startswith("otlp sink http=http://127.0.0.1:")
        assert words["grpc"].startswith("127.0.0.1:")
        body = raw_trace_request("from-cli").SerializeToString()
        assert post_protobuf(f"{words['http']}/v1/traces", body)[0] == 200
        stats = get_json(f"{words['http']}/__sink/stats")
        assert isinstance(stats, dict) and stats["items"]["traces"] == 1
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert '"traces":1' in stderr
    assert json.loads(jsonl.read_text())["name"] == "from-cli"
