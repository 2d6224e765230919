"""Our lean middleware emits what upstream's instrumentations emit for the same requests.

Two references: opentelemetry-instrumentation-fastapi with the stable HTTP conventions
(``OTEL_SEMCONV_STABILITY_OPT_IN=http``), and FastAPI's own built-in telemetry. Span
names, kinds, attributes and the duration metric's points must match; the only
differences allowed are listed (our correlation attributes, and attributes upstream
emits that the convention makes opt-in).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

OURS_ONLY = {"http.request.header.x-request-id", "http.response.header.x-request-id"}
# Upstream records these although the HTTP server span convention makes them opt-in.
UPSTREAM_OPT_IN = {"client.port"}
REQUESTS = [
    ("POST", "/chat/s1?debug=1", {"message": "hi"}),
    ("POST", "/chat/s2", {"message": "hello"}),
    ("GET", "/missing/route/7", None),
    ("GET", "/boom", None),
]


def make_app(**kwargs: Any) -> FastAPI:
    app = FastAPI(**kwargs)

    @app.post("/chat/{session_id}")
    async def chat(session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"session": session_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


def drive(app: Any) -> None:
    async def go() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for method, path, body in REQUESTS:
                await client.request(method, path, json=body, headers={"user-agent": "eq/1"})

    asyncio.run(go())


def server_spans(exporter: InMemorySpanExporter) -> list[tuple[str, dict[str, Any], str]]:
    return [
        (s.name, dict(s.attributes or {}), s.status.status_code.name)
        for s in exporter.get_finished_spans()
        if s.kind.name == "SERVER"
    ]


def duration_points(reader: InMemoryMetricReader) -> dict[frozenset[tuple[str, Any]], tuple[int, tuple[float, ...]]]:
    data = reader.get_metrics_data()
    points: dict[frozenset[tuple[str, Any]], tuple[int, tuple[float, ...]]] = {}
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "http.server.request.duration":
                    assert metric.unit == "s"
                    for p in metric.data.data_points:
                        points[frozenset(p.attributes.items())] = (p.count, tuple(p.explicit_bounds))
    return points


def ours() -> tuple[list[Any], Any]:
    from tests.conftest import make_kit

    kit, pipelines = make_kit()
    app = make_app()
    kit.instrumentations.instrument_app(app)
    drive(app)
    spans = [(n, {k: v for k, v in a.items() if k not in OURS_ONLY}, st) for n, a, st in server_spans(kit.spans)]
    points = duration_points(kit.metrics)
    pipelines.shutdown()
    return spans, points


def reference_providers() -> tuple[TracerProvider, MeterProvider, InMemorySpanExporter, InMemoryMetricReader]:
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider, MeterProvider(metric_readers=[reader]), exporter, reader


def test_equivalent_to_fastapi_builtin_telemetry() -> None:
    tracer_provider, meter_provider, exporter, reader = reference_providers()
    app = make_app(
        telemetry={
            "tracer_provider": tracer_provider,
            "meter_provider": meter_provider,
            "logs": False,
            "operation_spans": False,
        }
    )
    drive(app)
    reference_spans = server_spans(exporter)
    reference_points = duration_points(reader)
    our_spans, our_points = ours()
    assert [name for name, _, _ in our_spans] == [name for name, _, _ in reference_spans]
    assert [status for _, _, status in our_spans] == [status for _, _, status in reference_spans]
    for (name, mine, _), (_, theirs, _) in zip(our_spans, reference_spans, strict=True):
        # FastAPI reports exceptions with their qualified module path; the convention allows either.
        theirs = {k: (v.rsplit(".", 1)[-1] if k == "error.type" else v) for k, v in theirs.items()}
        assert {k: mine.get(k) for k in theirs} == theirs, name
    assert {k: c for k, (c, _) in our_points.items()} == {
        frozenset((k, v.rsplit(".", 1)[-1] if k == "error.type" else v) for k, v in key): c
        for key, (c, _) in reference_points.items()
    }
    assert {b for _, b in our_points.values()} == {b for _, b in reference_points.values()}


def test_equivalent_to_upstream_fastapi_instrumentation(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.instrumentation import _semconv
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    monkeypatch.setattr(_semconv._OpenTelemetrySemanticConventionStability, "_initialized", False)
    tracer_provider, meter_provider, exporter, reader = reference_providers()
    app = make_app(telemetry={"tracing": False, "metrics": False, "logs": False})
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        drive(app)
    finally:
        FastAPIInstrumentor.uninstrument_app(app)
    reference_spans = server_spans(exporter)
    our_spans, our_points = ours()
    assert [name for name, _, _ in our_spans] == [name for name, _, _ in reference_spans]
    for (name, mine, _), (_, theirs, _) in zip(our_spans, reference_spans, strict=True):
        # Upstream renders ASGITransport's port-less server tuple as "testserver:None"; ours reads Host.
        theirs = {k: (v.removesuffix(":None") if k == "server.address" else v) for k, v in theirs.items()}
        if theirs.get("error.type", "").isdigit() and mine.get("error.type"):
            # A crashed request: upstream names the 500 it saw, we (and FastAPI) the exception
            # class that caused it; the convention allows both.
            theirs = {**theirs, "error.type": mine["error.type"]}
        shared = set(mine) & set(theirs)
        assert {k: mine[k] for k in shared} == {k: theirs[k] for k in shared}, name
        # Every attribute upstream records, we record too (upstream has no request id).
        assert set(theirs) - set(mine) - UPSTREAM_OPT_IN == set(), name
    reference_points = {
        frozenset((k, "RuntimeError" if k == "error.type" else v) for k, v in key): value
        for key, value in duration_points(reader).items()
    }
    assert {k: c for k, (c, _) in our_points.items()} == {k: c for k, (c, _) in reference_points.items()}
