"""A local OTLP receiver ("sink") that decodes real OTLP, for tests, benchmarks and demos.

It stands in for Tempo or a collector: OTLP/HTTP (protobuf or JSON, optionally
gzipped) and OTLP/gRPC in, flattened records and counters out. See
:class:`OtlpSink`; ``python -m otel_chatbot.testing.otlp_sink --help`` runs it standalone::

    with OtlpSink() as sink:
        exporter = OTLPSpanExporter(endpoint=f"{sink.http_endpoint}/v1/traces")
        ...
        (span,) = sink.wait_for_spans(1, name="POST /chat")
        assert span.attributes["http.route"] == "/chat"
"""

from otel_chatbot.testing.otlp_sink.behaviour import Behaviour
from otel_chatbot.testing.otlp_sink.records import Exemplar, LogEntry, MetricPoint, SpanEvent, SpanLink, SpanRecord
from otel_chatbot.testing.otlp_sink.sink import OtlpSink
from otel_chatbot.testing.otlp_sink.store import SinkStats

__all__ = [
    "Behaviour",
    "Exemplar",
    "LogEntry",
    "MetricPoint",
    "OtlpSink",
    "SinkStats",
    "SpanEvent",
    "SpanLink",
    "SpanRecord",
]
