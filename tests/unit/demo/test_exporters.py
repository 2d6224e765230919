"""The file and readable-line span exporters, fed by a fresh SDK TracerProvider (no globals)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_chatbot.demo.exporters import OtlpJsonFileSpanExporter, readable_line, readable_line_exporter
from otel_chatbot.testing.otlp_sink.otlp_json import parse_otlp_json


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "files-test"}))
    yield tracer_provider
    tracer_provider.shutdown()


def _record(provider: TracerProvider, exporter: SpanExporter) -> tuple[int, int]:
    """A server span with a Bedrock client child; returns (trace id, server span id)."""
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span(
            "POST /chat/{session_id}",
            kind=SpanKind.SERVER,
            attributes={"http.route": "/chat/{session_id}", "http.response.status_code": 200},
        ) as server,
        tracer.start_as_current_span(
            "chat us.anthropic.claude-3-5-haiku-20241022-v1:0",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.request.model": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
                "gen_ai.usage.input_tokens": 14,
                "gen_ai.usage.output_tokens": 8,
                "gen_ai.usage.cost": 0.0000432,
                "gen_ai.response.time_to_first_chunk": 0.0031,
            },
        ),
    ):
        pass
    context = server.get_span_context()
    return context.trace_id, context.span_id


def test_otlp_json_file_has_one_export_request_per_batch(provider: TracerProvider, tmp_path: Path) -> None:
    path = tmp_path / "nested" / "traces.otlp.jsonl"
    exporter = OtlpJsonFileSpanExporter(path)
    trace_id, server_id = _record(provider, exporter)
    exporter.shutdown()

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2  # SimpleSpanProcessor: one batch per span
    requests = [parse_otlp_json(line.encode(), ExportTraceServiceRequest()) for line in lines]
    spans = [span for r in requests for rs in r.resource_spans for ss in rs.scope_spans for span in ss.spans]
    client, server = spans
    assert server.name == "POST /chat/{session_id}"
    assert server.trace_id.hex() == f"{trace_id:032x}"
    assert server.span_id.hex() == f"{server_id:016x}"
    assert client.parent_span_id == server.span_id
    assert server.kind == server.SPAN_KIND_SERVER
    resource = {kv.key: kv.value.string_value for kv in requests[0].resource_spans[0].resource.attributes}
    assert resource["service.name"] == "files-test"


def test_otlp_json_uses_hex_ids_and_integer_enums(provider: TracerProvider, tmp_path: Path) -> None:
    exporter = OtlpJsonFileSpanExporter(tmp_path / "t.jsonl")
    trace_id, _ = _record(provider, exporter)
    exporter.shutdown()
    first = json.loads((tmp_path / "t.jsonl").read_text(encoding="utf-8").splitlines()[0])
    span = first["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == f"{trace_id:032x}"
    assert span["kind"] == 3  # SPAN_KIND_CLIENT, as a number per OTLP/JSON
    assert len(span["parentSpanId"]) == 16


def test_the_file_starts_fresh(provider: TracerProvider, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("a previous run\n", encoding="utf-8")
    exporter = OtlpJsonFileSpanExporter(path)
    _record(provider, exporter)
    exporter.shutdown()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(line.startswith('{"resourceSpans":') for line in lines)


def test_file_export_after_shutdown_fails_without_raising(provider: TracerProvider, tmp_path: Path) -> None:
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("test").start_as_current_span("late"):
        pass
    exporter = OtlpJsonFileSpanExporter(tmp_path / "t.jsonl")
    exporter.shutdown()
    assert exporter.export(memory.get_finished_spans()) is SpanExportResult.FAILURE
    assert (tmp_path / "t.jsonl").read_text(encoding="utf-8") == ""


def test_readable_line_matches_what_the_exporter_prints(provider: TracerProvider) -> None:
    memory = InMemorySpanExporter()
    stream = io.StringIO()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(readable_line_exporter(stream)))
    with provider.get_tracer("test").start_as_current_span("plain"):
        pass
    (span,) = memory.get_finished_spans()
    assert stream.getvalue() == readable_line(span) + "\n"
    assert "INTERNAL plain -" in " ".join(readable_line(span).split())


def test_readable_lines_show_the_key_attributes(provider: TracerProvider) -> None:
    stream = io.StringIO()
    trace_id, _ = _record(provider, readable_line_exporter(stream, prefix="[span] "))
    client_line, server_line = stream.getvalue().splitlines()
    short = f"{trace_id:032x}"[:8]
    assert server_line.startswith("[span] ")
    assert "SERVER" in server_line and "POST /chat/{session_id}" in server_line
    assert "route=/chat/{session_id}" in server_line and "status=200" in server_line
    assert server_line.endswith(f"trace={short}")
    assert "CLIENT" in client_line
    for expected in (
        "model=us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "in=14",
        "out=8",
        "cost=$0.000043",
        "ttfc=3.1ms",
        f"trace={short}",
    ):
        assert expected in client_line


def test_readable_line_marks_errors(provider: TracerProvider) -> None:
    stream = io.StringIO()
    provider.add_span_processor(SimpleSpanProcessor(readable_line_exporter(stream)))
    with provider.get_tracer("test").start_as_current_span("POST /chat/{session_id}/fail") as span:
        span.set_attribute("error.type", "SimulatedFailure")
        span.set_status(Status(StatusCode.ERROR))
    (line,) = stream.getvalue().splitlines()
    assert " ERROR " in line and "error=SimulatedFailure" in line
