"""Each fast path of otel_chatbot/compat.py next to the public path it replaces, in one process.

Run from the repository root (a few seconds)::

    .venv/bin/python bench/fast_paths.py
    .venv/bin/python bench/fast_paths.py --reps 7 --scale 2

CPU time (``time.process_time``) per operation, median (min-max) over interleaved
repetitions, on whatever SDK is installed (the gate says whether the fast paths are on):

* pre-bound record: ``Bound.record`` against ``Histogram.record`` with the same 5
  attributes, one reader, a span current (the server duration histogram's case);
* encoded-span export: ``FastOTLPSpanExporter.export`` against upstream's
  ``OTLPSpanExporter.export``, 512 server spans per call, over a ``requests`` session that
  answers 200 in-process (no socket: the HTTP cost is the same for both and not measured);
* encoding batch processor: what the export thread does per batch of 2,048 spans (it holds
  the GIL meanwhile, which the event loop waits for) when spans arrive raw (upstream's
  ``BatchSpanProcessor``) or encoded at their end (ours), and what ``on_end`` costs the
  thread that ends a span. Its gain (p99, the export thread's wake-ups) shows only in a
  server: ``bench/README.md``. (The processor is ours, ``export/span_batching.py``; its
  fast path is the exporter's: it encodes at the end only for an exporter that takes
  encoded spans.)

* plain span attributes: a span's late attributes through ``span_attribute_setter`` against
  ``Span.set_attributes``, and its start through ``plain_span_starter`` against
  ``Tracer.start_span(attributes=...)``.

bench/README.md keeps the figures; a fast path whose gain is gone (within noise) goes.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_chatbot import compat
from otel_chatbot.export.fast_spans import FastOTLPSpanExporter, encode_finished
from otel_chatbot.export.span_batching import RetainingBatchSpanProcessor
from otel_chatbot.instrumentation.prebound import Bound

ATTRIBUTES = {
    "http.request.method": "POST",
    "http.route": "/chat",
    "http.response.status_code": 200,
    "url.scheme": "http",
    "network.protocol.version": "1.1",
}
RESOURCE = Resource(
    {
        "service.name": "chatbot",
        "service.version": "1.2.3",
        "deployment.environment.name": "bench",
        "service.instance.id": "6d1f0c1e-bench",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": compat.SDK_VERSION,
    }
)


class _Accept(requests.adapters.BaseAdapter):
    """Answers every request with an empty 200, in-process."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code, response.raw, response.request = 200, io.BytesIO(b""), request
        return response

    def close(self) -> None:
        pass


def _session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", _Accept())
    return session


def server_spans(count: int) -> tuple[ReadableSpan, ...]:
    """``count`` finished server spans like ours: 10 attributes, one parent context each."""
    kept = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(kept))
    tracer = provider.get_tracer("otel_chatbot", "0.1.0")
    for i in range(count):
        span = tracer.start_span("POST /chat", kind=SpanKind.SERVER, attributes=ATTRIBUTES)
        span.set_attributes({"client.address": "127.0.0.1", "http.request.id": f"{i:032x}", "user_agent.original": "x"})
        span.end()
    provider.shutdown()
    return kept.get_finished_spans()


def _per_op(run: Callable[[], None], ops: int) -> float:
    """µs of CPU per operation for one call of ``run`` doing ``ops`` operations."""
    start = time.process_time()
    run()
    return (time.process_time() - start) / ops * 1e6


Case = tuple[str, Callable[[], None], int]


def compare(title: str, public: Case, fast: Case, reps: int, active: bool) -> dict[str, Any]:
    """Interleaved repetitions of both sides; prints one table row per side."""
    times: dict[str, list[float]] = {public[0]: [], fast[0]: []}
    for _ in range(reps):
        for name, run, ops in (public, fast):
            times[name].append(_per_op(run, ops))
    median = {name: statistics.median(values) for name, values in times.items()}
    gain = median[public[0]] - median[fast[0]]
    print(f"\n{title}{'' if active else '  (FAST PATH OFF on this SDK: both rows are the public path)'}")
    for name, values in times.items():
        print(f"  {name:<58} {median[name]:9.2f} µs  ({min(values):.2f}-{max(values):.2f})")
    print(f"  {'gain':<58} {gain:9.2f} µs  ({median[public[0]] / median[fast[0]]:.1f}x)")
    return {"title": title, "median_us": median, "runs_us": times, "active": active}


def prebound(reps: int, scale: int) -> dict[str, Any]:
    calls = 20_000 * scale
    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    hist = provider.get_meter("bench").create_histogram("http.server.request.duration", unit="s")
    bound = Bound(hist, ATTRIBUTES)
    bound.record(0.01)  # the first record of a binding goes through the public API
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer("bench")

    def public() -> None:
        record, attributes = hist.record, ATTRIBUTES
        for i in range(calls):
            record(0.001 * (i & 63), attributes)

    def fast() -> None:
        record = bound.record
        for i in range(calls):
            record(0.001 * (i & 63))

    with tracer.start_as_current_span("request"):  # exemplars are sampled from the current span
        result = compare(
            "pre-bound record (5 attributes, 1 reader, a span current), per record",
            ("Histogram.record(value, attributes)", public, calls),
            ("Bound.record(value)", fast, calls),
            reps,
            bound.fast_path_active,
        )
    provider.shutdown()
    return result


