"""HTTP wiring shared by the stand-ins: a threaded HTTP/1.1 server, its control API and a stream writer.

Each stand-in is the backend of tests, demos and benchmarks, so this favours predictability and
low overhead: keep-alive connections, ``TCP_NODELAY``, one write per JSON response and per
stream frame (one HTTP chunk each), and no sleeping unless a fault or the server's stream pace
asks. A stand-in supplies a
:class:`StandInHandler` subclass (its routes, errors and request-id header) and a
:class:`StandInServer` subclass (its fault catalogue); the rest is here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar

from typing_extensions import Self

from otel_chatbot.testing.standin.faults import FaultCatalogue, FaultQueue
from otel_chatbot.testing.standin.ledger import Ledger, LedgerScope
from otel_chatbot.testing.standin.responses import Clock, JsonResponse, StreamEvent

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/__control/"
JSON_CONTENT_TYPE = "application/json"
MAX_BODY_BYTES = 32 * 1024 * 1024
IDLE_TIMEOUT_S = 120.0
MAX_STREAM_PACE_S = 2.0
"""The longest pause between a stream's events (a slow fault's ``chunk_delay_s`` has the same bound)."""
_CHUNK_END = b"0\r\n\r\n"


class StandInHTTPServer(ThreadingHTTPServer):
    """Daemon handler threads, so keep-alive connections never block ``stop()``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # benchmarks open many connections at once

    def __init__(self, address: tuple[str, int], app: StandInServer, handler: type[StandInHandler]) -> None:
        self.app = app
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response are routine (cut streams, cancelled calls)."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            log.exception("unexpected error while serving %s", client_address)


@dataclass(frozen=True)
class StreamStop:
    """How a stream ends early (a fault) instead of after its last event.

    After ``after_events`` events: write ``frame`` (an in-stream error event) if given, or event
    number ``after_events`` passed through ``corrupt``; then either close the connection with no
    terminating chunk (``cut``) or end the body normally. ``kind`` is the ledger's error kind.
    """

    after_events: int
    kind: str
    frame: bytes | None = None
    corrupt: Callable[[bytes], bytes] | None = None
    cut: bool = False


