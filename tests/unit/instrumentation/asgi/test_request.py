"""One finishing path for HTTP and WebSocket: route naming, status, error and the span's end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI, WebSocket

from otel_chatbot.instrumentation.asgi.request import _valid_request_id


def build_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    @app.websocket("/ws/{session_id}")
    async def ws(websocket: WebSocket, session_id: str) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        if text == "crash":
            raise LookupError("handler failed mid-conversation")
        await websocket.send_text(text)
        await websocket.close()

    @app.websocket("/refuse")
    async def refuse(websocket: WebSocket) -> None:
        await websocket.close(code=1008)

    return app


def drive(app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run one raw ASGI exchange; the messages the app sent."""
    sent: list[dict[str, Any]] = []
    disconnect = {"type": "websocket.disconnect", "code": 1000} if scope["type"] == "websocket" else None

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else (disconnect or {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    base = {"asgi": {"version": "3.0"}, "headers": [], "query_string": b"", "root_path": "", "client": None}
    asyncio.run(app({**base, **scope}, receive, send))
    return sent


def ws_scope(path: str) -> dict[str, Any]:
    return {"type": "websocket", "path": path, "raw_path": path.encode(), "scheme": "ws", "subprotocols": []}


@pytest.fixture
def instrumented(kit_factory: Any) -> tuple[Any, FastAPI]:
    kit = kit_factory(semconv_opt_in="http/dup")
    app = build_app()
    kit.instrumentations.instrument_app(app)
    return kit, app


def test_a_websocket_the_app_crashes_in_ends_as_an_error_and_the_exception_passes(
    instrumented: tuple[Any, FastAPI],
) -> None:
    kit, app = instrumented
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "crash"}]
    with pytest.raises(LookupError, match="mid-conversation"):
        drive(app, ws_scope("/ws/s9"), incoming)
    (span,) = kit.finished()
    assert span.name == "GET /ws/{session_id}"
    assert span.status.status_code.name == "ERROR"
    attrs = dict(span.attributes)
    assert attrs["error.type"] == "LookupError"
    assert attrs["http.response.status_code"] == 101  # accepted before it failed: not a 500
    assert attrs["chatbot.websocket.messages.received"] == 1
    assert attrs["chatbot.websocket.messages.sent"] == 0
    assert "http.status_code" not in attrs  # the old HTTP name stays an HTTP attribute
    assert [e.name for e in span.events] == ["exception"]
    assert [p.value for p in kit.points("chatbot.websocket.active_connections")] == [0]


def test_a_refused_handshake_is_a_403_without_error(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    sent = drive(app, ws_scope("/refuse"), [{"type": "websocket.connect"}])
    assert [m["type"] for m in sent] == ["websocket.close"]
    (span,) = kit.finished()
    assert span.name == "GET /refuse"
    assert span.attributes["http.response.status_code"] == 403
    assert "error.type" not in span.attributes
    assert span.status.status_code.name == "UNSET"


def test_http_gets_the_old_status_name_beside_the_stable_one_under_http_dup(
    instrumented: tuple[Any, FastAPI],
) -> None:
    kit, app = instrumented
    path = "/items/3"
    sent = drive(app, {"type": "http", "method": "GET", "path": path, "raw_path": path.encode()}, [])
    assert sent[0]["status"] == 200
    (span,) = kit.finished()
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["http.status_code"] == 200
    assert span.attributes["http.method"] == "GET"
    (point,) = kit.points("http.server.request.duration")
    assert point.count == 1 and point.attributes["http.route"] == "/items/{item_id}"


@pytest.mark.parametrize(
    ("value", "honoured"),
    [("req-42", True), ("a.b:c_d-1", True), ("", False), ("has space", False), ("x" * 129, False), ("é", False)],
)
def test_a_client_request_id_is_honoured_only_when_short_and_plain(value: str, honoured: bool) -> None:
    assert _valid_request_id(value) is honoured


@pytest.mark.parametrize("tracing", ["sdk", "no-op"])
def test_the_trace_id_header_is_the_generated_request_id_and_absent_without_a_trace(tracing: str) -> None:
    from opentelemetry.propagate import get_global_textmap
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import NoOpTracerProvider

    from otel_chatbot.config import load_settings
    from otel_chatbot.instrumentation.asgi.request import HttpRequest
    from otel_chatbot.instrumentation.asgi.server import ServerTelemetry
    from otel_chatbot.instrumentation.routes import RouteResolver

    settings = load_settings({"loop_lag_interval_ms": 0}, environ={})
    tracer_provider = TracerProvider() if tracing == "sdk" else NoOpTracerProvider()
    meter_provider = MeterProvider()
    t = ServerTelemetry(settings, tracer_provider, meter_provider, get_global_textmap())
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", b"example.com:8080")]}
    request = HttpRequest(scope, t, RouteResolver(build_app()))
    headers = dict(request._response_headers())
    trace_id = request.span.get_span_context().trace_id
    assert headers[b"x-request-id"] == f"{trace_id:032x}".encode()
    if tracing == "sdk":
        assert headers[b"x-trace-id"] == headers[b"x-request-id"]
    else:  # no trace to find: the request id is still returned, no trace id is
        assert b"x-trace-id" not in headers
    request.span.end()
    meter_provider.shutdown()
