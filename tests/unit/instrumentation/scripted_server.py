"""A real HTTP/1.1 server on 127.0.0.1, in this process, that answers POSTs with scripted replies.

For the fast tests of GenAI recognition in the HTTP clients: each test queues the replies
(status, headers, body pieces, an optional cut or pause) and real clients (httpx, httpx2,
aiohttp, the openai and anthropic SDKs) talk to it over a socket. Streamed bodies go out
chunked, one piece per chunk, as the providers send them; a cut closes the connection
mid-body without the final chunk. The end-to-end tests use the provider stand-ins instead.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.unit.instrumentation.loopback import serving


@dataclass
class Reply:
    status: int = 200
    pieces: Sequence[bytes] = ()
    headers: dict[str, str] = field(default_factory=dict)
    streamed: bool = False
    cut_after: int | None = None
    """Close the connection after this many pieces, without ending the body."""
    pause_s: float = 0.0
    """Sleep before the first piece (a slow first token)."""
    gzip: bool = False


def json_reply(body: object, status: int = 200, **headers: str) -> Reply:
    return Reply(status, [json.dumps(body).encode()], {"content-type": "application/json", **headers})


def sse_reply(events: Sequence[tuple[str | None, object]], **kwargs: Any) -> Reply:
    """``(event name or None, data)`` pairs as SSE; data that is not a string is JSON."""
    pieces = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        pieces.append(((f"event: {name}\n" if name else "") + f"data: {text}\n\n").encode())
    return Reply(200, pieces, {"content-type": "text/event-stream"}, streamed=True, **kwargs)


def ndjson_reply(lines: Sequence[object], **kwargs: Any) -> Reply:
    pieces = [(json.dumps(line) + "\n").encode() for line in lines]
    return Reply(200, pieces, {"content-type": "application/x-ndjson"}, streamed=True, **kwargs)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    def __init__(self) -> None:
        self.url = ""
        self.replies: list[Reply] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def queue(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def next_reply(self) -> Reply:
        with self.lock:
            return self.replies.pop(0) if self.replies else Reply(404, [b'{"error": "nothing scripted"}'])


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Scripted(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            server.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            reply = server.next_reply()
            pieces = list(reply.pieces)
            if reply.gzip:
                pieces = [gzip.compress(b"".join(pieces))]
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.gzip:
                self.send_header("content-encoding", "gzip")
            if reply.streamed:
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                if reply.pause_s:
                    time.sleep(reply.pause_s)
                for n, piece in enumerate(pieces):
                    if reply.cut_after is not None and n >= reply.cut_after:
                        self.close_connection = True
                        self.connection.close()
                        return
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            else:
                data = b"".join(pieces)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        do_POST = _answer
        do_GET = _answer

        def log_message(self, *args: Any) -> None:
            pass

    return Scripted


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    """Serve on an OS-assigned port for the duration of the block."""
    state = ScriptedServer()
    with serving(_handler(state)) as url:
        state.url = url
        yield state
