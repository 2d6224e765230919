"""OTLP/HTTP receiver on the stdlib threading HTTP server, with HTTP/1.1 keep-alive."""

from __future__ import annotations

import contextlib
import select
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlsplit

from google.protobuf.message import DecodeError, Message
from google.rpc.status_pb2 import Status

from otel_chatbot.testing.otlp_sink.behaviour import rpc_code
from otel_chatbot.testing.otlp_sink.http_body import BodyError, decompress, read_body
from otel_chatbot.testing.otlp_sink.otlp_json import OtlpJsonError, parse_otlp_json, to_otlp_json
from otel_chatbot.testing.otlp_sink.query_api import PREFIX, handle_query
from otel_chatbot.testing.otlp_sink.receiver import Outcome, Receiver
from otel_chatbot.testing.otlp_sink.signals import SIGNAL_BY_PATH, SignalSpec

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class _Server(ThreadingMixIn, HTTPServer):
    """Threaded server that can close idle keep-alive connections on shutdown.

    Handler threads are not daemons and are joined on close, so tests running
    with warnings as errors see no leaked sockets or threads.
    """

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], receiver: Receiver) -> None:
        self.receiver = receiver
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-request (e.g. an export timeout) are normal, not errors."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def server_close(self) -> None:
        with self._open_lock:
            for conn in self._open:
                with contextlib.suppress(OSError):  # already closed by the client
                    conn.shutdown(socket.SHUT_RDWR)
        super().server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: exporters reuse one connection
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this Nagle's
        # algorithm plus delayed ACKs add ~40 ms to every export.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging: it would dominate the benchmark."""

    def do_GET(self) -> None:
        self._query("GET", b"")

    def do_POST(self) -> None:
        try:
            body = read_body(self.headers, self.rfile)
        except BodyError as exc:
            self.close_connection = True
            self._status(PROTOBUF, 400, str(exc))
            return
        path = urlsplit(self.path).path
        if path.startswith(PREFIX):
            self._query("POST", body)
            return
        spec = SIGNAL_BY_PATH.get(path)
        if spec is None:
            self._status(PROTOBUF, 404, f"no OTLP endpoint {path}")
            return
        self._export(spec, body)

    def _export(self, spec: SignalSpec[Any], body: bytes) -> None:
        content_type = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if content_type not in (PROTOBUF, JSON):
            self._status(PROTOBUF, 415, f"unsupported Content-Type {content_type!r}")
            return
        receiver = self.server.receiver
        try:
            payload = decompress(self.headers, body)
            request: Message = (
                spec.parse(payload) if content_type == PROTOBUF else parse_otlp_json(payload, spec.request_type())
            )
        except (BodyError, DecodeError, OtlpJsonError) as exc:
            receiver.reject()
            self._status(content_type, 400, f"cannot decode {spec.name} request: {exc}")
            return
        outcome, behaviour = receiver.receive(spec, request, self._client_waiting)
        if outcome is Outcome.ABANDONED:
            self.close_connection = True
        elif outcome is Outcome.REFUSED:
            assert behaviour.fail_with is not None
            extra = {}
            if behaviour.retry_after_s is not None:
                extra["Retry-After"] = str(behaviour.retry_after_s)
            self._status(content_type, behaviour.fail_with, behaviour.message, extra)
        else:
            response = spec.empty_response()
            data = response.SerializeToString() if content_type == PROTOBUF else to_otlp_json(response)
            self._reply(200, content_type, data)

    def _query(self, method: str, body: bytes) -> None:
        parts = urlsplit(self.path)
        if not parts.path.startswith(PREFIX):
            self._reply(404, JSON, b'{"error":"not found"}')
            return
        status, data = handle_query(self.server.receiver, method, parts.path[len(PREFIX) :], parts.query, body)
        self._reply(status, JSON, data)

    def _status(self, content_type: str, code: int, message: str, extra: dict[str, str] | None = None) -> None:
        """Error answer: a google.rpc.Status in the request's own encoding, as OTLP/HTTP requires."""
        status = Status(code=rpc_code(code), message=message)
        data = status.SerializeToString() if content_type == PROTOBUF else to_otlp_json(status)
        self._reply(code, content_type, data, extra)

    def _reply(self, code: int, content_type: str, data: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _client_waiting(self) -> bool:
        """False once the client closed its end (e.g. its export timed out during our delay)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return not readable or self.connection.recv(1, socket.MSG_PEEK) != b""
        except OSError:
            return False


class OtlpHttpServer:
    """Owns the listening socket and the thread that runs the accept loop."""

    def __init__(self, host: str, port: int, receiver: Receiver) -> None:
        self._server = _Server((host, port), receiver)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() may wait for the accept loop
            name="otlp-sink-http",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
