"""WebSocket connections: messages by direction, turn latency, connection duration with the close code."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from otel_chatbot.instrumentation.asgi.websocket_metrics import close_code
from tests.unit.instrumentation.asgi.asgi_exchange import WebSocketExchange

ROUTE = "/ws/chat/{session_id}"


def build_app(observed: list[dict[tuple[str, str], int]] | None = None, kit: Any = None) -> FastAPI:
    app = FastAPI()

    @app.websocket(ROUTE)
    async def chat(websocket: WebSocket, session_id: str) -> None:
        """Each message is a turn answered in two parts; ``bye`` closes with the app's code 4000."""
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                if text == "crash":
                    raise LookupError("the handler failed")
                if text == "bye":
                    await websocket.close(code=4000)
                    return
                if text == "peek" and kit is not None and observed is not None:
                    observed.append(messages_by_direction(kit))
                await asyncio.sleep(0.01)  # the model's first token
                await websocket.send_text(f"{text}: part 1")
                await websocket.send_text(f"{text}: part 2")
        except WebSocketDisconnect:
            return

    @app.websocket("/ws/refuse")
    async def refuse(websocket: WebSocket) -> None:
        await websocket.close(code=1008)

    return app


def messages_by_direction(kit: Any) -> dict[tuple[str, str], int]:
    return {
        (p.attributes.get("http.route", ""), p.attributes["chatbot.websocket.direction"]): p.value
        for p in kit.points("chatbot.websocket.messages")
    }


@pytest.fixture
def kit(kit_factory: Any) -> Any:
    return kit_factory()


@pytest.mark.parametrize(
    ("code", "from_client", "kept"),
    [
        (1000, True, 1000),
        (1001, True, 1001),
        (1005, True, 1005),
        (4321, True, 0),  # a client's own code: not a new series per value
        (4321, False, 4321),  # the app's own code is the app's vocabulary
        (None, False, 1006),
        ("1000", True, 0),
    ],
)
def test_close_codes_are_bounded(code: object, from_client: bool, kept: int) -> None:
    assert close_code(code, from_client) == kept


def test_a_chat_connection_counts_messages_turns_and_its_close(kit: Any) -> None:
    app = build_app()
    kit.instrumentations.instrument_app(app)
    exchange = WebSocketExchange(["hello", "again", "third"], client_close_code=1001)
    exchange.run(app, "/ws/chat/s1")
    sent = [m for m in exchange.sent if m["type"] == "websocket.send"]
    assert len(sent) == 6
    assert messages_by_direction(kit) == {(ROUTE, "received"): 3, (ROUTE, "sent"): 6}
    (turns,) = kit.points("chatbot.websocket.turn.time_to_first_message")
    assert turns.count == 3 and dict(turns.attributes) == {"http.route": ROUTE}
    assert turns.min >= 0.01  # each turn waited for the model's first token
    (duration,) = kit.points("chatbot.websocket.connection.duration")
    assert duration.count == 1
    assert dict(duration.attributes) == {"http.route": ROUTE, "chatbot.websocket.close_code": 1001}
    (span,) = kit.finished()
    assert span.attributes["chatbot.websocket.messages.received"] == 3
    assert span.attributes["chatbot.websocket.messages.sent"] == 6
    assert span.attributes["chatbot.websocket.close_code"] == 1001
    assert [p.value for p in kit.points("chatbot.websocket.active_connections")] == [0]


def test_messages_are_visible_while_the_connection_is_open(kit: Any) -> None:
    observed: list[dict[tuple[str, str], int]] = []
    app = build_app(observed, kit)
    kit.instrumentations.instrument_app(app)
    WebSocketExchange(["hello", "peek"]).run(app, "/ws/chat/s1")
    assert observed == [{(ROUTE, "received"): 2, (ROUTE, "sent"): 2}]


def test_the_app_closing_first_gives_its_code(kit: Any) -> None:
    app = build_app()
    kit.instrumentations.instrument_app(app)
    WebSocketExchange(["hello", "bye"], client_close_code=None).run(app, "/ws/chat/s2")
    (duration,) = kit.points("chatbot.websocket.connection.duration")
    assert duration.attributes["chatbot.websocket.close_code"] == 4000
    assert messages_by_direction(kit) == {(ROUTE, "received"): 2, (ROUTE, "sent"): 2}


def test_a_handler_that_raises_closes_with_1011_and_the_exception_passes(kit: Any) -> None:
    app = build_app()
    kit.instrumentations.instrument_app(app)
    with pytest.raises(LookupError):
        WebSocketExchange(["hello", "crash"], client_close_code=None).run(app, "/ws/chat/s3")
    (duration,) = kit.points("chatbot.websocket.connection.duration")
    assert duration.attributes["chatbot.websocket.close_code"] == 1011
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "LookupError"


def test_a_refused_handshake_is_no_connection(kit: Any) -> None:
    app = build_app()
    kit.instrumentations.instrument_app(app)
    WebSocketExchange([], client_close_code=None).run(app, "/ws/refuse")
    assert kit.points("chatbot.websocket.connection.duration") == []
    assert kit.points("chatbot.websocket.messages") == []
    (span,) = kit.finished()
    assert span.attributes["http.response.status_code"] == 403
    assert "chatbot.websocket.close_code" not in span.attributes


def test_two_messages_before_a_reply_make_one_turn_from_the_first(kit: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["route"] = type("Route", (), {"path": "/ws"})()
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await receive()
        await asyncio.sleep(0.03)
        await receive()
        await send({"type": "websocket.send", "text": "reply"})
        await send({"type": "websocket.send", "text": "more"})
        await send({"type": "websocket.close", "code": 1000})

    from otel_chatbot.instrumentation.asgi import TelemetryMiddleware
    from otel_chatbot.instrumentation.routes import RouteResolver

    wrapped = TelemetryMiddleware(app, kit.instrumentations.server, RouteResolver(None))
    WebSocketExchange(["one", "two"], client_close_code=None).run(wrapped, "/ws")
    (turns,) = kit.points("chatbot.websocket.turn.time_to_first_message")
    assert turns.count == 1 and turns.min >= 0.03
    assert messages_by_direction(kit) == {("/ws", "received"): 2, ("/ws", "sent"): 2}


def test_many_connections_count_exactly(kit: Any) -> None:
    app = build_app()
    kit.instrumentations.instrument_app(app)
    for index in range(4):
        WebSocketExchange(["x"] * index).run(app, f"/ws/chat/s{index}")
    assert messages_by_direction(kit) == {(ROUTE, "received"): 6, (ROUTE, "sent"): 12}
    (turns,) = kit.points("chatbot.websocket.turn.time_to_first_message")
    assert turns.count == 6
    (duration,) = kit.points("chatbot.websocket.connection.duration")
    assert duration.count == 4
