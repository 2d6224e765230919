"""ExportTraceServiceRequest -> flat :class:`SpanRecord` list."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otel_chatbot.testing.otlp_sink.records import SpanEvent, SpanLink, SpanRecord
from otel_chatbot.testing.otlp_sink.values import attributes, enum_suffix, hex_id, optional_hex_id


def count_spans(request: ExportTraceServiceRequest) -> int:
    """Number of spans in a request, without building any record."""
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def flatten_spans(request: ExportTraceServiceRequest) -> list[SpanRecord]:
    """Every span of the request with its resource and scope copied in."""
    out: list[SpanRecord] = []
    for rs in request.resource_spans:
        resource = attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for span in ss.spans:
                out.append(
                    SpanRecord(
                        trace_id=hex_id(span.trace_id),
                        span_id=hex_id(span.span_id),
                        parent_span_id=optional_hex_id(span.parent_span_id),
                        name=span.name,
                        kind=_kind(span.kind),
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status_code=_status_code(span.status.code),
                        status_message=span.status.message,
                        attributes=attributes(span.attributes),
                        events=tuple(
                            SpanEvent(e.name, e.time_unix_nano, attributes(e.attributes)) for e in span.events
                        ),
                        links=tuple(
                            SpanLink(hex_id(lk.trace_id), hex_id(lk.span_id), attributes(lk.attributes))
                            for lk in span.links
                        ),
                        resource=dict(resource),
                        scope_name=ss.scope.name,
                        scope_version=ss.scope.version,
                    )
                )
    return out


def _kind(value: int) -> str:
    try:
        return enum_suffix(Span.SpanKind.Name(value), "SPAN_KIND_")
    except ValueError:
        return str(value)


def _status_code(value: int) -> str:
    try:
        return enum_suffix(Status.StatusCode.Name(value), "STATUS_CODE_")
    except ValueError:
        return str(value)
