"""OTLP export requests shaped like what otel_chatbot apps send, encoded once and stamped per request.

A request is encoded once (with placeholder trace ids and timestamps); every send copies the
bytes and writes fresh trace ids (traces: unique traces for tail sampling) or timestamps
(metrics: a series' points must move forward for cumulative_to_delta and Prometheus) at the
placeholders' offsets.  That keeps the generator's cost per item well under a microsecond,
so on a 2-core machine the CPU goes to the collector, not to making its input.

The shapes follow the distro's real telemetry: a chat turn is a SERVER span ``POST /chat``
with ASGI receive/send spans, a cache lookup, a GenAI CLIENT span ``chat <model>`` and the
HTTP CLIENT span under it; metrics are the HTTP/GenAI histograms and counters the
dashboards and CloudWatch read; logs are the app's records with a trace context.  None of
them matches a keep policy except tail sampling's baseline percentage, as for a healthy app.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Sequence

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

SIGNALS = ("traces", "metrics", "logs")
SPANS_PER_TRACE = 7
# otelcol's gRPC export methods (the request bytes go on the wire as they are)
METHODS = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}
_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
_MODELS = ("anthropic.claude-3-5-sonnet-20240620-v1:0", "amazon.nova-lite-v1:0", "gpt-4o-mini")
_ROUTES = ("/chat", "/chat/stream", "/feedback")


def _value(v: object) -> AnyValue:
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    if isinstance(v, (list, tuple)):
        return AnyValue(array_value=ArrayValue(values=[_value(x) for x in v]))
    return AnyValue(string_value=str(v))


def attrs(**kv: object) -> list[KeyValue]:
    """OTLP attributes from keyword arguments (``__`` stands for ``.`` in the names)."""
    return [KeyValue(key=k.replace("__", "."), value=_value(v)) for k, v in kv.items()]


def resource(instance: int) -> Resource:
    return Resource(
        attributes=attrs(
            service__name="chatbot-api",
            service__version="1.4.2",
            service__instance__id=f"chatbot-api-{instance:04d}",
            deployment__environment__name="bench",
            telemetry__sdk__name="opentelemetry",
            telemetry__sdk__language="python",
            telemetry__sdk__version="1.39.0",
            telemetry__distro__name="otel_chatbot",
        )
    )


class Template:
    """One encoded export request and where to stamp it.

    ``id_offsets[i]`` are the byte offsets of trace ``i``'s 16-byte id (once per span and
    log record); ``time_offsets`` those of the 8-byte timestamps to move to "now".  The
    body is kept cut at those offsets, so stamping is one ``bytes.join`` (~0.1 us per item).
    """

    def __init__(
        self,
        signal: str,
        body: bytes,
        items: int,
        id_offsets: Sequence[Sequence[int]] = (),
        time_offsets: Sequence[int] = (),
    ) -> None:
        self.signal, self.body, self.items = signal, body, items
        self.traces = len(id_offsets)
        marks = sorted(
            [(off, 16, i) for i, offs in enumerate(id_offsets) for off in offs] + [(off, 8, -1) for off in time_offsets]
        )
        self._slots = [i for _, _, i in marks]  # which trace id (or -1: the timestamp) goes in each gap
        self._parts: list[bytes] = []
        at = 0
        for off, size, _ in marks:
            self._parts += [body[at:off], b""]
            at = off + size
        self._parts.append(body[at:])

    def stamp(self, now_ns: int | None = None) -> bytes:
        """A copy of the request with fresh trace ids and timestamps."""
        if not self._slots:
            return self.body
        fresh = os.urandom(16 * self.traces)
        ids = [fresh[16 * i : 16 * i + 16] for i in range(self.traces)]
        ids.append(struct.pack("<Q", now_ns if now_ns is not None else time.time_ns()))  # ids[-1]: the timestamp
        parts = self._parts
        parts[1::2] = [ids[i] for i in self._slots]
        return b"".join(parts)


def _placeholder_id(i: int) -> bytes:
    """A 16-byte trace id that cannot occur elsewhere in an encoded request."""
    return b"\xa5\x5a\xc3\x3c" + struct.pack(">I", i) + b"\x96\x69\xf0\x0f\xe1\x1e\xd2\x2d"


_TIME_MARK = 0x7E57_7E57_7E57_7E57  # a timestamp no real point has, found again in the bytes


def _offsets(body: bytes, needle: bytes) -> tuple[int, ...]:
    found, start = [], 0
    while (at := body.find(needle, start)) >= 0:
        found.append(at)
        start = at + len(needle)
    return tuple(found)


def _chat_trace(trace_id: bytes, n: int, start_ns: int) -> list[Span]:
    """The spans of one chat turn (SPANS_PER_TRACE of them), parents before children."""
    model = _MODELS[n % len(_MODELS)]
    route = _ROUTES[n % len(_ROUTES)]
    sid = [struct.pack(">Q", (n << 8) + k + 1) for k in range(SPANS_PER_TRACE)]
    took = 180_000_000 + (n % 7) * 90_000_000  # 0.18-0.72 s: under the "slow" policy's 2 s
    llm_start, llm_end = start_ns + 12_000_000, start_ns + took - 8_000_000

    def span(k: int, parent: int | None, name: str, kind: int, t0: int, t1: int, a: list[KeyValue]) -> Span:
        return Span(
            trace_id=trace_id,
            span_id=sid[k],
            parent_span_id=b"" if parent is None else sid[parent],
            name=name,
            kind=kind,  # type: ignore[arg-type]
            start_time_unix_nano=t0,
            end_time_unix_nano=t1,
            attributes=a,
        )

    internal, server, client = Span.SPAN_KIND_INTERNAL, Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT
    return [
        span(
            0,
            None,
            f"POST {route}",
            server,
            start_ns,
            start_ns + took,
            attrs(
                http__request__method="POST",
                http__route=route,
                url__path=route,
                url__scheme="http",
                http__response__status_code=200,
                server__address="chatbot.internal",
                server__port=8000,
                network__protocol__version="1.1",
                client__address="10.0.3.17",
                user_agent__original="python-httpx/0.28.1",
            ),
        ),
        span(
            1,
            0,
            f"POST {route} http receive",
            internal,
            start_ns + 1_000,
            start_ns + 90_000,
            attrs(asgi__event__type="http.request"),
        ),
        span(
            2,
            0,
            "chatbot.cache lookup",
            internal,
            start_ns + 2_000_000,
            start_ns + 9_000_000,
            attrs(chatbot__cache__name="semantic", chatbot__cache__result="miss"),
        ),
        span(
            3,
            0,
            f"chat {model}",
            client,
            llm_start,
            llm_end,
            attrs(
                gen_ai__operation__name="chat",
                gen_ai__provider__name="aws.bedrock",
                gen_ai__request__model=model,
                gen_ai__request__max_tokens=1024,
                gen_ai__request__temperature=0.2,
                gen_ai__response__model=model,
                gen_ai__response__id=f"msg_{n:012d}",
                gen_ai__response__finish_reasons=["end_turn"],
                gen_ai__usage__input_tokens=812 + n % 300,
                gen_ai__usage__output_tokens=164 + n % 120,
                gen_ai__usage__cost=0.0041,
                server__address="bedrock-runtime.us-east-1.amazonaws.com",
                server__port=443,
            ),
        ),
        span(
            4,
            3,
            "POST",
            client,
            llm_start + 300_000,
            llm_end - 200_000,
            attrs(
                http__request__method="POST",
                url__full="https://bedrock-runtime.us-east-1.amazonaws.com/model/converse",
                server__address="bedrock-runtime.us-east-1.amazonaws.com",
                server__port=443,
                http__response__status_code=200,
            ),
        ),
        span(
            5,
            0,
            f"POST {route} http send",
            internal,
            llm_end + 100_000,
            llm_end + 150_000,
            attrs(asgi__event__type="http.response.start", http__response__status_code=200),
        ),
        span(
            6,
            0,
            f"POST {route} http send",
            internal,
            llm_end + 200_000,
            llm_end + 400_000,
            attrs(asgi__event__type="http.response.body"),
        ),
    ]


def trace_template(traces: int, instance: int = 0) -> Template:
    """``traces`` chat turns (SPANS_PER_TRACE spans each) in one request, all spans of a turn in it."""
    start = time.time_ns()
    spans = [s for n in range(traces) for s in _chat_trace(_placeholder_id(n), n, start)]
    req = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=resource(instance),
                scope_spans=[ScopeSpans(scope=InstrumentationScope(name="otel_chatbot", version="0.1.0"), spans=spans)],
            )
        ]
    )
    body = req.SerializeToString()
    ids = tuple(_offsets(body, _placeholder_id(n)) for n in range(traces))
    if any(len(o) != SPANS_PER_TRACE for o in ids):
        raise AssertionError("a placeholder trace id was not found once per span")
    return Template("traces", body, len(spans), id_offsets=ids)


def _metric_points(route: str, model: str, status: int) -> list[Metric]:
    """One app series set: what one route/model pair records per export."""
    http_attrs = attrs(
        http__request__method="POST", http__route=route, http__response__status_code=status, url__scheme="http"
    )
    genai = attrs(gen_ai__operation__name="chat", gen_ai__provider__name="aws.bedrock", gen_ai__request__model=model)

    def histogram(name: str, unit: str, a: list[KeyValue], count: int, total: float) -> Metric:
        counts = [0] * (len(_SECONDS_BUCKETS) + 1)
        counts[6], counts[7] = count // 2, count - count // 2
        point = HistogramDataPoint(
            attributes=a,
            start_time_unix_nano=1,
            time_unix_nano=_TIME_MARK,
            count=count,
            sum=total,
            bucket_counts=counts,
            explicit_bounds=_SECONDS_BUCKETS,
        )
        cumulative = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
        return Metric(
            name=name, unit=unit, histogram=Histogram(data_points=[point], aggregation_temporality=cumulative)
        )

    def counter(name: str, unit: str, a: list[KeyValue], value: int) -> Metric:
        point = NumberDataPoint(attributes=a, start_time_unix_nano=1, time_unix_nano=_TIME_MARK, as_int=value)
        cumulative = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
        return Metric(
            name=name, unit=unit, sum=Sum(data_points=[point], aggregation_temporality=cumulative, is_monotonic=True)
        )

    return [
        histogram("http.server.request.duration", "s", http_attrs, 40, 14.2),
        histogram("gen_ai.client.operation.duration", "s", genai, 40, 12.9),
        histogram("gen_ai.client.token.usage", "{token}", genai + attrs(gen_ai__token__type="input"), 40, 33000.0),
        histogram("gen_ai.client.token.usage", "{token}", genai + attrs(gen_ai__token__type="output"), 40, 6500.0),
        counter(
            "chatbot.cache.lookups",
            "{lookup}",
            attrs(chatbot__cache__name="semantic", chatbot__cache__result="miss"),
            40,
        ),
        # not published to CloudWatch (filter/cloudwatch drops it): Prometheus only
        counter("process.cpu.time", "s", attrs(cpu__mode="user"), 1200),
    ]


def metric_template(series_sets: int, instance: int) -> Template:
    """One app instance's export: ``series_sets`` route/model/status combinations of the app's metrics."""
    metrics: list[Metric] = []
    for n in range(series_sets):
        metrics += _metric_points(
            f"{_ROUTES[n % len(_ROUTES)]}/{n // len(_ROUTES)}", _MODELS[n % len(_MODELS)], 200 if n % 10 else 429
        )
    req = ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=resource(instance),
                scope_metrics=[
                    ScopeMetrics(scope=InstrumentationScope(name="otel_chatbot", version="0.1.0"), metrics=metrics)
                ],
            )
        ]
    )
    body = req.SerializeToString()
    times = _offsets(body, struct.pack("<Q", _TIME_MARK))
    if len(times) != len(metrics):
        raise AssertionError("a placeholder timestamp was not found once per point")
    return Template("metrics", body, len(metrics), time_offsets=times)


def log_template(records: int, instance: int = 0) -> Template:
    """``records`` app log records, each in a trace (a chat turn's own records)."""
    now = time.time_ns()
    logs = [
        LogRecord(
            time_unix_nano=now,
            observed_time_unix_nano=now,
            severity_number=9,  # type: ignore[arg-type]
            severity_text="INFO",
            body=AnyValue(
                string_value=f"chat turn {n} answered by {_MODELS[n % 3]} in {180 + n % 500} ms (cache miss)"
            ),
            attributes=attrs(
                code__function__name="answer",
                code__file__path="/app/chatbot/routes.py",
                code__line__number=88,
                http__route="/chat",
                gen_ai__request__model=_MODELS[n % 3],
            ),
            trace_id=_placeholder_id(n),
            span_id=struct.pack(">Q", n + 1),
            flags=1,
        )
        for n in range(records)
    ]
    req = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=resource(instance),
                scope_logs=[ScopeLogs(scope=InstrumentationScope(name="chatbot.routes"), log_records=logs)],
            )
        ]
    )
    body = req.SerializeToString()
    ids = tuple(_offsets(body, _placeholder_id(n)) for n in range(records))
    if any(len(o) != 1 for o in ids):
        raise AssertionError("a placeholder trace id was not found once per record")
    return Template("logs", body, records, id_offsets=ids)


def templates(signal: str, batch: int, instances: int = 1) -> Sequence[Template]:
    """Requests of about ``batch`` items: one per app instance (metrics), or one (traces, logs)."""
    if signal == "traces":
        return [trace_template(max(1, batch // SPANS_PER_TRACE), i) for i in range(instances)]
    if signal == "metrics":
        per_set = len(_metric_points("/", _MODELS[0], 200))
        return [metric_template(max(1, batch // per_set), i) for i in range(instances)]
    if signal == "logs":
        return [log_template(batch, i) for i in range(instances)]
    raise ValueError(f"signal must be one of {SIGNALS}, not {signal!r}")
