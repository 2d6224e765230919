"""CPU per OpenAI SDK call: bare, with our httpx2 GenAI recognition, and with upstream's openai-v2.

Run from the repository root (~1 min)::

    .venv/bin/python bench/genai_http_micro.py
    .venv/bin/python bench/genai_http_micro.py --calls 100 --rounds 5

The OpenAI stand-in runs in a child process (its CPU is not counted); the real ``openai``
SDK calls it over loopback. Each round runs one batch per variant, in turn, in this process:

* ``bare``: no instrumentation;
* ``ours``: the distro's httpx2 patch (one span per call, both the HTTP CLIENT span and the
  GenAI span, with the GenAI metrics), applied and reverted between batches;
* ``upstream``: ``opentelemetry-instrumentation-openai-v2`` (through
  ``opentelemetry-util-genai``) on the same kind of providers: its GenAI span and metrics,
  no HTTP span (upstream's httpx instrumentation does not see httpx2).

Spans go to a ``SimpleSpanProcessor`` whose exporter drops them; metrics to an in-memory
reader. CPU time (``process_time``) per call, minimum and median over rounds; "added" is the
variant minus bare. Also measured: a plain httpx request that is *not* a GenAI call (a POST to
another path, and a GET), with our patch with GenAI recognition off and on: the recognition's
cost for every other request.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import openai
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from otel_chatbot.config import load_settings
from otel_chatbot.pipelines import build_pipelines
from otel_chatbot.resource import build_resource
from otel_chatbot.testing.process import openai_process
from otel_chatbot.wiring import Instrumentations

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "tell me about otel please"}]


class _Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _ours(genai: bool) -> tuple[Instrumentations, Any]:
    settings = load_settings(
        {
            "traces_exporter": "none",
            "metrics_exporter": "none",
            "logs_exporter": "none",
            "disabled_instrumentations": "fastapi,botocore,logging" + ("" if genai else ",genai-http"),
        },
        environ={},
    )
    pipelines = build_pipelines(
        settings,
        build_resource(settings, environ={}),
        extra_span_processors=[SimpleSpanProcessor(_Drop())],
        extra_metric_readers=[InMemoryMetricReader()],
    )
    return Instrumentations(settings, pipelines, on_shutdown=pipelines.force_flush), pipelines


class Variant:
    """A way of running the calls, switched on and off around its batch."""

    def __init__(self, name: str, on: Callable[[], None], off: Callable[[], None]) -> None:
        self.name, self.on, self.off = name, on, off


def _variants_for_sdk() -> list[Variant]:
    ours, _ = _ours(genai=True)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(_Drop()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    upstream = OpenAIInstrumentor()

    def ours_on() -> None:
        ours.active = True
        ours.apply_libraries(patch_all_apps=False)

    def upstream_on() -> None:
        upstream.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)

    return [
        Variant("bare", lambda: None, lambda: None),
        Variant("ours", ours_on, ours.revert),
        Variant("upstream", upstream_on, upstream.uninstrument),
    ]


def _variants_for_other_calls() -> list[Variant]:
    off, _ = _ours(genai=False)
    on, _ = _ours(genai=True)

    def apply(instrumentations: Instrumentations) -> Callable[[], None]:
        def run() -> None:
            instrumentations.active = True
            instrumentations.apply_libraries(patch_all_apps=False)

        return run

    return [
        Variant("bare", lambda: None, lambda: None),
        Variant("ours, genai-http off", apply(off), off.revert),
        Variant("ours, genai-http on", apply(on), on.revert),
    ]


def _cpu_per_call(run: Callable[[], None], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        run()
    return (time.process_time() - started) / calls * 1e6


def _measure(variants: list[Variant], run: Callable[[], None], calls: int, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {v.name: [] for v in variants}
    for _ in range(rounds):
        for variant in variants:
            variant.on()
            try:
                run()  # warm: the first call after a switch pays for imports and caches
                times[variant.name].append(_cpu_per_call(run, calls))
            finally:
                variant.off()
    return times


def _report(title: str, times: dict[str, list[float]]) -> None:
    bare = times["bare"]
    print(f"  {title}")
    for name, values in times.items():
        added = "" if name == "bare" else f"   added {min(values) - min(bare):7.1f} (min)"
        print(f"    {name:<22} {min(values):8.1f} / {statistics.median(values):8.1f}{added}")


def _recognition_cost(repeat: int = 7, number: int = 5000) -> None:
    """The span path alone (start, respond, end; spans dropped) for calls that are not GenAI calls,
    without and with GenAI recognition: what recognition adds to every other request, in µs."""
    from otel_chatbot.instrumentation.http_client import ClientTelemetry

    instrumentations, pipelines = _ours(genai=True)
    genai = instrumentations._http_genai()
    p = pipelines
    without = ClientTelemetry("bench", p.tracer_provider, p.meter_provider, p.propagator)
    with_genai = ClientTelemetry("bench", p.tracer_provider, p.meter_provider, p.propagator, genai)
    headers = {"content-type": "application/json"}
    print("  span path alone, µs per request (min of repeats): without recognition / with / added")
    for label, method, url in (
        ("GET /v1/models", "GET", "http://127.0.0.1:9/v1/models"),
        ("POST /v1/files", "POST", "http://127.0.0.1:9/v1/files"),
        ("POST /api/orders", "POST", "http://127.0.0.1:9/api/orders"),
    ):
        results = []
        for telemetry in (without, with_genai):

            def once(telemetry: ClientTelemetry = telemetry, method: str = method, url: str = url) -> None:
                call = telemetry.start(method, url, {}, headers, lambda: b"{}")
                assert call is not None and call.respond(200, "1.1", {}) is None

            results.append(min(timeit.repeat(once, repeat=repeat, number=number)) / number * 1e6)
        print(f"    {label:<22} {results[0]:6.2f} / {results[1]:6.2f} / {results[1] - results[0]:+5.2f}")
    print("  the recognition itself (Endpoints.match), ns per request (min of repeats):")
    for method, url in (
        ("GET", "http://127.0.0.1:9/v1/models"),
        ("POST", "http://127.0.0.1:9/api/orders"),
        ("POST", "http://127.0.0.1:9/v1/chat/completions"),
    ):
        parts = urlsplit(url)
        n = 100_000
        match = functools.partial(genai.endpoints.match, method, url, parts, headers)
        best = min(timeit.repeat(match, number=n, repeat=repeat))
        print(f"    {method} {parts.path:<22} {best / n * 1e9:8.0f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="calls per batch")
    parser.add_argument("--rounds", type=int, default=5, help="batches per variant, taken in turn")
    args = parser.parse_args(argv)
    _recognition_cost()
    print(f"CPU µs per call (min / median over {args.rounds} rounds of {args.calls} calls)")
    with openai_process() as stand_in:
        base_url = f"{stand_in.url}/v1"
        client = openai.OpenAI(base_url=base_url, api_key="k", max_retries=0)

        def chat() -> None:
            client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]

        def streamed() -> None:
            stream = client.chat.completions.create(
                model=MODEL,
                messages=MESSAGES,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
            for _ in stream:
                pass

        sdk = _variants_for_sdk()
        _report("openai SDK, chat.completions.create", _measure(sdk, chat, args.calls, args.rounds))
        _report("openai SDK, streamed with usage", _measure(sdk, streamed, args.calls, args.rounds))
        with httpx.Client() as http:

            def other_post() -> None:
                http.post(f"{base_url}/files", json={"purpose": "x"})

            def other_get() -> None:
                http.get(f"{base_url}/models")

            others = _variants_for_other_calls()
            _report("httpx POST, not a GenAI call", _measure(others, other_post, args.calls, args.rounds))
            _report("httpx GET, not a GenAI call", _measure(others, other_get, args.calls, args.rounds))
        client.close()


if __name__ == "__main__":
    main()
