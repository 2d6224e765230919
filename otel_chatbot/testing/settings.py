"""The ``configure()`` keywords that send a process's telemetry to an :class:`OtlpSink`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from otel_chatbot.config import SettingsKeywords

if TYPE_CHECKING:
    from otel_chatbot.testing.otlp_sink import OtlpSink


def sink_settings(sink: OtlpSink) -> SettingsKeywords:
    """Traces, metrics and logs to ``sink`` over OTLP/HTTP, every span sampled, no AWS probing.

    Keywords win over environment variables, so an ``OTEL_*`` exporter, endpoint, sampler or
    ``OTEL_SDK_DISABLED`` on the machine running the tests cannot send the telemetry elsewhere
    or drop it. Exports run on the usual schedule; ``Telemetry.force_flush()`` delivers
    everything recorded so far before it returns.
    """
    endpoint = sink.http_endpoint
    return SettingsKeywords(
        sdk_disabled=False,
        traces_exporter="otlp",
        metrics_exporter="otlp",
        logs_exporter="otlp",
        otlp_protocol="http/protobuf",
        otlp_endpoint=endpoint,
        otlp_traces_endpoint=f"{endpoint}/v1/traces",
        otlp_metrics_endpoint=f"{endpoint}/v1/metrics",
        otlp_logs_endpoint=f"{endpoint}/v1/logs",
        sampler="parentbased_always_on",
        aws_detectors="none",
    )
