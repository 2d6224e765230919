"""Turn settings into exporters: OTLP (http/protobuf or gRPC), console, or none.

Every argument is passed explicitly so the resolved settings, not a second reading of
the environment by the upstream exporter, decide where data goes.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter, LogRecordExporter
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter

from otel_chatbot.config import Settings
from otel_chatbot.export.outage import (
    ENCODER_LOGGERS,
    EXPORTER_LOGGERS,
    ExporterMessages,
    OutageLog,
    OutageLogExporter,
    OutageMetricExporter,
    OutageSpanExporter,
)
from otel_chatbot.guard import OncePerMessage

_HTTP_PATHS = {"traces": "/v1/traces", "metrics": "/v1/metrics", "logs": "/v1/logs"}
_DEFAULT_BASE = {"http/protobuf": "http://localhost:4318", "grpc": "http://localhost:4317"}


def otlp_endpoint(settings: Settings, signal: str) -> str:
    """The URL a signal is sent to, following the OTLP exporter specification's rules."""
    specific: str | None = getattr(settings, f"otlp_{signal}_endpoint")
    if specific:
        return specific
    base = settings.otlp_endpoint or _DEFAULT_BASE[settings.otlp_protocol]
    if settings.otlp_protocol == "grpc":
        return base
    return base + _HTTP_PATHS[signal]


@dataclass
class ExportWiring:
    """The filters shared by all OTLP exporters of one configuration, detached on shutdown."""

    messages: ExporterMessages
    encoder_messages: OncePerMessage = field(default_factory=OncePerMessage)

    def attach(self) -> None:
        for name in EXPORTER_LOGGERS:
            logging.getLogger(name).addFilter(self.messages)
        for name in ENCODER_LOGGERS:
            logging.getLogger(name).addFilter(self.encoder_messages)

    def detach(self) -> None:
        for name in EXPORTER_LOGGERS:
            logging.getLogger(name).removeFilter(self.messages)
        for name in ENCODER_LOGGERS:
            logging.getLogger(name).removeFilter(self.encoder_messages)


def _otlp_kwargs(settings: Settings, signal: str) -> dict[str, Any]:
    endpoint = otlp_endpoint(settings, signal)
    kwargs: dict[str, Any] = {
        "endpoint": endpoint,
        "headers": dict(settings.otlp_headers),
        "timeout": settings.otlp_timeout_ms / 1000,
    }
    if settings.otlp_protocol == "grpc":
        import grpc

        kwargs["insecure"] = endpoint.startswith("http://")
        kwargs["endpoint"] = endpoint.split("://", 1)[-1]
        kwargs["compression"] = grpc.Compression.Gzip if settings.otlp_compression == "gzip" else None
    else:
        from opentelemetry.exporter.otlp.proto.http import Compression

        kwargs["compression"] = Compression.Gzip if settings.otlp_compression == "gzip" else Compression.NoCompression
    return kwargs


# Where each signal's OTLP exporter class lives, per protocol ("module:Class"). The
# http/protobuf span exporter is ours: same protocol and behaviour as upstream's, ~5x
# less CPU per span (otel_chatbot/export/fast_spans.py).
_OTLP_CLASSES: dict[tuple[str, str], str] = {
    ("traces", "grpc"): "opentelemetry.exporter.otlp.proto.grpc.trace_exporter:OTLPSpanExporter",
    ("traces", "http/protobuf"): "otel_chatbot.export.fast_spans:FastOTLPSpanExporter",
    ("metrics", "grpc"): "opentelemetry.exporter.otlp.proto.grpc.metric_exporter:OTLPMetricExporter",
    ("metrics", "http/protobuf"): "opentelemetry.exporter.otlp.proto.http.metric_exporter:OTLPMetricExporter",
    ("logs", "grpc"): "opentelemetry.exporter.otlp.proto.grpc._log_exporter:OTLPLogExporter",
    ("logs", "http/protobuf"): "opentelemetry.exporter.otlp.proto.http._log_exporter:OTLPLogExporter",
}


def _otlp_exporter(settings: Settings, signal: str) -> Any:
    """The OTLP exporter of ``signal`` for the configured protocol, imported only when used."""
    module, _, name = _OTLP_CLASSES[(signal, settings.otlp_protocol)].partition(":")
    return getattr(importlib.import_module(module), name)(**_otlp_kwargs(settings, signal))


def _outage(settings: Settings, wiring: ExportWiring, signal: str) -> OutageLog:
    return OutageLog(signal, otlp_endpoint(settings, signal), wiring.messages)


def span_exporters(settings: Settings, wiring: ExportWiring) -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    if settings.exports("traces", "otlp"):
        exporters.append(OutageSpanExporter(_otlp_exporter(settings, "traces"), _outage(settings, wiring, "traces")))
    if settings.exports("traces", "console"):
        exporters.append(ConsoleSpanExporter())
    return exporters


def metric_exporters(settings: Settings, wiring: ExportWiring) -> list[MetricExporter]:
    exporters: list[MetricExporter] = []
    if settings.exports("metrics", "otlp"):
        exporters.append(
            OutageMetricExporter(_otlp_exporter(settings, "metrics"), _outage(settings, wiring, "metrics"))
        )
    if settings.exports("metrics", "console"):
        exporters.append(ConsoleMetricExporter())
    return exporters


def log_exporters(settings: Settings, wiring: ExportWiring) -> list[LogRecordExporter]:
    exporters: list[LogRecordExporter] = []
    if settings.exports("logs", "otlp"):
        exporters.append(OutageLogExporter(_otlp_exporter(settings, "logs"), _outage(settings, wiring, "logs")))
    if settings.exports("logs", "console"):
        exporters.append(ConsoleLogRecordExporter())
    return exporters
