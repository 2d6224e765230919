"""Settings → exporters: protocol, endpoints, and the outage wrappers around OTLP ones."""

from __future__ import annotations

import pytest

from otel_chatbot.config import load_settings
from otel_chatbot.export.factory import ExportWiring, log_exporters, metric_exporters, otlp_endpoint, span_exporters
from otel_chatbot.export.outage import ExporterMessages


@pytest.mark.parametrize(
    ("protocol", "modules"),
    [
        ("grpc", ["grpc.trace_exporter", "grpc.metric_exporter", "grpc._log_exporter"]),
        ("http/protobuf", ["fast_spans", "http.metric_exporter", "http._log_exporter"]),
    ],
)
def test_each_signal_gets_the_exporter_of_the_protocol(protocol: str, modules: list[str]) -> None:
    settings = load_settings({"otlp_protocol": protocol}, environ={})
    wiring = ExportWiring(ExporterMessages())
    exporters = [
        *span_exporters(settings, wiring),
        *metric_exporters(settings, wiring),
        *log_exporters(settings, wiring),
    ]
    inner = [type(e.inner).__module__ for e in exporters]  # type: ignore[attr-defined]
    assert [m for m, expected in zip(inner, modules, strict=True) if not m.endswith(expected)] == []


def test_endpoints_follow_the_otlp_exporter_rules() -> None:
    http = load_settings({"otlp_endpoint": "http://collector:4318"}, environ={})
    assert otlp_endpoint(http, "traces") == "http://collector:4318/v1/traces"
    specific = load_settings(environ={"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://logs:9999/custom"})
    assert otlp_endpoint(specific, "logs") == "http://logs:9999/custom"
    grpc = load_settings({"otlp_protocol": "grpc"}, environ={})
    assert otlp_endpoint(grpc, "metrics") == "http://localhost:4317"


def test_none_and_console_exporters() -> None:
    settings = load_settings(
        {"traces_exporter": "console", "metrics_exporter": "none", "logs_exporter": "none"}, environ={}
    )
    wiring = ExportWiring(ExporterMessages())
    assert [type(e).__name__ for e in span_exporters(settings, wiring)] == ["ConsoleSpanExporter"]
    assert metric_exporters(settings, wiring) == [] and log_exporters(settings, wiring) == []


def test_upstreams_encoder_messages_pass_once_while_the_wiring_is_attached(caplog: pytest.LogCaptureFixture) -> None:
    """214 "Failed to encode key" tracebacks (one per attribute) became one line."""
    import logging

    encoder = logging.getLogger("opentelemetry.exporter.otlp.proto.common._internal")
    wiring = ExportWiring(ExporterMessages())
    wiring.attach()
    try:
        with caplog.at_level(logging.ERROR, logger=encoder.name):
            for i in range(214):
                encoder.error("Failed to encode key %s: %s", f"key.{i}", "Value out of range")
    finally:
        wiring.detach()
    assert len(caplog.records) == 1
    assert wiring.encoder_messages.suppressed == 213
    with caplog.at_level(logging.ERROR, logger=encoder.name):
        encoder.error("Failed to encode key %s: %s", "after", "detach")
    assert len(caplog.records) == 2  # detached with the configuration
