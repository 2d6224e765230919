"""Streamed HTTP responses: time to first byte, duration by outcome, chunks and bytes, on metrics and span."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from otel_chatbot.instrumentation.asgi.stream_metrics import StreamTally, stream_outcome
from tests.unit.instrumentation.asgi.asgi_exchange import HttpExchange

ROUTE = "/chat/{session_id}/stream"
STREAM_METRICS = (
    "chatbot.stream.time_to_first_byte",
    "chatbot.stream.duration",
    "chatbot.stream.chunks",
    "chatbot.stream.size",
)


def event(index: int) -> bytes:
    return f"data: chunk {index}\n\n".encode()


def build_app() -> FastAPI:
    app = FastAPI()

    @app.post(ROUTE)
    async def stream(session_id: str, n: int = 3, fail_at: int = -1) -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            for index in range(n):
                if index == fail_at:
                    raise LookupError("the model stream broke")
                yield event(index)
                await asyncio.sleep(0.01)  # a model's pace: the disconnect listener runs in between

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/chat/{session_id}")
    async def chat(session_id: str) -> dict[str, str]:
        return {"answer": "hello"}

    return app


async def ndjson_app(scope: Any, receive: Any, send: Any) -> None:
    """A raw ASGI stream that opens with an empty chunk (as some servers flush headers)."""
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/x-ndjson")]})
    await send({"type": "http.response.body", "body": b"", "more_body": True})
    for line in (b'{"a":1}\n', b'{"b":2}\n'):
        await send({"type": "http.response.body", "body": line, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


@pytest.fixture
def kit(kit_factory: Any) -> Any:
    return kit_factory()


def instrumented(kit: Any, app: Any) -> Any:
    kit.instrumentations.instrument_app(app)
    return app


def one_point(kit: Any, metric: str) -> Any:
    points = kit.points(metric)
    assert len(points) == 1, f"{metric}: {points}"
    return points[0]


@pytest.mark.parametrize(
    ("cancelled", "raised", "complete", "outcome"),
    [
        (False, False, True, "completed"),
        (False, False, False, "cancelled"),  # stopped without its final message: the client left
        (True, False, False, "cancelled"),
        (True, True, False, "cancelled"),  # the app's exception came from the failed send
        (False, True, False, "error"),
        (False, True, True, "error"),  # raised after the final message (a finally block): still the app's error
    ],
)
def test_outcome(cancelled: bool, raised: bool, complete: bool, outcome: str) -> None:
    tally = StreamTally()
    tally.cancelled, tally.complete = cancelled, complete
    assert stream_outcome(tally, raised) == outcome


def test_a_completed_stream_records_what_the_client_received(kit: Any) -> None:
    app = instrumented(kit, build_app())
    exchange = HttpExchange()
    exchange.run(app, "POST", "/chat/s1/stream")
    assert exchange.chunks == [event(0), event(1), event(2)]
    size = sum(map(len, exchange.chunks))
    attributes = {"http.route": ROUTE, "http.request.method": "POST"}
    ttfb = one_point(kit, "chatbot.stream.time_to_first_byte")
    assert dict(ttfb.attributes) == attributes and ttfb.count == 1
    duration = one_point(kit, "chatbot.stream.duration")
    assert dict(duration.attributes) == {**attributes, "chatbot.stream.outcome": "completed"}
    chunks, bytes_ = one_point(kit, "chatbot.stream.chunks"), one_point(kit, "chatbot.stream.size")
    assert (chunks.count, chunks.sum) == (1, 3)
    assert (bytes_.count, bytes_.sum) == (1, size)
    assert dict(chunks.attributes) == dict(bytes_.attributes) == attributes
    (span,) = kit.finished()
    assert span.attributes["chatbot.stream.outcome"] == "completed"
    assert span.attributes["chatbot.stream.chunks"] == 3
    assert span.attributes["chatbot.stream.size"] == size
    assert 0 < span.attributes["chatbot.stream.time_to_first_byte"] <= span.attributes["chatbot.stream.duration"]
    assert span.attributes["chatbot.stream.time_to_first_byte"] == pytest.approx(ttfb.sum)
    assert span.attributes["chatbot.stream.duration"] == pytest.approx(duration.sum)
    assert span.attributes["chatbot.stream.duration"] >= 0.02  # two model pauses before the end
    assert span.status.status_code.name == "UNSET"


def test_a_response_in_one_body_message_is_no_stream(kit: Any) -> None:
    app = instrumented(kit, build_app())
    exchange = HttpExchange()
    exchange.run(app, "POST", "/chat/s1")
    assert exchange.chunks == [b'{"answer":"hello"}']
    for metric in STREAM_METRICS:
        assert kit.points(metric) == []
    (span,) = kit.finished()
    assert not [key for key in span.attributes if key.startswith("chatbot.stream.")]
    (point,) = kit.points("http.server.request.duration")
    assert point.count == 1


def test_a_client_that_leaves_midway_cancels_the_stream(kit: Any) -> None:
    """Starlette sees http.disconnect and stops the body iterator: no final message."""
    app = instrumented(kit, build_app())
    exchange = HttpExchange(leave_after=2)
    exchange.run(app, "POST", "/chat/s1/stream?n=50")
    assert len(exchange.chunks) == 2
    assert exchange.sent[-1].get("more_body") is True  # the stream never finished
    duration = one_point(kit, "chatbot.stream.duration")
    assert duration.attributes["chatbot.stream.outcome"] == "cancelled"
    assert one_point(kit, "chatbot.stream.chunks").sum == 2
    assert one_point(kit, "chatbot.stream.size").sum == sum(map(len, exchange.chunks))
    (span,) = kit.finished()
    assert span.attributes["chatbot.stream.outcome"] == "cancelled"
    assert span.attributes["chatbot.stream.chunks"] == 2
    assert span.status.status_code.name == "UNSET"  # the client's choice, not a server error
    assert "error.type" not in span.attributes


@pytest.mark.parametrize(("spec_version", "raised"), [("2.3", OSError), ("2.4", ClientDisconnect)])
def test_a_send_that_fails_cancels_the_stream_and_the_apps_exception_passes(
    kit: Any, spec_version: str, raised: type[BaseException]
) -> None:
    app = instrumented(kit, build_app())
    exchange = HttpExchange(fail_send_at=3)
    with pytest.raises(raised):
        exchange.run(app, "POST", "/chat/s1/stream?n=10", spec_version=spec_version)
    assert len(exchange.chunks) == 2
    assert one_point(kit, "chatbot.stream.duration").attributes["chatbot.stream.outcome"] == "cancelled"
    assert one_point(kit, "chatbot.stream.chunks").sum == 2  # the failed one never reached the client
    (span,) = kit.finished()
    assert span.attributes["chatbot.stream.outcome"] == "cancelled"
    assert span.attributes["error.type"] == raised.__qualname__  # the app raised it: recorded as such


def test_an_app_that_raises_mid_stream_ends_it_as_an_error(kit: Any) -> None:
    app = instrumented(kit, build_app())
    exchange = HttpExchange()
    with pytest.raises(LookupError, match="model stream broke"):
        exchange.run(app, "POST", "/chat/s1/stream?n=5&fail_at=2")
    assert len(exchange.chunks) == 2
    assert one_point(kit, "chatbot.stream.duration").attributes["chatbot.stream.outcome"] == "error"
    (span,) = kit.finished()
    assert span.attributes["chatbot.stream.outcome"] == "error"
    assert span.attributes["error.type"] == "LookupError"
    assert span.attributes["http.response.status_code"] == 200  # sent before it broke


def test_a_cancelled_app_task_is_a_cancelled_stream(kit: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        raise asyncio.CancelledError

    telemetry_app = kit.instrumentations.server
    from otel_chatbot.instrumentation.asgi import TelemetryMiddleware
    from otel_chatbot.instrumentation.routes import RouteResolver

    wrapped = TelemetryMiddleware(app, telemetry_app, RouteResolver(None))
    with pytest.raises(asyncio.CancelledError):
        HttpExchange().run(wrapped, "GET", "/events")
    point = one_point(kit, "chatbot.stream.duration")
    assert point.attributes["chatbot.stream.outcome"] == "cancelled"
    assert "http.route" not in point.attributes  # no router ran: no template, never the raw path


def test_time_to_first_byte_waits_for_a_non_empty_chunk(kit: Any) -> None:
    from otel_chatbot.instrumentation.asgi import TelemetryMiddleware
    from otel_chatbot.instrumentation.routes import RouteResolver

    wrapped = TelemetryMiddleware(ndjson_app, kit.instrumentations.server, RouteResolver(None))
    exchange = HttpExchange()
    exchange.run(wrapped, "GET", "/export")
    assert one_point(kit, "chatbot.stream.chunks").sum == 2  # empty messages are not chunks
    assert one_point(kit, "chatbot.stream.size").sum == 16
    assert one_point(kit, "chatbot.stream.duration").attributes["chatbot.stream.outcome"] == "completed"
    assert one_point(kit, "chatbot.stream.time_to_first_byte").count == 1


def test_many_streams_count_exactly(kit: Any) -> None:
    app = instrumented(kit, build_app())
    for leave_after in (None, 1, None, 2, None):
        HttpExchange(leave_after=leave_after).run(app, "POST", "/chat/s1/stream?n=4")
    outcomes = {p.attributes["chatbot.stream.outcome"]: p.count for p in kit.points("chatbot.stream.duration")}
    assert outcomes == {"completed": 3, "cancelled": 2}
    assert one_point(kit, "chatbot.stream.chunks").sum == 3 * 4 + 1 + 2
    assert one_point(kit, "chatbot.stream.time_to_first_byte").count == 5
