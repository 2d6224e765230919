"""The load runner's counting, with the network replaced: httpx.MockTransport and a fake WebSocket."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from otel_chatbot.demo.chatbot.load import LoadReport, WebSocketLike, run_load
from otel_chatbot.demo.chatbot.load_plan import KINDS, LEAVE_AFTER_EVENTS, Step
from otel_chatbot.demo.chatbot.tally import ClientTally

SSE_DONE = b'data: {"text":"Hi"}\n\nevent: done\ndata: {}\n\n'


def behaving_app(request: httpx.Request) -> httpx.Response:
    """Answers every step the way the real app does when all is well."""
    path = request.url.path
    if path.startswith("/no-such-route"):
        return httpx.Response(404)
    if path.endswith("/fail"):
        return httpx.Response(500)
    if path.endswith("/stream"):
        return httpx.Response(200, content=SSE_DONE, headers={"content-type": "text/event-stream"})
    if request.method == "POST" and path.startswith("/chat/"):
        body = json.loads(request.content)
        if not body["message"]:
            return httpx.Response(422)
        if body.get("model"):
            return httpx.Response(400)
    if path.endswith("/history"):
        return httpx.Response(200, json={"turns": []})
    return httpx.Response(200, json={})


class FakeWebSocket:
    """Answers every message it is sent with ``frames``."""

    def __init__(self, frames: list[dict[str, str]]) -> None:
        self.frames = [json.dumps(frame) for frame in frames]
        self.sent: list[str] = []
        self.pending: list[str] = []

    async def send(self, message: str) -> None:
        self.sent.append(message)
        self.pending += self.frames

    async def recv(self) -> str:
        return self.pending.pop(0)


def fake_connector(frames: list[dict[str, str]], urls: list[str]):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def connect(url: str) -> AsyncIterator[WebSocketLike]:
        urls.append(url)
        yield FakeWebSocket(list(frames))

    return connect


def run(requests: int, handler=behaving_app, frames=None, **kwargs) -> tuple[LoadReport, list[str]]:  # type: ignore[no-untyped-def]
    urls: list[str] = []
    connect = fake_connector(frames or [{"type": "chunk"}, {"type": "done"}], urls)
    report = asyncio.run(
        run_load(
            "http://app.test",
            requests=requests,
            sessions=4,
            transport=httpx.MockTransport(handler),
            connect=connect,
            prefix="t",
            **kwargs,
        )
    )
    return report, urls


def test_every_step_is_counted_under_its_route() -> None:
    report, urls = run(40)
    assert report.ok, report.unexpected
    assert report.sent == 40 and report.skipped == 0
    assert report.counts["POST /chat/{session_id}"] == {"200": 9, "422": 1, "400": 1}
    assert report.counts["POST /chat/{session_id}/stream"] == {"200": 6, "left": 3}
    assert report.counts["WS /ws/chat/{session_id}"] == {"done": 6}
    assert report.counts["POST /chat/{session_id}/fail"] == {"500": 1}
    assert report.counts["GET /no-such-route"] == {"404": 1}
    assert sum(report.counts["GET /sessions/{session_id}/history"].values()) == 3
    assert all(url.startswith("ws://app.test/ws/chat/t-") for url in urls)
    assert "sent 40 requests" in report.render()


def test_the_clients_tally_streams_and_websocket_conversations() -> None:
    report, _ = run(40)
    assert report.clients == ClientTally(
        streams_read=6, streams_left=3, websockets=6, ws_sent=12, ws_received=24, ws_turns=12
    )
    assert "left 3 midway" in report.render()


def test_a_leaving_client_closes_the_stream_after_its_events() -> None:
    """Over a real socket the close is what the server sees; here: the stream is not read further."""
    reads: list[int] = []

    class CountingStream(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for index in range(10):
                reads.append(index)
                yield b'data: {"text":"w"}\n\n'
            yield b"event: done\ndata: {}\n\n"

    def streaming(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stream"):
            return httpx.Response(200, stream=CountingStream(), headers={"content-type": "text/event-stream"})
        return behaving_app(request)

    report, _ = run(10, handler=streaming)
    assert report.counts["POST /chat/{session_id}/stream"] == {"200": 1, "left": 1}
    # One stream read all 10 events; the one left after LEAVE_AFTER_EVENTS pulled no more than that.
    assert len(reads) == 10 + LEAVE_AFTER_EVENTS


def test_outcomes_that_differ_from_the_plan_are_listed() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stream"):
            return httpx.Response(200, content=b'data: {"text":"Hi"}\n\nevent: error\ndata: {}\n\n')
        if request.url.path == "/health":
            raise httpx.ConnectError("refused", request=request)
        return behaving_app(request)

    report, _ = run(10, handler=broken, frames=[{"type": "error"}])
    assert not report.ok
    assert report.counts["POST /chat/{session_id}/stream"] == {"200-incomplete": 1, "left": 1}
    assert report.counts["GET /health"] == {"error:ConnectError": 1}
    assert report.counts["WS /ws/chat/{session_id}"] == {"error": 1}
    assert report.clients.ws_turns == 1  # the conversation stopped at its first failed turn
    assert len(report.unexpected) == 3
    assert any("expected done, got error" in line for line in report.unexpected)
    assert "unexpected: " in report.render()


def test_a_stop_request_skips_what_is_left() -> None:
    stop = threading.Event()
    stop.set()
    report, _ = run(30, stop=stop)
    assert report.sent == 0 and report.skipped == 30
    assert report.ok


def test_the_deadline_cuts_a_hanging_step_and_skips_the_rest() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200)

    class Hanging(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return await hang(request)

    report = asyncio.run(
        run_load(
            "http://app.test",
            requests=8,
            sessions=2,
            duration_s=0.2,
            transport=Hanging(),
            connect=fake_connector([{"type": "done"}], []),
            prefix="t",
        )
    )
    assert report.counts["POST /chat/{session_id}"] == {"timeout": 1}
    assert report.cut_off == 2  # the other session's step too
    assert report.skipped == 8 - report.sent
    assert report.elapsed_s < 5


def test_record_keeps_route_labels_not_paths() -> None:
    report = LoadReport()
    step = Step(KINDS["chat"], "abc", 0, "200")
    report.record(step, "200")
    report.record(step, "502")
    assert report.counts == {"POST /chat/{session_id}": {"200": 1, "502": 1}}
    assert report.unexpected == ["POST /chat/abc: expected 200, got 502"]


class DemoApp:
    """Answers the demo mix as the real app and stand-ins would: faults injected on cue change the next turn."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.pending: list[str] = []
        self.feedback: list[dict[str, object]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/__control/faults":
            self.pending.append(json.loads(request.content)["fault"])
            self.log.append(f"{request.url.host} {self.pending[-1]}")
            return httpx.Response(200, json={})
        if path == "/feedback":
            self.feedback.append(json.loads(request.content))
            return httpx.Response(204)
        if (
            request.method == "POST"
            and path.startswith(("/chat/", "/v1/chat/"))
            and not path.endswith(("/fail", "/stream"))
        ):
            body = json.loads(request.content)
            if body["message"] and not body.get("model") and not body.get("provider"):
                self.log.append("default turn")
                provider = "bedrock"
                if "rate_limit" in self.pending:
                    self.pending.clear()
                    return httpx.Response(429, json={"error": "RateLimitError"})
                if self.pending:
                    self.pending.pop(0)
                    provider = "openai"
                cached = body["message"].startswith("Sorry")
                trace = {"x-trace-id": "ab" * 16}
                return httpx.Response(200, json={"provider": provider, "cached": cached}, headers=trace)
        return behaving_app(request)


def test_the_demo_mix_injects_its_faults_runs_exhausted_turns_last_and_sends_feedback() -> None:
    from otel_chatbot.demo.chatbot.load_faults import FaultTargets
    from otel_chatbot.demo.chatbot.load_plan import DEMO_MIX, counts, expected, plan

    app = DemoApp()
    targets = FaultTargets("http://bedrock.test", "model-a", "http://openai.test", "model-b", 3)
    report, _ = run(60, handler=app, mix=DEMO_MIX, faults=targets)
    assert report.ok, report.unexpected
    planned, will = counts(60, DEMO_MIX), expected(plan(60, 4, "t", DEMO_MIX))
    tally = report.clients
    assert tally.faults == {"failover": planned["failover_chat"], "exhausted": planned["exhausted"]}
    assert tally.exhausted == planned["exhausted"] == 1
    assert tally.answers["openai"] == will.failovers and tally.cached == will.hits
    assert tally.feedback == will.feedback and tally.feedback_linked == planned["feedback"]
    assert {entry["trace_id"] for entry in app.feedback} == {"ab" * 16}
    # The exhausted turn comes after everything else, right after its two faults.
    assert app.log[-3:] == ["bedrock.test throttle", "openai.test rate_limit", "default turn"]
    assert "injected faults for 4 failover and 1 exhausted turns (1 got 429)" in report.render()


def test_a_mix_with_faults_needs_their_targets() -> None:
    import pytest

    from otel_chatbot.demo.chatbot.load_plan import DEMO_MIX

    with pytest.raises(ValueError, match="FaultTargets"):
        run(60, mix=DEMO_MIX)


def test_fault_requests_aim_at_the_models_and_calls() -> None:
    from otel_chatbot.demo.chatbot.load_faults import FaultTargets

    targets = FaultTargets("http://b/", "model-a", "http://o", "model-b", 3)
    throttle = (
        "http://b/__control/faults",
        {"fault": "throttle", "count": 1, "operation": "Converse", "model": "model-a"},
    )
    assert targets.requests("failover") == [throttle]
    (_, rate_limit) = targets.requests("exhausted")[1]
    assert (
        rate_limit["count"] == 3 and rate_limit["model"] == "model-b" and rate_limit["path"] == "/v1/chat/completions"
    )