class StandInHandler(BaseHTTPRequestHandler):
    """One connection; subclasses route requests in :meth:`handle_request`."""

    protocol_version = "HTTP/1.1"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    server: StandInHTTPServer
    # Header carrying a fresh id on every response (None: the provider sends none).
    request_id_header: ClassVar[str | None] = None

    # -- to implement -------------------------------------------------------------------
    def handle_request(self, method: str, raw: bytes, request_id: str, clock: Clock) -> None:
        """Answer a request that is not for the control API."""
        raise NotImplementedError

    def control(self, method: str, name: str, raw: bytes, request_id: str) -> bool:
        """A control endpoint of this stand-in's own (``/__control/<name>``); False when there is none."""
        return False

    def unreadable_body(self, request_id: str) -> None:
        """Answer a request whose body could not be read (bad length, too large)."""
        self.send_json(400, {"message": "Unreadable request body."}, request_id)

    def new_request_id(self) -> str:
        return str(uuid.uuid4())

    # -- connection lifecycle -------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.app._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.app._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.app.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def end_headers(self) -> None:
        """Responses the base class writes itself (e.g. 400 / 501) also get a request id."""
        if self.request_id_header is not None:
            self.send_header(self.request_id_header, self.new_request_id())
        super().end_headers()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- reading ------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY_BYTES:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline(1024)
            if len(body) > MAX_BODY_BYTES:
                raise ValueError("body too large")

    # -- writing ------------------------------------------------------------------------
    def head(self, status: int, headers: dict[str, str], request_id: str) -> bytes:
        """Status line and headers, with the request id and the connection's fate."""
        self.log_request(status)
        reason = self.responses.get(status, ("",))[0]
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {self.date_time_string()}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if self.request_id_header is not None:
            lines.append(f"{self.request_id_header}: {request_id}")
        lines.append("Connection: close" if self.close_connection else "Connection: keep-alive")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send_bytes(self, status: int, headers: dict[str, str], body: bytes, request_id: str) -> None:
        headers = {**headers, "Content-Length": str(len(body))}
        self.wfile.write(self.head(status, headers, request_id) + body)

    def send_json(self, status: int, document: Any, request_id: str, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        self.send_bytes(status, {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})}, body, request_id)

    def send_answer(
        self, response: JsonResponse, scope: LedgerScope, request_id: str, *, malformed: bool, cut: bool = False
    ) -> None:
        """A 200 JSON answer, or a broken one that counts no tokens (none were readable).

        ``malformed`` sends the first half of the body as if it were all of it (a complete
        response that is not JSON); ``cut`` announces the whole body's length, sends its
        first half and closes the connection (a response cut short in transit).
        """
        body = json.dumps(response.body, separators=(",", ":")).encode("utf-8")
        if malformed:
            scope.error("malformed")
            self.send_bytes(200, {"Content-Type": JSON_CONTENT_TYPE}, body[: len(body) // 2], request_id)
            return
        if cut:
            scope.error("body_cut")
            headers = {"Content-Type": JSON_CONTENT_TYPE, "Content-Length": str(len(body))}
            self.wfile.write(self.head(200, headers, request_id) + body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if response.usage is not None:
            scope.usage(response.usage)
        self.send_bytes(200, {"Content-Type": JSON_CONTENT_TYPE, **response.headers}, body, request_id)

    def write_chunk(self, frame: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))

    def write_stream(
        self,
        events: Iterable[StreamEvent],
        scope: LedgerScope,
        *,
        stop: StreamStop | None = None,
        first_delay_s: float = 0.0,
        chunk_delay_s: float = 0.0,
        on_failure: Callable[[], StreamStop],
    ) -> None:
        """Write a chunked stream body (the head is written already), one chunk per event.

        Events are ``chunk_delay_s`` apart (a slow fault), or at least the server's stream pace.
        Usage is added to the ledger right before the event reporting it is written. A failure
        while producing events becomes the stream error that ``on_failure`` describes, as a
        provider's own failure would reach its clients.
        """
        if first_delay_s:
            time.sleep(first_delay_s)
        chunk_delay_s = max(chunk_delay_s, self.server.app.stream_pace_s)
        try:
            for index, event in enumerate(events):
                if stop is not None and index == stop.after_events:
                    if stop.corrupt is not None:
                        scope.error(stop.kind)
                        self.write_chunk(stop.corrupt(event.frame))
                        self.wfile.write(_CHUNK_END)
                        return
                    break
                if index and chunk_delay_s:
                    time.sleep(chunk_delay_s)
                if event.usage is not None:
                    scope.usage(event.usage)
                self.write_chunk(event.frame)
            else:
                if stop is None or stop.corrupt is not None:
                    self.wfile.write(_CHUNK_END)
                    return
        except (ConnectionError, TimeoutError):
            raise  # the client is gone; _dispatch closes quietly
        except Exception:
            log.exception("stream generation failed")
            stop = on_failure()
        assert stop is not None
        self._end_stream_early(stop, scope)

    def _end_stream_early(self, stop: StreamStop, scope: LedgerScope) -> None:
        scope.error(stop.kind)
        if stop.cut:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if stop.frame is not None:
            self.write_chunk(stop.frame)
        self.wfile.write(_CHUNK_END)

    # -- dispatch -----------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        clock = Clock()
        request_id = self.new_request_id()
        try:
            try:
                raw = self._read_body()
            except ValueError:
                self.close_connection = True
                self.unreadable_body(request_id)
                return
            path = self.path.split("?", 1)[0]
            if path.startswith(CONTROL_PREFIX):
                self._control(method, path[len(CONTROL_PREFIX) :], raw, request_id)
                return
            self.handle_request(method, raw, request_id, clock)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _control(self, method: str, name: str, raw: bytes, request_id: str) -> None:
        app = self.server.app
        if method == "GET" and name == "health":
            self.send_json(200, {"status": "ok"}, request_id)
        elif method == "GET" and name == "ledger":
            self.send_json(200, app.ledger.snapshot(), request_id)
        elif method == "GET" and name == "faults":
            self.send_json(200, {"faults": app.faults.pending()}, request_id)
        elif method == "POST" and name == "faults":
            try:
                fault = app.catalogue.from_json(json.loads(raw or b"null"))
            except ValueError as exc:
                self.send_json(400, {"message": str(exc)}, request_id)
                return
            app.faults.add(fault)
            self.send_json(200, {"queued": fault.to_json()}, request_id)
        elif method == "POST" and name == "reset":
            app.reset()
            self.send_json(200, {"status": "reset"}, request_id)
        elif not self.control(method, name, raw, request_id):
            self.send_json(404, {"message": f"no control endpoint {method} {name}"}, request_id)


class StandInServer:
    """A stand-in on a local port: bound in the constructor (so ``url`` is known at once), served by ``start()``.

    Subclasses set ``handler`` and ``catalogue``. Use as a context manager in tests. Everything a
    test may read or steer is here: ``ledger`` (what the clients were told), ``faults`` (what is
    queued), ``inject()`` and ``reset()``; the same over HTTP under ``/__control/``.
    """

    handler: ClassVar[type[StandInHandler]]
    catalogue: ClassVar[FaultCatalogue]

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False, stream_pace_s: float = 0.0
    ) -> None:
        """``stream_pace_s``: seconds between a stream's events, as a model emits its tokens at a
        pace (0: as fast as the socket takes them). A client that leaves a paced stream midway
        really leaves before its end, as with a real model."""
        if not 0.0 <= stream_pace_s <= MAX_STREAM_PACE_S:
            raise ValueError(
                f"stream_pace_s must be between 0 and {MAX_STREAM_PACE_S:g} seconds, got {stream_pace_s!r}"
            )
        self.verbose = verbose
        self.stream_pace_s = stream_pace_s
        self.ledger = Ledger()
        self.faults = FaultQueue()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._httpd = StandInHTTPServer((host, port), self, self.handler)

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port``, with no path."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Serve in a daemon thread; returns self so ``Server().start()`` chains."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, drop open keep-alive connections and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget ledger totals and pending faults (subclasses also forget their caches)."""
        self.ledger.reset()
        self.faults.clear()

    def _track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)
