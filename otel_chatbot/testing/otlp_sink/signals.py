"""The three OTLP signals as data, so transports and the store stay signal-agnostic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otel_chatbot.testing.otlp_sink.decode_logs import count_logs, flatten_logs
from otel_chatbot.testing.otlp_sink.decode_metrics import count_points, flatten_points
from otel_chatbot.testing.otlp_sink.decode_traces import count_spans, flatten_spans
from otel_chatbot.testing.otlp_sink.records import Record

RequestT = TypeVar("RequestT", bound=Message)

TRACES = "traces"
METRICS = "metrics"
LOGS = "logs"


@dataclass(frozen=True)
class Batch:
    """What one accepted export request contributed; ``records`` is None when not flattened."""

    signal: str
    items: int
    records: Sequence[Record] | None


@dataclass(frozen=True)
class SignalSpec(Generic[RequestT]):
    """How to parse, count and flatten one signal's export request."""

    name: str
    path: str
    request_type: type[RequestT]
    response_type: type[Message]
    count: Callable[[RequestT], int]
    flatten: Callable[[RequestT], Sequence[Record]]

    def parse(self, body: bytes) -> RequestT:
        """Decode a protobuf body; raises ``google.protobuf.message.DecodeError``."""
        request: RequestT = self.request_type()
        request.ParseFromString(body)
        return request

    def batch(self, request: RequestT, flatten: bool) -> Batch:
        """Count (always) and flatten (only if asked: count-only mode skips it)."""
        return Batch(self.name, self.count(request), self.flatten(request) if flatten else None)

    def empty_response(self) -> Message:
        """The full-success response: an Export*ServiceResponse without partial_success."""
        return self.response_type()


SIGNALS: dict[str, SignalSpec[Any]] = {
    spec.name: spec
    for spec in (
        SignalSpec(
            TRACES,
            "/v1/traces",
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
            count_spans,
            flatten_spans,
        ),
        SignalSpec(
            METRICS,
            "/v1/metrics",
            ExportMetricsServiceRequest,
            ExportMetricsServiceResponse,
            count_points,
            flatten_points,
        ),
        SignalSpec(LOGS, "/v1/logs", ExportLogsServiceRequest, ExportLogsServiceResponse, count_logs, flatten_logs),
    )
}

SIGNAL_BY_PATH: dict[str, SignalSpec[Any]] = {spec.path: spec for spec in SIGNALS.values()}
