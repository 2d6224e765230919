"""Send spans, metrics and logs to a collector with the OTel Python SDK: fresh providers, never globals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


@contextmanager
def tracer_provider(grpc_endpoint: str, service: str, batch_size: int = 64) -> Iterator[TracerProvider]:
    """A TracerProvider exporting OTLP/gRPC to ``grpc_endpoint``; flushed and shut down on exit."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=grpc_endpoint, insecure=True, timeout=10)
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_export_batch_size=batch_size, schedule_delay_millis=50)
    )
    try:
        yield provider
    finally:
        assert provider.force_flush(20_000), "spans were not exported"
        provider.shutdown()


@contextmanager
def meter_provider(grpc_endpoint: str, service: str) -> Iterator[MeterProvider]:
    """A MeterProvider exporting OTLP/gRPC (cumulative) to ``grpc_endpoint``; flushed on exit."""
    exporter = OTLPMetricExporter(endpoint=grpc_endpoint, insecure=True, timeout=10)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
    provider = MeterProvider(resource=Resource.create({"service.name": service}), metric_readers=[reader])
    try:
        yield provider
    finally:
        assert provider.force_flush(20_000), "metrics were not exported"
        provider.shutdown()


@contextmanager
def logger_provider(grpc_endpoint: str, service: str) -> Iterator[LoggerProvider]:
    """A LoggerProvider exporting OTLP/gRPC to ``grpc_endpoint``; flushed and shut down on exit."""
    provider = LoggerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPLogExporter(endpoint=grpc_endpoint, insecure=True, timeout=10)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter, schedule_delay_millis=50))
    try:
        yield provider
    finally:
        assert provider.force_flush(20_000), "log records were not exported"
        provider.shutdown()
