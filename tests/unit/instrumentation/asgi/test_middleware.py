"""The lean ASGI middleware: one SERVER span and the HTTP metrics, per the conventions."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, WebSocket

from otel_chatbot.instrumentation.fastapi import uninstrument_app

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def build_app() -> FastAPI:
    app = FastAPI()

    @app.post("/chat/{session_id}")
    async def chat(session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"session": session_id, "echo": body.get("message")}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("app failure")

    @app.websocket("/ws/{session_id}")
    async def ws(websocket: WebSocket, session_id: str) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(f"{session_id}:{text}")
        await websocket.close()

    sub = FastAPI()

    @sub.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    app.mount("/v1", sub)
    router = APIRouter(prefix="/api")

    @router.get("/users/{user_id}")
    async def user(user_id: str) -> dict[str, str]:
        return {"user": user_id}

    app.include_router(router)
    return app


def call(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


@pytest.fixture
def instrumented(kit_factory: Any) -> tuple[Any, FastAPI]:
    kit = kit_factory()
    app = build_app()
    kit.instrumentations.instrument_app(app)
    return kit, app


def test_one_server_span_with_stable_http_attributes(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    response = call(app, "POST", "/chat/s-123?x=1", json={"message": "hi"}, headers={"user-agent": "tests/1"})
    assert response.status_code == 200
    spans = kit.finished()
    assert [s.name for s in spans] == ["POST /chat/{session_id}"]
    span = spans[0]
    assert span.kind.name == "SERVER"
    attrs = dict(span.attributes)
    assert attrs["http.request.method"] == "POST"
    assert attrs["url.path"] == "/chat/s-123"
    assert attrs["url.query"] == "x=1"
    assert attrs["url.scheme"] == "http"
    assert attrs["http.route"] == "/chat/{session_id}"
    assert attrs["http.response.status_code"] == 200
    assert attrs["user_agent.original"] == "tests/1"
    assert attrs["server.address"] == "testserver"
    assert attrs["server.port"] == 80
    assert attrs["client.address"] == "127.0.0.1"
    assert attrs["network.protocol.version"] == "1.1"
    assert "error.type" not in attrs


def test_duration_and_active_requests_metrics(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    for _ in range(3):
        call(app, "POST", "/chat/a", json={"message": "x"})
    points = kit.points("http.server.request.duration")
    assert len(points) == 1
    point = points[0]
    assert point.count == 3
    assert dict(point.attributes) == {
        "http.request.method": "POST",
        "url.scheme": "http",
        "http.route": "/chat/{session_id}",
        "http.response.status_code": 200,
        "network.protocol.version": "1.1",
    }
    assert list(point.explicit_bounds)[:3] == [0.005, 0.01, 0.025]
    active = kit.points("http.server.active_requests")
    assert [p.value for p in active] == [0]


def test_unmatched_route_never_puts_the_raw_path_in_metrics(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    for n in range(5):
        assert call(app, "GET", f"/no/such/{n}").status_code == 404
    spans = kit.finished()
    assert {s.name for s in spans} == {"GET"}
    point_attrs = [dict(p.attributes) for p in kit.points("http.server.request.duration")]
    assert point_attrs == [
        {
            "http.request.method": "GET",
            "url.scheme": "http",
            "http.response.status_code": 404,
            "network.protocol.version": "1.1",
        }
    ]


def test_mounted_app_and_prefixed_router_get_full_templates(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    assert call(app, "GET", "/v1/items/7").json() == {"item": 7}
    assert call(app, "GET", "/api/users/u1").json() == {"user": "u1"}
    assert [s.name for s in kit.finished()] == ["GET /v1/items/{item_id}", "GET /api/users/{user_id}"]


def test_app_exception_passes_through_and_is_recorded(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    with pytest.raises(RuntimeError, match="app failure"):
        call_raising(app)
    span = kit.finished()[0]
    assert span.name == "GET /boom"
    assert span.attributes["error.type"] == "RuntimeError"
    assert span.attributes["http.response.status_code"] == 500
    assert span.status.status_code.name == "ERROR"
    assert [e.name for e in span.events] == ["exception"]


def call_raising(app: Any) -> None:
    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await client.get("/boom")

    asyncio.run(go())


def test_excluded_urls_get_no_telemetry(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    assert call(app, "GET", "/health").status_code == 200
    assert kit.finished() == []
    assert kit.points("http.server.request.duration") == []


def test_incoming_traceparent_is_honoured_and_malformed_ignored(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    call(app, "POST", "/chat/a", json={}, headers={"traceparent": TRACEPARENT})
    call(app, "POST", "/chat/b", json={}, headers={"traceparent": "00-garbage-xx", "baggage": "%%%;;=="})
    honoured, malformed = kit.finished()
    assert f"{honoured.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{honoured.parent.span_id:016x}" == "b7ad6b7169203331"
    assert malformed.parent is None


def test_request_id_is_honoured_or_generated_and_returned(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    given = call(app, "POST", "/chat/a", json={}, headers={"x-request-id": "req-42"})
    generated = call(app, "POST", "/chat/a", json={}, headers={"x-request-id": "bad id with spaces"})
    assert given.headers["x-request-id"] == "req-42"
    assert len(generated.headers["x-request-id"]) == 32
    assert given.headers["x-response-time"].endswith("ms")
    first, second = kit.finished()
    assert given.headers["x-trace-id"] == f"{first.context.trace_id:032x}"
    assert first.attributes["http.request.header.x-request-id"] == ("req-42",)
    # A generated id is the trace id itself: the trace is found by it directly.
    assert generated.headers["x-request-id"] == f"{second.context.trace_id:032x}"
    assert "http.request.header.x-request-id" not in second.attributes


def test_response_headers_can_be_turned_off(kit_factory: Any) -> None:
    kit = kit_factory(response_headers="none", request_id_header="")
    app = build_app()
    kit.instrumentations.instrument_app(app)
    response = call(app, "POST", "/chat/a", json={})
    assert not {"x-request-id", "x-trace-id", "x-response-time"} & set(response.headers)


def test_websocket_gets_one_span_and_no_duration_point(instrumented: tuple[Any, FastAPI]) -> None:
    kit, app = instrumented
    assert websocket_exchange(app, "/ws/s1", "hello") == ["websocket.accept", "s1:hello", "websocket.close"]
    spans = kit.finished()
    assert [s.name for s in spans] == ["GET /ws/{session_id}"]
    attrs = dict(spans[0].attributes)
    assert attrs["network.protocol.name"] == "websocket"
    assert attrs["chatbot.websocket.messages.received"] == 1
    assert attrs["chatbot.websocket.messages.sent"] == 1
    assert kit.points("http.server.request.duration") == []


def test_instrumenting_twice_is_a_no_op_and_uninstrument_restores(kit_factory: Any) -> None:
    kit = kit_factory()
    app = build_app()
    kit.instrumentations.instrument_app(app)
    kit.instrumentations.instrument_app(app)
    call(app, "POST", "/chat/a", json={})
    assert len(kit.finished()) == 1
    uninstrument_app(app)
    call(app, "POST", "/chat/a", json={})
    assert len(kit.finished()) == 1


def websocket_exchange(app: Any, path: str, text: str) -> list[str]:
    """Drive one WebSocket session through the raw ASGI interface."""
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": text}]
    seen: list[str] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        seen.append(message.get("text") or message["type"])

    scope = {
        "type": "websocket",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "subprotocols": [],
        "asgi": {"version": "3.0"},
    }
    asyncio.run(app(scope, receive, send))
    return seen
