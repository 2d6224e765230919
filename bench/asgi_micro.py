"""In-process cost of the ASGI middleware per request: the app driven directly, no server, no sockets.

    .venv/bin/python bench/asgi_micro.py [MODULE_OR_FILE ...]

Each argument names a module (or a .py file, e.g. an older copy of the middleware) that
exposes ``TelemetryMiddleware`` and ``ServerTelemetry``; the default is the package's own.
Four minimal apps — a JSON answer (one body message), a 4-message stream, a 40-message
stream and a WebSocket turn — are run 5,000 times per round, bare and wrapped, the
variants interleaved so each sees the same noise; the figure is the added CPU
(``process_time``, so the span processor's thread counts too) per request, median over
``ROUNDS`` (default 7) rounds. The two streams differ only in their chunk count, so their
difference over 36 is the added cost of one streamed chunk. Last, the cost of one tick of
the event-loop lag timer (``chatbot.asyncio.loop.lag``), which runs per interval, not per
request.
Spans go through the distro's pipeline to an exporter that drops them. A few seconds; a
comparison, not the overhead benchmark (``bench/overhead.py`` measures a real server).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_chatbot.config import load_settings
from otel_chatbot.instrumentation.routes import RouteResolver
from otel_chatbot.pipelines import build_pipelines
from otel_chatbot.resource import build_resource

N = 5000


class Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class Route:
    path = "/chat/{session_id}"


ROUTE = Route()
START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
BODY = {"type": "http.response.body", "body": b'{"ok":true}'}
CHUNK = {"type": "http.response.body", "body": b"data: x\n\n", "more_body": True}
REQUEST = {"type": "http.request", "body": b"{}", "more_body": False}
WS_IN = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "hi"}]
WS_OUT = [{"type": "websocket.accept"}, {"type": "websocket.send", "text": "hello"}, {"type": "websocket.close"}]


async def json_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    scope["route"] = ROUTE
    await send(START)
    await send(BODY)


async def stream_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    scope["route"] = ROUTE
    await send(START)
    for _ in range(3):
        await send(CHUNK)
    await send(BODY)


async def stream40_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    scope["route"] = ROUTE
    await send(START)
    for _ in range(39):
        await send(CHUNK)
    await send(BODY)


async def ws_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    scope["route"] = ROUTE
    await send(WS_OUT[0])
    await receive()
    await send(WS_OUT[1])
    await send(WS_OUT[2])


APPS = (("json", json_app), ("stream", stream_app), ("stream40", stream40_app), ("websocket", ws_app))


async def http_receive() -> Any:
    return REQUEST


def ws_receive() -> Any:
    pending = list(WS_IN)

    async def receive() -> Any:
        return pending.pop(0)

    return receive


async def send(message: Any) -> None:
    return None


def http_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/chat/s-1",
        "raw_path": b"/chat/s-1",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"bench/1"),
            (b"content-type", b"application/json"),
            (b"accept", b"*/*"),
            (b"content-length", b"2"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def ws_scope() -> dict[str, Any]:
    scope = http_scope()
    del scope["method"]
    scope.update(type="websocket", scheme="ws", subprotocols=[])
    return scope


async def cpu_per_request(target: Any, kind: str, n: int) -> float:
    t0 = time.process_time()
    if kind == "websocket":
        for _ in range(n):
            await target(ws_scope(), ws_receive(), send)
    else:
        for _ in range(n):
            await target(http_scope(), http_receive, send)
    return (time.process_time() - t0) / n


def load(name: str) -> Any:
    if not name.endswith(".py"):
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(f"variant_{abs(hash(name))}", name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(names: list[str]) -> None:
    names = names or ["otel_chatbot.instrumentation.asgi"]
    rounds = int(os.environ.get("ROUNDS", "7"))
    quiet = {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none"}
    settings = load_settings(quiet, environ={})
    pipelines = build_pipelines(settings, build_resource(settings, environ={}), extra_span_exporters=[Drop()])
    wrapped: dict[str, dict[str, Any]] = {}
    for name in names:
        module = load(name)
        server = module.ServerTelemetry(
            settings, pipelines.tracer_provider, pipelines.meter_provider, pipelines.propagator
        )
        wrapped[name] = {kind: module.TelemetryMiddleware(app, server, RouteResolver(None)) for kind, app in APPS}

    async def run() -> None:
        medians: dict[tuple[str, str], float] = {}
        for kind, app in APPS:
            for name in names:
                await cpu_per_request(wrapped[name][kind], kind, 2000)  # warm-up: bindings, caches
            bare, added = [], {name: [] for name in names}
            for _ in range(rounds):
                base = await cpu_per_request(app, kind, N)
                bare.append(base)
                for name in names:
                    added[name].append(await cpu_per_request(wrapped[name][kind], kind, N) - base)
            for name in names:
                medians[kind, name] = statistics.median(added[name])
                print(
                    f"{kind:9s} {name:44s} added {medians[kind, name] * 1e6:6.2f} us/request "
                    f"(min {min(added[name]) * 1e6:.2f}; bare app {statistics.median(bare) * 1e6:.2f} us)"
                )
        for name in names:
            per_chunk = (medians["stream40", name] - medians["stream", name]) / 36
            print(f"chunk     {name:44s} added {per_chunk * 1e6:6.2f} us per streamed chunk (stream40 - stream) / 36")
        tick = await loop_lag_tick_cost(pipelines.meter_provider)
        if tick is not None:
            print(f"loop lag  one timer tick (record + reschedule): {tick * 1e6:6.2f} us per interval")

    asyncio.run(run())
    pipelines.shutdown()


async def loop_lag_tick_cost(meter_provider: Any, n: int = 20_000) -> float | None:
    """CPU of one tick of the event-loop lag timer, run ``n`` times back to back on this loop."""
    try:
        from otel_chatbot.instrumentation.asgi.loop_lag import LoopLagMonitor
    except ImportError:  # a variant from before the monitor existed
        return None
    monitor = LoopLagMonitor(meter_provider.get_meter("bench"), interval_s=3600)
    monitor.start(asyncio.get_running_loop())
    for _ in range(1000):
        monitor._tick()  # warm-up: the binding's fast path
    t0 = time.process_time()
    for _ in range(n):
        monitor._tick()
    cost = (time.process_time() - t0) / n
    monitor.stop()
    return cost


if __name__ == "__main__":
    main(sys.argv[1:])
