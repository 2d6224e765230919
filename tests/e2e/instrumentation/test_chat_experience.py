"""What a chat user feels, measured at a real server: streams, clients that leave, WebSocket turns, the loop.

A FastAPI app under uvicorn (a thread, a loopback port), real clients (``httpx`` streaming
reads, the ``websockets`` client) and, for the relayed stream, boto3 against the local
Bedrock server. Every metric count must equal what the clients did, exactly.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from websockets.sync.client import connect as websocket_connect

from otel_chatbot.demo.servers import AppServer
from otel_chatbot.testing.bedrock import BedrockServer

pytestmark = pytest.mark.e2e

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
STREAM_ROUTE = "/chat/{session_id}/stream"
RELAY_ROUTE = "/relay/{session_id}"
WS_ROUTE = "/ws/chat/{session_id}"
CHUNKS = 6
PARTS_PER_TURN = 3


def wait_for(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def build_app(bedrock_url: str | None = None) -> FastAPI:
    app = FastAPI()

    @app.post(STREAM_ROUTE)
    async def stream(session_id: str, gap: float = 0.01) -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            for index in range(CHUNKS):
                if index:
                    await asyncio.sleep(gap)  # the model's pace
                yield f"event: delta\ndata: {json.dumps({'i': index, 'session': session_id})}\n\n".encode()

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.websocket(WS_ROUTE)
    async def chat(websocket: WebSocket, session_id: str) -> None:
        await websocket.accept()
        try:
            while True:
                question = await websocket.receive_text()
                await asyncio.sleep(0.005)  # the model's first token
                for part in range(PARTS_PER_TURN - 1):
                    await websocket.send_json({"type": "chunk", "text": f"{question} {part}"})
                await websocket.send_json({"type": "done"})
        except WebSocketDisconnect:
            return

    @app.get("/block")
    async def block(seconds: float) -> dict[str, float]:
        time.sleep(seconds)  # a blocking call in an async handler: the whole loop waits
        return {"blocked": seconds}

    if bedrock_url is not None:
        client = boto3.client(
            "bedrock-runtime",
            endpoint_url=bedrock_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )

        def deltas(stream: Any) -> Iterator[str]:
            """As the example app relays ConverseStream: closing this generator closes the Bedrock stream."""
            try:
                for event in stream:
                    text = event.get("contentBlockDelta", {}).get("delta", {}).get("text")
                    if text:
                        yield text
            finally:
                stream.close()

        @app.post(RELAY_ROUTE)
        async def relay(session_id: str) -> StreamingResponse:
            response = await run_in_threadpool(
                client.converse_stream,
                modelId=MODEL,
                messages=[{"role": "user", "content": [{"text": "tell me a long story"}]}],
                inferenceConfig={"maxTokens": 400},
            )

            async def events() -> AsyncIterator[str]:
                async for text in iterate_in_threadpool(deltas(response["stream"])):
                    yield f"data: {json.dumps({'text': text})}\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture
def served(kit_factory: Any, bedrock_server: BedrockServer) -> Iterator[tuple[Any, str]]:
    bedrock_server.reset()
    kit = kit_factory(loop_lag_interval_ms=20, gc_freeze=False)
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    app = build_app(bedrock_server.endpoint_url)
    kit.instrumentations.instrument_app(app)
    server = AppServer(app).start()
    try:
        yield kit, server.url
    finally:
        server.stop()


def read_events(response: httpx.Response, keep: int | None = None) -> tuple[int, int]:
    """(events, bytes) read from an SSE response; with ``keep``, stop after that many events."""
    received = b""
    for data in response.iter_raw():
        received += data
        if keep is not None and received.count(b"\n\n") >= keep:
            break
    return received.count(b"\n\n"), len(received)


def server_spans(kit: Any, route: str) -> list[Any]:
    return [s for s in kit.finished() if s.kind.name == "SERVER" and s.attributes.get("http.route") == route]


def points_by(kit: Any, metric: str, key: str) -> dict[Any, Any]:
    return {p.attributes.get(key): p for p in kit.points(metric)}


def test_streams_read_to_the_end_and_clients_that_leave_midway(served: tuple[Any, str]) -> None:
    kit, url = served
    completed, left = 5, 3
    events = size = 0
    with httpx.Client(base_url=url, timeout=10) as client:
        for index in range(completed):
            with client.stream("POST", f"/chat/c{index}/stream") as response:
                got, nbytes = read_events(response)
                assert got == CHUNKS
                events, size = events + got, size + nbytes
        for index in range(left):
            # The next chunk comes 0.5 s later: the server sees the client gone long before.
            with client.stream("POST", f"/chat/l{index}/stream", params={"gap": 0.5}) as response:
                got, nbytes = read_events(response, keep=2)
                assert got == 2
                events, size = events + got, size + nbytes
            # Leaving the block closes the connection: the body was not read to its end.
    wait_for(lambda: len(server_spans(kit, STREAM_ROUTE)) == completed + left, "every stream's server span")

    attributes = {"http.route": STREAM_ROUTE, "http.request.method": "POST"}
    outcomes = points_by(kit, "chatbot.stream.duration", "chatbot.stream.outcome")
    assert {outcome: p.count for outcome, p in outcomes.items()} == {"completed": completed, "cancelled": left}
    assert all(
        {k: v for k, v in p.attributes.items() if k != "chatbot.stream.outcome"} == attributes
        for p in outcomes.values()
    )
    (ttfb,) = kit.points("chatbot.stream.time_to_first_byte")
    (chunks,) = kit.points("chatbot.stream.chunks")
    (sizes,) = kit.points("chatbot.stream.size")
    assert ttfb.count == chunks.count == sizes.count == completed + left
    assert chunks.sum == events == completed * CHUNKS + left * 2
    assert sizes.sum == size
    assert outcomes["cancelled"].min >= 0  # ended when the client left, not after the 2.5 s the stream would take
    assert outcomes["cancelled"].max < 2.0
    spans = server_spans(kit, STREAM_ROUTE)
    assert (
        sorted(s.attributes["chatbot.stream.outcome"] for s in spans)
        == ["cancelled"] * left + ["completed"] * completed
    )
    assert sum(s.attributes["chatbot.stream.chunks"] for s in spans) == events
    assert sum(s.attributes["chatbot.stream.size"] for s in spans) == size
    assert all(s.status.status_code.name == "UNSET" for s in spans)
    requests = kit.points("http.server.request.duration")
    assert sum(p.count for p in requests) == completed + left  # every stream is also one request


def test_websocket_turns_count_what_the_clients_did(served: tuple[Any, str]) -> None:
    kit, url = served
    ws_url = url.replace("http://", "ws://")
    turns_by_connection = [3, 1, 4, 0]
    replies = 0
    for index, turns in enumerate(turns_by_connection):
        with websocket_connect(f"{ws_url}/ws/chat/s{index}", proxy=None, open_timeout=10) as websocket:
            for turn in range(turns):
                websocket.send(f"question {turn}")
                while True:
                    replies += 1
                    if json.loads(websocket.recv(timeout=10))["type"] == "done":
                        break
            if index == 1:
                websocket.close(code=1001)  # the browser tab went away
    sent_by_clients = sum(turns_by_connection)
    wait_for(lambda: len(server_spans(kit, WS_ROUTE)) == len(turns_by_connection), "every connection's span")

    messages = points_by(kit, "chatbot.websocket.messages", "chatbot.websocket.direction")
    assert messages["received"].value == sent_by_clients == 8
    assert messages["sent"].value == replies == sent_by_clients * PARTS_PER_TURN
    assert {p.attributes["http.route"] for p in messages.values()} == {WS_ROUTE}
    (turns,) = kit.points("chatbot.websocket.turn.time_to_first_message")
    assert turns.count == sent_by_clients
    assert turns.min >= 0.005
    closes = points_by(kit, "chatbot.websocket.connection.duration", "chatbot.websocket.close_code")
    assert {code: p.count for code, p in closes.items()} == {1000: 3, 1001: 1}
    assert [p.value for p in kit.points("chatbot.websocket.active_connections")] == [0]
    spans = server_spans(kit, WS_ROUTE)
    assert sum(s.attributes["chatbot.websocket.messages.received"] for s in spans) == sent_by_clients
    assert sum(s.attributes["chatbot.websocket.messages.sent"] for s in spans) == replies


def test_a_relayed_bedrock_stream_the_client_leaves_ends_both_spans_as_cancelled(
    served: tuple[Any, str], bedrock_server: BedrockServer
) -> None:
    kit, url = served
    # ConverseStream events 0.3 s apart: the client has left long before the model is done.
    bedrock_server.inject("slow", operation="ConverseStream", delay_s=0, chunk_delay_s=0.3)
    with (
        httpx.Client(base_url=url, timeout=10) as client,
        client.stream("POST", "/relay/s1") as response,
    ):
        got, _ = read_events(response, keep=1)
        assert got == 1

    def both_ended() -> bool:
        # Starlette leaves a stopped body iterator to the garbage collector: the relay's generator,
        # and the Bedrock stream its finally block closes, end when it is collected (a busy server
        # collects within milliseconds; this idle test process is told to). What else the collection
        # finds (a socket an earlier test in this process left to the collector) is not this test's.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        return bool(server_spans(kit, RELAY_ROUTE)) and bool(kit.finished(f"chat {MODEL}"))

    wait_for(both_ended, "the server span and the Bedrock span")
    (server,) = server_spans(kit, RELAY_ROUTE)
    (bedrock,) = kit.finished(f"chat {MODEL}")
    assert server.attributes["chatbot.stream.outcome"] == "cancelled"
    # The client read one event; a server that drops sends after a disconnect (ASGI spec 2.3, as
    # uvicorn's) may have been handed the next one before Starlette stopped the stream.
    assert server.attributes["chatbot.stream.chunks"] in (1, 2)
    assert bedrock.attributes["error.type"] == "cancelled"
    assert bedrock.parent is not None and bedrock.parent.span_id == server.context.span_id
    assert bedrock.context.trace_id == server.context.trace_id
    (outcome,) = kit.points("chatbot.stream.duration")
    assert outcome.attributes["chatbot.stream.outcome"] == "cancelled"


def test_a_handler_that_blocks_the_event_loop_shows_as_loop_lag(served: tuple[Any, str]) -> None:
    kit, url = served
    time.sleep(0.2)  # ~10 ticks of the 20 ms timer on uvicorn's loop, all on time
    (idle,) = kit.points("chatbot.asyncio.loop.lag")
    assert idle.count >= 5 and idle.max < 0.1
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/block", params={"seconds": 0.25}).status_code == 200
    time.sleep(0.1)
    (point,) = kit.points("chatbot.asyncio.loop.lag")
    assert point.max >= 0.2  # the tick due during the blocking call ran that late
    assert point.count > idle.count
