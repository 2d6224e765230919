"""ExportLogsServiceRequest -> flat :class:`LogEntry` list."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from otel_chatbot.testing.otlp_sink.records import LogEntry
from otel_chatbot.testing.otlp_sink.values import any_value, attributes, optional_hex_id


def count_logs(request: ExportLogsServiceRequest) -> int:
    """Number of log records in a request, without building any record."""
    return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)


def flatten_logs(request: ExportLogsServiceRequest) -> list[LogEntry]:
    """Every log record of the request with its resource and scope copied in."""
    out: list[LogEntry] = []
    for rl in request.resource_logs:
        resource = attributes(rl.resource.attributes)
        for sl in rl.scope_logs:
            for rec in sl.log_records:
                out.append(
                    LogEntry(
                        body=any_value(rec.body),
                        severity_number=rec.severity_number,
                        severity_text=rec.severity_text,
                        attributes=attributes(rec.attributes),
                        trace_id=optional_hex_id(rec.trace_id),
                        span_id=optional_hex_id(rec.span_id),
                        time_ns=rec.time_unix_nano,
                        observed_time_ns=rec.observed_time_unix_nano,
                        event_name=rec.event_name,
                        resource=dict(resource),
                        scope_name=sl.scope.name,
                        scope_version=sl.scope.version,
                    )
                )
    return out
