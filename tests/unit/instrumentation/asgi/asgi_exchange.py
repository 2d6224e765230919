"""A scripted ASGI server side for one exchange: what it receives, when the client leaves, when a send fails."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HttpExchange:
    """One HTTP request as a server would run it, with the client leaving on cue.

    ``leave_after``: after this many non-empty body chunks the client disconnects (the
    next ``receive`` returns ``http.disconnect``); ``fail_send_at``: the send of that
    chunk (1-based) raises ``OSError``, as a server's write to a closed socket does.
    """

    body: bytes = b"{}"
    leave_after: int | None = None
    fail_send_at: int | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    _left: asyncio.Event | None = None
    _body_read: bool = False

    async def receive(self) -> dict[str, Any]:
        if not self._body_read:
            self._body_read = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        assert self._left is not None
        await self._left.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        body = message.get("body", b"") if message["type"] == "http.response.body" else b""
        if body and self.fail_send_at is not None and len(self.chunks) + 1 == self.fail_send_at:
            raise OSError("connection reset by peer")
        self.sent.append(message)
        if body:
            self.chunks.append(body)
            if self.leave_after is not None and len(self.chunks) >= self.leave_after:
                assert self._left is not None
                self._left.set()

    def run(self, app: Any, method: str, target: str, spec_version: str = "2.3") -> None:
        path, _, query = target.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": spec_version},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }

        async def go() -> None:
            self._left = asyncio.Event()
            await app(scope, self.receive, self.send)

        asyncio.run(go())


@dataclass
class WebSocketExchange:
    """One WebSocket connection: the client's messages, then its close (or none, if the app closes)."""

    incoming: list[str]
    client_close_code: int | None = 1000
    sent: list[dict[str, Any]] = field(default_factory=list)

    def run(self, app: Any, path: str) -> None:
        pending: list[dict[str, Any]] = [
            {"type": "websocket.connect"},
            *({"type": "websocket.receive", "text": text} for text in self.incoming),
        ]
        if self.client_close_code is not None:
            pending.append({"type": "websocket.disconnect", "code": self.client_close_code})
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "subprotocols": [],
        }

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop(0)
            await asyncio.Event().wait()  # the client says nothing more
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            self.sent.append(message)

        asyncio.run(app(scope, receive, send))
