"""Build the SDK providers (traces, metrics, logs) from settings.

Providers are built explicitly and handed to the instrumentations; setting them as the
process-global ones is ``configure()``'s decision, not this module's, so tests build
fresh pipelines with in-memory exporters and readers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

from otel_chatbot.config import ConfigError, Settings
from otel_chatbot.export.factory import ExportWiring, log_exporters, metric_exporters, span_exporters
from otel_chatbot.export.log_batching import RetainingBatchLogRecordProcessor
from otel_chatbot.export.outage import ExporterMessages
from otel_chatbot.export.span_batching import RetainingBatchSpanProcessor
from otel_chatbot.stats.endpoint import StatsEndpoint

_log = logging.getLogger("otel_chatbot")


def build_sampler(settings: Settings) -> Sampler:
    name, ratio = settings.sampler, settings.sampler_arg
    roots: dict[str, Sampler] = {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "traceidratio": TraceIdRatioBased(ratio),
    }
    if name.startswith("parentbased_"):
        return ParentBased(roots[name.removeprefix("parentbased_")])
    return roots[name]


def build_propagator(settings: Settings) -> TextMapPropagator:
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    chosen: list[TextMapPropagator] = []
    for name in settings.propagators:
        if name == "tracecontext":
            chosen.append(TraceContextTextMapPropagator())
        elif name == "baggage":
            chosen.append(W3CBaggagePropagator())
        elif name == "xray":
            try:
                from opentelemetry.propagators.aws import AwsXRayPropagator
            except ImportError:
                raise ConfigError(
                    "OTEL_PROPAGATORS: 'xray' needs the AWS propagator: pip install opentelemetry-propagator-aws-xray"
                ) from None
            chosen.append(AwsXRayPropagator())
    return CompositePropagator(chosen)


@dataclass
class PrometheusEndpoint:
    """The in-process ``/metrics`` server for users without a collector."""

    reader: MetricReader
    server: Any
    thread: Any
    port: int

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _prometheus(settings: Settings) -> PrometheusEndpoint:
    try:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry, start_http_server
    except ImportError:
        raise ConfigError(
            "OTEL_METRICS_EXPORTER: 'prometheus' needs the Prometheus exporter: pip install 'otel-chatbot[prometheus]'"
        ) from None

    class PullOnlyReader(PrometheusMetricReader):
        """Prometheus pulls: a flush must not queue a collection the next scrape would print twice."""

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return True

    registry = CollectorRegistry(auto_describe=True)  # private: no clash with the app's own registry
    reader = PullOnlyReader(registry=registry)
    server, thread = start_http_server(settings.prometheus_port, addr=settings.prometheus_host, registry=registry)
    return PrometheusEndpoint(reader, server, thread, server.server_address[1])


def _stats(settings: Settings, resource: Resource) -> StatsEndpoint | None:
    """The live stats endpoint when ``stats_port`` is set; a free port (0) is logged where it is seen."""
    if settings.stats_port is None:
        return None
    endpoint = StatsEndpoint.open(settings.stats_host, settings.stats_port, resource.attributes)
    if endpoint is not None:
        level = logging.WARNING if settings.stats_port == 0 else logging.INFO
        _log.log(level, "otel_chatbot: live stats at %s (JSON: %sstats)", endpoint.url, endpoint.url)
    return endpoint


@dataclass
class Pipelines:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    propagator: TextMapPropagator
    wiring: ExportWiring
    prometheus: PrometheusEndpoint | None = None
    stats: StatsEndpoint | None = None
    closed: bool = field(default=False)

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        ok = self.tracer_provider.force_flush(timeout_millis)
        ok = self.meter_provider.force_flush(timeout_millis) and ok
        ok = bool(self.logger_provider.force_flush(timeout_millis)) and ok
        return ok

    def shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.stats is not None:  # first: its sampler must not collect from a provider shut down
            self.stats.close()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()
        if self.prometheus is not None:
            self.prometheus.close()
        self.wiring.detach()


def build_pipelines(
    settings: Settings,
    resource: Resource,
    *,
    extra_span_processors: Sequence[SpanProcessor] = (),
    extra_span_exporters: Sequence[SpanExporter] = (),
    extra_metric_readers: Sequence[MetricReader] = (),
    extra_log_processors: Sequence[LogRecordProcessor] = (),
    extra_log_exporters: Sequence[LogRecordExporter] = (),
) -> Pipelines:
    """Providers wired to the exporters the settings name, plus any extras (tests, demo)."""
    wiring = ExportWiring(ExporterMessages())
    wiring.attach()
    # Metrics first: the span and log processors report their queues through them.
    readers: list[MetricReader] = [
        PeriodicExportingMetricReader(
            exporter,
            export_interval_millis=settings.metric_export_interval_ms,
            export_timeout_millis=settings.otlp_timeout_ms,
        )
        for exporter in metric_exporters(settings, wiring)
    ]
    prometheus = _prometheus(settings) if settings.exports("metrics", "prometheus") else None
    if prometheus is not None:
        readers.append(prometheus.reader)
    stats = _stats(settings, resource)
    if stats is not None:
        readers.append(stats.reader)
    readers.extend(extra_metric_readers)
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    if stats is not None:
        stats.start()

    tracer_provider = TracerProvider(resource=resource, sampler=build_sampler(settings))
    for exporter in [*span_exporters(settings, wiring), *extra_span_exporters]:
        tracer_provider.add_span_processor(
            RetainingBatchSpanProcessor(
                exporter,
                max_queue_size=settings.bsp_max_queue_size,
                schedule_delay_millis=settings.bsp_schedule_delay_ms,
                max_export_batch_size=min(settings.bsp_max_export_batch_size, settings.bsp_max_queue_size),
                export_timeout_millis=settings.otlp_timeout_ms,
                meter_provider=meter_provider,
            )
        )
    for processor in extra_span_processors:
        tracer_provider.add_span_processor(processor)

    logger_provider = LoggerProvider(resource=resource)
    for log_exporter in [*log_exporters(settings, wiring), *extra_log_exporters]:
        logger_provider.add_log_record_processor(
            RetainingBatchLogRecordProcessor(
                log_exporter,
                max_queue_size=settings.blrp_max_queue_size,
                schedule_delay_millis=settings.blrp_schedule_delay_ms,
                max_export_batch_size=min(settings.blrp_max_export_batch_size, settings.blrp_max_queue_size),
                export_timeout_millis=settings.otlp_timeout_ms,
                meter_provider=meter_provider,
            )
        )
    for log_processor in extra_log_processors:
        logger_provider.add_log_record_processor(log_processor)

    return Pipelines(
        tracer_provider, meter_provider, logger_provider, build_propagator(settings), wiring, prometheus, stats
    )
