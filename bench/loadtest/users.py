"""Locust users for the example chatbot's three chat surfaces, and the scenarios built from them.

Importing this module imports Locust, which monkey-patches the process with gevent: import it
first thing in a process that will run load, never in a test process (tests run ``run`` in a
subprocess).

* ``RestChatUser``  -- ``POST /chat/{session_id}``, Locust's fast HTTP client, a reply is
  checked for a non-empty ``reply``;
* ``SseChatUser``   -- ``POST /chat/{session_id}/stream``, the body read line by line: the
  request's time is the whole stream up to its ``done`` event, and the time to the first
  event rides along in the request context (``first_event_ms``);
* ``WsChatUser``    -- ``WS /ws/chat/{session_id}``, one connection per conversation: each
  message sent until its ``done`` frame is one request (first ``chunk`` as
  ``first_event_ms``), the handshake is a request of its own.

All three fire Locust request events, so every request lands in Locust's stats and in the
``Recorder``. Each user holds a conversation for ``TURNS_PER_SESSION`` turns (the app keeps
history per session, so context grows as in real use) and then starts a new one.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from typing import Any

import locust
import websocket
from locust import FastHttpUser, User, constant, task

from bench.loadtest.recorder import FIRST_EVENT
from bench.loadtest.sse import SseParser

LOCUST_VERSION = locust.__version__

TURNS_PER_SESSION = 10
NETWORK_TIMEOUT_S = 30.0
MESSAGE = "Hello! In two sentences, what can you help me with today?"

CHAT = "/chat/{session_id}"
STREAM = "/chat/{session_id}/stream"
WS_CHAT = "/ws/chat/{session_id}"
WS_CONNECT = "connect /ws/chat/{session_id}"


class _Conversation:
    """A session id that changes every ``TURNS_PER_SESSION`` turns."""

    def __init__(self, message: str) -> None:
        self.message = message
        self._session = ""
        self._turns = TURNS_PER_SESSION

    def session(self) -> tuple[str, bool]:
        """The session id for the next turn, and whether it is a new conversation."""
        new = self._turns >= TURNS_PER_SESSION
        if new:
            self._session = f"lt-{secrets.token_hex(6)}"
            self._turns = 0
        self._turns += 1
        return self._session, new


def _http_failure(response: Any) -> str | Exception:
    """What a non-200 answer is recorded as: ``HTTP 429 ThrottlingException`` (the app's error
    code when it sent one), or the connection error itself when there was no answer at all."""
    error = getattr(response, "error", None)
    if response.status_code == 0 and isinstance(error, Exception):
        return error
    code = ""
    try:
        parsed = json.loads(response.content or b"")
        if isinstance(parsed, dict):
            code = str(parsed.get("error") or parsed.get("detail") or "")[:80]
    except ValueError:
        pass
    return f"HTTP {response.status_code} {code}".strip()


class _PooledHttpUser(FastHttpUser):
    """Closes its connection pool when stopped: levels run back to back in one process."""

    abstract = True
    wait_time = constant(0)
    message = MESSAGE
    network_timeout = NETWORK_TIMEOUT_S
    connection_timeout = NETWORK_TIMEOUT_S

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.conversation = _Conversation(self.message)

    def on_stop(self) -> None:
        self.client.client.close()


class RestChatUser(_PooledHttpUser):
    """One Converse turn per request, as a non-streaming chat client does."""

    @task
    def chat(self) -> None:
        session, _ = self.conversation.session()
        with self.client.post(
            f"/chat/{session}", json={"message": self.conversation.message}, name=CHAT, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(_http_failure(response))
                return
            try:
                reply = response.json().get("reply")
            except ValueError:
                reply = None
            if not isinstance(reply, str) or not reply:
                response.failure("200 without a reply")
            else:
                response.success()


class SseChatUser(_PooledHttpUser):
    """A ConverseStream turn as server-sent events, timed to the first event and to ``done``."""

    @task
    def stream(self) -> None:
        session, _ = self.conversation.session()
        started = time.perf_counter()
        with self.client.post(
            f"/chat/{session}/stream",
            json={"message": self.conversation.message},
            headers={"Accept": "text/event-stream"},
            name=STREAM,
            stream=True,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(_http_failure(response))
                return
            first_ms, length, error = _read_events(response, started)
            meta: dict[str, Any] = response.request_meta
            # The client stamped the time to the headers; the request is the whole stream.
            meta["response_time"] = (time.perf_counter() - started) * 1000.0
            meta["response_length"] = length
            meta["context"] = {**meta.get("context", {}), FIRST_EVENT: first_ms}
            if error:
                response.failure(error)
            else:
                response.success()


def _read_events(response: Any, started: float) -> tuple[float | None, int, str | None]:
    """Read the SSE body to its end; (ms to first event, bytes, failure or ``None``).

    ``readline`` on geventhttpclient's response returns as soon as a line is buffered, where
    ``read(n)``/``iter_content`` wait for ``n`` bytes and would delay the first event.
    """
    raw = response._response  # geventhttpclient's HTTPSocketPoolResponse
    parser = SseParser()
    first_ms: float | None = None
    length = 0
    while True:
        line = raw.readline(b"\n")
        if not line:
            return first_ms, length, "stream ended without a done event"
        length += len(line)
        event = parser.feed(line.decode("utf-8", errors="replace"))
        if event is None:
            continue
        if first_ms is None:
            first_ms = (time.perf_counter() - started) * 1000.0
        if event.event == "done":
            _drain(raw)
            return first_ms, length, None
        if event.event == "error":
            _drain(raw)
            return first_ms, length, f"error event {_error_code(event.data)}"


def _drain(raw: Any) -> None:
    """Read to the end of the chunked body, so the connection goes back to the pool."""
    while raw.readline(b"\n"):
        pass


def _error_code(data: str) -> str:
    try:
        parsed = json.loads(data)
    except ValueError:
        return data[:80]
    return str(parsed.get("error", "")) if isinstance(parsed, dict) else data[:80]


class WsChatUser(User):
    """A WebSocket chat client: one connection per conversation, one request per message."""

    wait_time = constant(0)
    message = MESSAGE

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.conversation = _Conversation(self.message)
        self._ws: websocket.WebSocket | None = None

    def on_stop(self) -> None:
        self._close()

    def _close(self) -> None:
        """Send a close frame and drop the socket, without waiting for the server's reply.

        Not ``WebSocket.close()``: it waits for the reply inside a bare ``except``, which
        swallows gevent's ``GreenletExit``; a user killed there at the end of a level would
        carry on chatting, and Locust's stop would wait for it forever.
        """
        if self._ws is None:
            return
        ws, self._ws = self._ws, None
        with contextlib.suppress(OSError, websocket.WebSocketException):
            ws.send_close()
        ws.shutdown()  # type: ignore[no-untyped-call]

    def _fire(self, name: str, started: float, length: int, error: str | None, first_ms: float | None = None) -> None:
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000.0,
            response_length=length,
            exception=error,  # Locust's stats take a message as well as an exception
            context={FIRST_EVENT: first_ms} if first_ms is not None else {},
        )

    def _url(self, session: str) -> str:
        base = (self.host or "").rstrip("/")
        scheme = "wss://" if base.startswith("https://") else "ws://"
        return scheme + base.split("://", 1)[-1] + f"/ws/chat/{session}"

    @task
    def chat(self) -> None:
        session, new = self.conversation.session()
        if new or self._ws is None:
            self._close()
            started = time.perf_counter()
            try:
                self._ws = websocket.create_connection(self._url(session), timeout=NETWORK_TIMEOUT_S)
            except (OSError, websocket.WebSocketException) as exc:
                self._fire(WS_CONNECT, started, 0, f"{type(exc).__name__}: {exc}")
                self.conversation = _Conversation(self.message)  # next turn reconnects with a fresh session
                return
            self._fire(WS_CONNECT, started, 0, None)
        assert self._ws is not None
        started = time.perf_counter()
        try:
            first_ms, length, error = _ws_turn(self._ws, self.conversation.message, started)
        except (OSError, websocket.WebSocketException, ValueError) as exc:
            first_ms, length, error = None, 0, f"{type(exc).__name__}: {exc}"
            self._close()
        self._fire(WS_CHAT, started, length, error, first_ms)


def _ws_turn(ws: websocket.WebSocket, message: str, started: float) -> tuple[float | None, int, str | None]:
    """Send one message, read ``chunk`` frames to ``done``; (ms to first chunk, bytes, failure)."""
    ws.send(json.dumps({"message": message}))
    first_ms: float | None = None
    length = 0
    while True:
        frame = ws.recv()
        length += len(frame)
        parsed = json.loads(frame)
        kind = parsed.get("type") if isinstance(parsed, dict) else None
        if kind == "chunk":
            if first_ms is None:
                first_ms = (time.perf_counter() - started) * 1000.0
        elif kind == "done":
            return first_ms, length, None
        elif kind == "error":
            return first_ms, length, f"error frame {parsed.get('error', '')}"
        else:
            return first_ms, length, f"unexpected frame {str(frame)[:80]}"


SCENARIOS: dict[str, tuple[type[User], ...]] = {
    "rest": (RestChatUser,),
    "sse": (SseChatUser,),
    "ws": (WsChatUser,),
    "mixed": (RestChatUser, SseChatUser, WsChatUser),
}
"""Scenario name -> user classes (``mixed`` spreads users evenly over the three surfaces)."""


def user_classes(scenario: str, message: str, think_time_s: float) -> list[type[User]]:
    """Fresh subclasses per run, so settings never leak between levels or runs."""
    settings = {"message": message, "wait_time": constant(think_time_s)}
    return [type(base.__name__, (base,), dict(settings)) for base in SCENARIOS[scenario]]