def encoded_export(spans: Sequence[ReadableSpan], reps: int) -> dict[str, Any]:
    url = "http://collector.invalid:4318/v1/traces"
    upstream = OTLPSpanExporter(endpoint=url, session=_session())
    ours = FastOTLPSpanExporter(endpoint=url, session=_session())
    batch = list(spans[:512])
    rounds = 4

    def run(exporter: OTLPSpanExporter) -> Callable[[], None]:
        def go() -> None:
            for _ in range(rounds):
                exporter.export(batch)

        return go

    result = compare(
        f"encoded-span export ({len(batch)} server spans per export, HTTP answered in-process), per span",
        ("OTLPSpanExporter.export (upstream's protobuf encoder)", run(upstream), rounds * len(batch)),
        ("FastOTLPSpanExporter.export (direct encoder)", run(ours), rounds * len(batch)),
        reps,
        ours.accepts_encoded_spans,
    )
    upstream.shutdown()
    ours.shutdown()
    return result


def batch_processor(spans: Sequence[ReadableSpan], reps: int) -> list[dict[str, Any]]:
    url = "http://collector.invalid:4318/v1/traces"
    exporter = FastOTLPSpanExporter(endpoint=url, session=_session())
    raw = list(spans[:2048])
    encoded = [encode_finished(span) for span in raw]
    active = exporter.accepts_encoded_spans
    export_thread = compare(
        f"encoding batch processor: the export thread's work per batch of {len(raw)} spans, per span",
        ("BatchSpanProcessor: batch of spans, encoded on export", lambda: exporter.export(raw), len(raw)),
        ("RetainingBatchSpanProcessor: batch encoded at on_end", lambda: exporter.export(encoded), len(raw)),
        reps,
        active,
    )
    held = {name: us * len(raw) / 1000 for name, us in export_thread["median_us"].items()}
    print(f"  {'export thread CPU per batch, GIL held':<58} " + " -> ".join(f"{ms:.1f} ms" for ms in held.values()))
    # What the thread that ends a span pays: upstream only enqueues, ours encodes first. The
    # queues hold every repetition's spans, so no export is due while this is timed.
    queue = {"max_queue_size": len(raw) * (reps + 1), "max_export_batch_size": len(raw) * (reps + 1)}
    upstream = BatchSpanProcessor(
        FastOTLPSpanExporter(endpoint=url, session=_session()), schedule_delay_millis=3_600_000, **queue
    )
    ours = RetainingBatchSpanProcessor(
        FastOTLPSpanExporter(endpoint=url, session=_session()), schedule_delay_millis=3_600_000, **queue
    )

    def timed_on_end(processor: SpanProcessor) -> Callable[[], None]:
        def go() -> None:
            on_end = processor.on_end
            for span in raw:
                on_end(span)

        return go

    ending_thread = compare(
        "encoding batch processor: on_end on the thread that ends the span, per span",
        ("BatchSpanProcessor.on_end (enqueue)", timed_on_end(upstream), len(raw)),
        ("RetainingBatchSpanProcessor.on_end (encode, enqueue)", timed_on_end(ours), len(raw)),
        reps,
        ours.encodes_at_end,
    )
    upstream.shutdown()
    ours.shutdown()
    exporter.shutdown()
    return [export_thread, ending_thread]


LATE = {"http.route": "/chat", "http.response.status_code": 200, "chatbot.stream": False, "gen_ai.usage.cost": 1e-4}


def span_attributes(reps: int, scale: int) -> list[dict[str, Any]]:
    """A server span started with its 10 attributes and given 4 more at its end, public and plain, per span."""
    spans = 5_000 * scale
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))  # on_start does nothing
    tracer = provider.get_tracer("otel_chatbot", "0.1.0")
    start, set_late = compat.plain_span_starter(tracer), compat.span_attribute_setter()
    active = set_late is not compat._public_set_attributes

    def late(setter: Callable[[Any, Any], None]) -> Callable[[], None]:
        def run() -> None:
            for _ in range(spans):
                span = tracer.start_span("POST /chat", kind=SpanKind.SERVER)
                setter(span, LATE)

        return run

    def started(fast: bool) -> Callable[[], None]:
        def run() -> None:
            for _ in range(spans):
                if fast:
                    start("POST /chat", None, SpanKind.SERVER, ATTRIBUTES)
                else:
                    tracer.start_span("POST /chat", kind=SpanKind.SERVER, attributes=ATTRIBUTES)

        return run

    results = [
        compare(
            "late span attributes (4, one call), per span; a bare start_span included in both",
            ("Span.set_attributes", late(compat._public_set_attributes), spans),
            ("span_attribute_setter", late(set_late), spans),
            reps,
            active,
        ),
        compare(
            "span start with 10 attributes, per span",
            ("Tracer.start_span(attributes=...)", started(False), spans),
            ("plain_span_starter", started(True), spans),
            reps,
            active,
        ),
    ]
    provider.shutdown()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions per side (default 5)")
    parser.add_argument("--scale", type=int, default=1, help="multiply the work per repetition (default 1)")
    args = parser.parse_args()
    inside = "inside" if compat.sdk_in_tested_range() else "OUTSIDE"
    print(
        f"opentelemetry-sdk {compat.SDK_VERSION} ({inside} the tested range {compat.SDK_REQUIREMENT}), "
        f"Python {sys.version.split()[0]}; CPU µs per operation, median (min-max) of {args.reps} repetitions"
    )
    started = time.monotonic()
    spans = server_spans(2048)
    prebound(args.reps, args.scale)
    encoded_export(spans, args.reps)
    batch_processor(spans, args.reps)
    span_attributes(args.reps, args.scale)
    print(f"\n({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
