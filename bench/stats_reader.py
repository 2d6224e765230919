"""What the live stats view costs: per record on the request path, per collection, per ``/stats`` answer.

Run from the repository root (a few seconds)::

    .venv/bin/python bench/stats_reader.py

CPU time (``time.process_time``), median (min-max) over interleaved repetitions:

* **per record**: ``Bound.record`` (the distro's pre-bound path, as the server duration
  histogram uses it) into a histogram read by one exporting reader (explicit buckets, as the
  OTLP reader aggregates), then by the same reader plus the stats reader (an exponential
  histogram more per record: the only cost the live view adds to a request);
* **per collection**: ``StatsReader.sample()`` once a second over a realistic set of series
  (12 routes x 3 statuses, 4 models' GenAI metrics, streams, loop lag), process metrics not
  included (upstream's psutil reads, ~1.1 ms per collection, are measured in
  ``otel_chatbot/instrumentation/process_metrics.py``);
* **per /stats answer**: ``live_view()`` for a 60 s window over that ring (the HTTP thread's
  work for one poll of the page or ``top``), and the ring's memory once full.

bench/README.md keeps the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricReader

from bench.fast_paths import ATTRIBUTES  # the server duration histogram's attributes, as fast_paths records them
from otel_chatbot.instrumentation.prebound import Bound
from otel_chatbot.stats import names as n
from otel_chatbot.stats.endpoint import live_view
from otel_chatbot.stats.reader import StatsReader


def per_record(extra: list[MetricReader], records: int) -> float:
    """Seconds of CPU per ``Bound.record`` into a histogram read by an exporting reader and ``extra``."""
    provider = MeterProvider(metric_readers=[InMemoryMetricReader(), *extra])
    histogram = provider.get_meter("bench").create_histogram(
        n.HTTP_DURATION, unit="s", explicit_bucket_boundaries_advisory=[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]
    )
    bound = Bound(histogram, ATTRIBUTES)
    values = [0.001 * (1 + i % 900) for i in range(records)]
    bound.record(0.1)
    bound.record(0.1)  # bound now: the fast path
    started = time.process_time()
    for value in values:
        bound.record(value)
    took = time.process_time() - started
    provider.shutdown()
    return took / records


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def workload(provider: MeterProvider, second: int) -> None:
    meter = provider.get_meter("bench-workload")
    http = meter.create_histogram(n.HTTP_DURATION)
    genai = meter.create_histogram(n.GENAI_DURATION)
    tokens = meter.create_histogram(n.GENAI_TOKENS)
    ttft = meter.create_histogram(n.GENAI_TTFT)
    cost = meter.create_counter(n.GENAI_COST)
    streams = meter.create_histogram(n.STREAM_DURATION)
    lag = meter.create_histogram(n.LOOP_LAG)
    for route in range(12):
        for status in (200, 404, 500):
            for i in range(5):
                http.record(
                    0.01 * (1 + (i + second) % 50),
                    {**ATTRIBUTES, "http.route": f"/r{route}", "http.response.status_code": status},
                )
    for model in range(4):
        attrs = {n.PROVIDER: "aws.bedrock", n.REQUEST_MODEL: f"model-{model}", "gen_ai.operation.name": "chat"}
        for i in range(10):
            genai.record(0.2 + 0.05 * ((i + second) % 20), attrs)
            ttft.record(0.1 + 0.01 * i, attrs)
            for kind, amount in (("input", 300 + i), ("output", 120 + i)):
                tokens.record(amount, {**attrs, n.TOKEN_TYPE: kind})
                cost.add(amount * 1e-6, {**attrs, n.TOKEN_TYPE: kind})
    for outcome in ("completed", "cancelled"):
        streams.record(2.0 + second % 3, {n.STREAM_OUTCOME: outcome, "http.route": "/r0"})
    lag.record(0.001 + 0.0001 * (second % 7))


def collection_costs(seconds: int, *, traced: bool = False) -> tuple[list[float], list[float], int, int]:
    """(CPU per sample, CPU per 60 s view, series, bytes held) after ``seconds`` one-second samples.

    ``traced``: measure memory with tracemalloc (which slows everything: CPU figures come from
    an untraced run). The bytes are what the stats reader holds (ring and SDK aggregation state)
    beyond what the same provider holds without it.
    """
    clock = Clock()
    if traced:
        tracemalloc.start()
    reader = StatsReader(clock=clock)
    provider = MeterProvider(metric_readers=[reader])
    samples, views = [], []
    for second in range(seconds):
        workload(provider, second)
        clock.now = float(second)
        started = time.process_time()
        reader.sample()
        samples.append(time.process_time() - started)
        if second >= 60 and second % 10 == 0:
            started = time.process_time()
            live_view(reader, 60, {})
            views.append(time.process_time() - started)
    held = 0
    if traced:
        with_reader = tracemalloc.get_traced_memory()[0]
        provider.shutdown()
        tracemalloc.stop()
        tracemalloc.start()
        plain = MeterProvider(metric_readers=[InMemoryMetricReader()])
        for second in range(seconds):
            workload(plain, second)
        held = with_reader - tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        plain.shutdown()
    else:
        provider.shutdown()
    return samples, views, reader.series, held


def describe(values: list[float], unit: float = 1e6, label: str = "µs") -> str:
    scaled = [v * unit for v in values]
    return f"{statistics.median(scaled):.2f} {label} ({min(scaled):.2f}-{max(scaled):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=330, help="samples to take (the ring holds 301)")
    args = parser.parse_args(argv)

    runs: dict[str, list[float]] = {"exporting reader only": [], "plus the stats reader": []}
    factories: dict[str, Callable[[], list[MetricReader]]] = {
        "exporting reader only": list,
        "plus the stats reader": lambda: [StatsReader()],
    }
    for _ in range(args.reps):
        for label, extra in factories.items():
            runs[label].append(per_record(extra(), args.records))
    print("per record (Bound.record, 5 attributes):")
    for label, values in runs.items():
        print(f"  {label:24} {describe(values)}")
    added = statistics.median(runs["plus the stats reader"]) - statistics.median(runs["exporting reader only"])
    print(f"  the stats reader adds    {added * 1e6:.2f} µs per record")

    samples, views, series, _ = collection_costs(args.seconds)
    print(f"per collection ({series} series): {describe(samples, 1e3, 'ms')}")
    print(f"per /stats answer (60 s window and since start): {describe(views, 1e3, 'ms')}")
    held = collection_costs(args.seconds, traced=True)[3]
    print(f"memory held by the stats reader after {args.seconds} samples (ring full): {held / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
