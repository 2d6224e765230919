"""Drive the example chatbot with a short scripted conversation load.

``python -m otel_chatbot.demo.chatbot.load --url http://127.0.0.1:8000 --requests 60``

Real clients over loopback: ``httpx.AsyncClient`` for HTTP (an SSE stream is read to its
``done`` event, or closed after a few events by a user who leaves midway) and ``websockets``
for WebSocket conversations of a few turns. The load is bounded twice: by the number of
requests and by a deadline, after which the remaining steps are skipped and a step still in
flight is cut off and counted as ``timeout``. The result counts outcomes per route, lists
every outcome that differed from what the step expected, and tallies what the clients did
and saw (:class:`~otel_chatbot.demo.chatbot.tally.ClientTally`).

The demo's mix (:data:`~otel_chatbot.demo.chatbot.load_plan.DEMO_MIX`, run in-process by
``otel-chatbot demo``) also injects faults into the provider stand-ins before its failover
and exhausted turns (:class:`~otel_chatbot.demo.chatbot.load_faults.FaultTargets`), runs its
serial steps after the sessions, and sends users' feedback with the ``X-Trace-Id`` of the
session's last answer (a made-up one when the app runs without the distro).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from websockets.asyncio.client import connect as websocket_connect

from otel_chatbot.demo.chatbot.load_faults import FaultTargets
from otel_chatbot.demo.chatbot.load_plan import DEFAULT_MIX, EXHAUSTED, LEFT, WS_DONE, Mix, Step, plan, sentiment
from otel_chatbot.demo.chatbot.tally import ClientTally

REQUEST_TIMEOUT_S = 10.0
TIMEOUT = "timeout"
"""The outcome of a step the deadline cut off."""


class WebSocketLike(Protocol):
    async def send(self, message: str) -> None: ...
    async def recv(self) -> str | bytes: ...


WebSocketConnector = Callable[[str], AbstractAsyncContextManager[WebSocketLike]]


def _default_connector(url: str) -> AbstractAsyncContextManager[WebSocketLike]:
    return websocket_connect(url, proxy=None, open_timeout=REQUEST_TIMEOUT_S, close_timeout=2)


@dataclass
class LoadReport:
    """Outcome counts per route, plus what went differently from the plan."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    skipped: int = 0
    elapsed_s: float = 0.0
    clients: ClientTally = field(default_factory=ClientTally)

    def record(self, step: Step, outcome: str) -> None:
        self.counts.setdefault(step.kind.route, Counter())[outcome] += 1
        if outcome != step.expected:
            self.unexpected.append(f"{step.kind.method} {step.path}: expected {step.expected}, got {outcome}")

    @property
    def sent(self) -> int:
        return sum(sum(outcomes.values()) for outcomes in self.counts.values())

    @property
    def ok(self) -> bool:
        return not self.unexpected

    @property
    def cut_off(self) -> int:
        """Steps the deadline cut off midway (their clients' tallies are partial)."""
        return sum(outcomes[TIMEOUT] for outcomes in self.counts.values())

    def render(self) -> str:
        width = max((len(route) for route in self.counts), default=5)
        lines = [f"{'route':<{width}}  count  outcomes"]
        for route in sorted(self.counts):
            outcomes = self.counts[route]
            detail = " ".join(f"{name}x{n}" for name, n in sorted(outcomes.items()))
            lines.append(f"{route:<{width}}  {sum(outcomes.values()):>5}  {detail}")
        lines.append(
            f"sent {self.sent} requests in {self.elapsed_s:.1f}s, skipped {self.skipped}, "
            f"unexpected {len(self.unexpected)}"
        )
        lines.append(self.clients.render())
        lines += [f"  unexpected: {line}" for line in self.unexpected[:10]]
        return "\n".join(lines)


@dataclass
class _Session:
    """One conversation's client state: the trace id of the last answer it got, for its feedback."""

    trace_id: str | None = None

    def saw(self, response: httpx.Response) -> None:
        self.trace_id = response.headers.get("x-trace-id") or self.trace_id


async def _http_step(client: httpx.AsyncClient, step: Step, session: _Session, tally: ClientTally) -> str:
    body = step.body() if step.kind.method == "POST" else None
    # uvicorn drops the connection after an unhandled exception even though the 500 went out
    # as keep-alive; asking for close keeps the next request off that dying connection.
    headers = {"Connection": "close"} if step.expected == "500" else None
    response = await client.request(step.kind.method, step.path, json=body, headers=headers)
    session.saw(response)
    if step.kind.cache is not None and response.status_code == 200:
        answer = response.json()
        if isinstance(answer, dict) and "provider" in answer:
            tally.answers[str(answer["provider"])] += 1
            tally.cached += answer.get("cached") is True
    if step.kind.fault == EXHAUSTED and response.status_code == 429:
        tally.exhausted += 1
    return str(response.status_code)


async def _feedback_step(client: httpx.AsyncClient, step: Step, session: _Session, tally: ClientTally) -> str:
    """A user scores the session's last answer, by the ``X-Trace-Id`` it came with."""
    trace_id = session.trace_id or secrets.token_hex(16)  # without the distro there is none: feedback arrives anyway
    response = await client.post(step.path, json={"trace_id": trace_id, **step.body()})
    if response.status_code == 204 and step.feedback is not None:
        tally.feedback[sentiment(step.feedback[0])] += 1
        tally.feedback_linked += session.trace_id is not None
    return str(response.status_code)


async def _sse_step(client: httpx.AsyncClient, step: Step, session: _Session, tally: ClientTally) -> str:
    """Read the stream to its end, or (``leave_after_events``) close it after that many events."""
    leave_after = step.kind.leave_after_events
    async with client.stream("POST", step.path, json=step.body()) as response:
        session.saw(response)
        if response.status_code != 200:
            return str(response.status_code)
        last_event = ""
        events = 0
        try:
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    last_event = line
                elif not line:  # a blank line ends an event
                    events += 1
                    if leave_after is not None and events >= leave_after:
                        tally.streams_left += 1
                        return LEFT  # leaving the block closes the connection mid-answer
        except httpx.TransportError:
            tally.streams_broken += 1
            raise
    tally.streams_read += 1
    # A 200 stream that did not end with ``done`` broke in-band: count it apart.
    return "200" if last_event == "event: done" else "200-incomplete"


async def _ws_step(connect: WebSocketConnector, base_url: str, step: Step, tally: ClientTally) -> str:
    """A conversation: each turn one message, then frames up to the answer's last (``done``)."""
    url = "ws" + base_url.removeprefix("http") + step.path
    async with connect(url) as websocket:
        tally.websockets += 1
        for turn in range(step.kind.turns):
            await websocket.send(json.dumps(step.body(turn)))
            tally.ws_sent += 1
            frame = json.loads(await websocket.recv())
            tally.ws_received += 1
            tally.ws_turns += 1
            while frame.get("type") == "chunk":
                frame = json.loads(await websocket.recv())
                tally.ws_received += 1
            if frame.get("type") != WS_DONE:
                return str(frame.get("type"))
    return WS_DONE


@dataclass
class _Run:
    """What every session of one run shares."""

    client: httpx.AsyncClient
    connect: WebSocketConnector
    base_url: str
    report: LoadReport
    deadline: float
    stop: threading.Event
    faults: FaultTargets | None

    async def inject(self, step: Step) -> None:
        if step.kind.fault is None or self.faults is None:
            return
        for url, fault in self.faults.requests(step.kind.fault):
            (await self.client.post(url, json=fault)).raise_for_status()
        self.report.clients.faults[step.kind.fault] += 1

    async def step(self, step: Step, session: _Session) -> None:
        remaining = self.deadline - time.monotonic()
        tally = self.report.clients
        if step.kind.client == "ws":
            work = _ws_step(self.connect, self.base_url, step, tally)
        elif step.kind.client == "sse":
            work = _sse_step(self.client, step, session, tally)
        elif step.kind.client == "feedback":
            work = _feedback_step(self.client, step, session, tally)
        else:
            work = _http_step(self.client, step, session, tally)
        try:
            await self.inject(step)
            outcome = await asyncio.wait_for(work, timeout=remaining)
        except asyncio.TimeoutError:
            outcome = TIMEOUT
        except Exception as exc:  # transport, protocol or decoding trouble: count it, keep going
            outcome = f"error:{type(exc).__name__}"
        finally:
            work.close()  # never awaited when the injection failed
        self.report.record(step, outcome)

    async def steps(self, steps: Sequence[Step], sessions: dict[str, _Session]) -> None:
        for index, step in enumerate(steps):
            if self.deadline <= time.monotonic() or self.stop.is_set():
                self.report.skipped += len(steps) - index
                return
            await self.step(step, sessions.setdefault(step.session_id, _Session()))


async def run_load(
    base_url: str,
    *,
    requests: int = 60,
    sessions: int = 4,
    duration_s: float = 30.0,
    stop: threading.Event | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    connect: WebSocketConnector | None = None,
    prefix: str | None = None,
    mix: Mix = DEFAULT_MIX,
    faults: FaultTargets | None = None,
) -> LoadReport:
    """Run the plan against ``base_url``; ``stop`` (set from any thread) ends it early, gracefully.

    ``transport`` and ``connect`` replace the network clients (tests); by default they are real.
    ``faults`` says where to inject the faults of ``mix``'s failover and exhausted turns.
    """
    conversations = plan(requests, sessions, prefix or f"load-{secrets.token_hex(3)}", mix)
    if faults is None and any(step.kind.fault for steps in conversations for step in steps):
        raise ValueError(f"the {mix.name} mix injects faults: run_load(..., faults=FaultTargets(...))")
    report = LoadReport()
    started = time.monotonic()
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport, trust_env=False) as client:
        run = _Run(
            client,
            connect or _default_connector,
            base_url,
            report,
            started + duration_s,
            stop or threading.Event(),
            faults,
        )
        clients: dict[str, _Session] = {}
        together = [[step for step in steps if not step.kind.serial] for steps in conversations]
        await asyncio.gather(*(run.steps(steps, clients) for steps in together))
        # One at a time once the others are done: their faults must reach no other step.
        await run.steps([step for steps in conversations for step in steps if step.kind.serial], clients)
    report.elapsed_s = time.monotonic() - started
    return report


async def _wait_ready(base_url: str, timeout_s: float) -> None:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m otel_chatbot.demo.chatbot.load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of the chatbot")
    parser.add_argument("--requests", type=int, default=60, help="total requests (default 60)")
    parser.add_argument("--sessions", type=int, default=4, help="concurrent conversations (default 4)")
    parser.add_argument("--duration", type=float, default=30.0, help="stop after this many seconds (default 30)")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for /health first (default 10)")
    args = parser.parse_args(argv)

    async def go() -> LoadReport:
        await _wait_ready(args.url, args.wait)
        return await run_load(args.url, requests=args.requests, sessions=args.sessions, duration_s=args.duration)

    report = asyncio.run(go())
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
