"""HTTP wiring: a threaded HTTP/1.1 server speaking Bedrock's rest-json and event-stream protocols.

It is the backend of the demo, the end-to-end tests, the benchmarks and the compose stack,
so it favours predictability and low overhead: keep-alive connections, ``TCP_NODELAY``,
one write per JSON response and per stream frame, and no sleeping unless a fault asks.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypedDict
from urllib.parse import urlsplit

from otel_chatbot.testing.bedrock import operations, routes
from otel_chatbot.testing.bedrock.cache import PromptCache
from otel_chatbot.testing.bedrock.errors import ApiError, validation
from otel_chatbot.testing.bedrock.eventstream import (
    EVENT_STREAM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    corrupt_crc,
    exception_frame,
)
from otel_chatbot.testing.bedrock.faults import Fault, FaultQueue, fault_from_json, make_fault
from otel_chatbot.testing.bedrock.ledger import Ledger
from otel_chatbot.testing.bedrock.prompts import parse_json_object
from otel_chatbot.testing.bedrock.responses import Clock, JsonResponse, StreamEvent, StreamResponse

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/__control/"
MAX_BODY_BYTES = 32 * 1024 * 1024
IDLE_TIMEOUT_S = 120.0
# Bedrock appends a namespace to x-amzn-ErrorType; botocore strips it, and so must other clients.
ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
_CHUNK_END = b"0\r\n\r\n"


class _HttpServer(ThreadingHTTPServer):
    """Daemon handler threads, so keep-alive connections never block ``stop()``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # benchmarks open many connections at once

    def __init__(self, address: tuple[str, int], app: BedrockServer) -> None:
        self.app = app
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response are routine (cut streams, cancelled calls)."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            log.exception("unexpected error while serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeBedrock/1.0"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    server: _HttpServer

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
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
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
    def _head(self, status: int, headers: dict[str, str], request_id: str) -> bytes:
        self.log_request(status)
        reason = self.responses.get(status, ("",))[0]
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {self.date_time_string()}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"x-amzn-RequestId: {request_id}")
        lines.append("Connection: close" if self.close_connection else "Connection: keep-alive")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send_bytes(self, status: int, headers: dict[str, str], body: bytes, request_id: str) -> None:
        headers = {**headers, "Content-Length": str(len(body))}
        self.wfile.write(self._head(status, headers, request_id) + body)

    def _send_json(
        self, status: int, document: Any, request_id: str, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        self._send_bytes(status, {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})}, body, request_id)

    def _send_error(self, error: ApiError, request_id: str) -> None:
        headers = {"x-amzn-ErrorType": error.code + ERROR_TYPE_SUFFIX}
        self._send_json(error.status, {"message": error.message}, request_id, headers)

    def _write_chunk(self, frame: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))

    # -- dispatch -----------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        clock = Clock()
        request_id = str(uuid.uuid4())
        try:
            try:
                raw = self._read_body()
            except ValueError:
                self.close_connection = True
                self._send_error(validation("Unreadable request body."), request_id)
                return
            path = urlsplit(self.path).path
            if path.startswith(CONTROL_PREFIX):
                self._control(method, path[len(CONTROL_PREFIX) :], raw, request_id)
                return
            route = routes.match(self.path) if method == "POST" else None
            if route is None:
                error = ApiError("UnknownOperationException", f"No operation at {method} {path}.")
                self._send_error(error, request_id)
                return
            self._operation(route, raw, request_id, clock)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _control(self, method: str, name: str, raw: bytes, request_id: str) -> None:
        app = self.server.app
        if method == "GET" and name == "health":
            self._send_json(200, {"status": "ok"}, request_id)
        elif method == "GET" and name == "ledger":
            self._send_json(200, app.ledger.snapshot(), request_id)
        elif method == "GET" and name == "faults":
            self._send_json(200, {"faults": app.faults.pending()}, request_id)
        elif method == "POST" and name == "faults":
            try:
                fault = fault_from_json(json.loads(raw or b"null"))
            except ValueError as exc:
                self._send_json(400, {"message": str(exc)}, request_id)
                return
            app.faults.add(fault)
            self._send_json(200, {"queued": fault.to_json()}, request_id)
        elif method == "POST" and name == "reset":
            app.reset()
            self._send_json(200, {"status": "reset"}, request_id)
        else:
            self._send_json(404, {"message": f"no control endpoint {method} {name}"}, request_id)

    def _operation(self, route: routes.Route, raw: bytes, request_id: str, clock: Clock) -> None:
        app = self.server.app
        operation = route.operation
        body_error: ApiError | None = None
        try:
            body = parse_json_object(raw)
            key = operations.ledger_key(route, body)
        except ApiError as exc:
            body, body_error = {}, exc
            key = operations.ledger_key(route, body)
        except (AttributeError, TypeError):
            body, body_error = {}, validation()
            key = operations.ledger_key(route, body)
        app.ledger.record_call(key, operation)
        fault = app.faults.take(operation, key)
        if fault is not None and fault.name == "slow":
            time.sleep(fault.params["delay_s"])
        try:
            if fault is not None and fault.error_code is not None:
                raise ApiError(fault.error_code, fault.params["message"])
            if body_error is not None:
                raise body_error
            call = operations.Call(route, body, request_id, clock, app.cache)
            response = operations.handle(call)
        except ApiError as exc:
            app.ledger.record_error(key, operation, exc.code)
            self._send_error(exc, request_id)
            return
        except Exception:
            log.exception("handler failed for %s", operation)
            app.ledger.record_error(key, operation, "InternalServerException")
            self._send_error(ApiError("InternalServerException", "Internal server error."), request_id)
            return
        if isinstance(response, JsonResponse):
            self._send_operation_json(response, fault, key, operation, request_id)
        else:
            self._send_stream(response, fault, key, operation, request_id)

    def _send_operation_json(
        self, response: JsonResponse, fault: Fault | None, key: str, operation: str, request_id: str
    ) -> None:
        app = self.server.app
        body = json.dumps(response.body, separators=(",", ":")).encode("utf-8")
        if fault is not None and fault.name == "malformed":
            # A 200 whose JSON is cut in half; token headers are dropped as nothing was reported.
            app.ledger.record_error(key, operation, "malformed")
            self._send_bytes(200, {"Content-Type": JSON_CONTENT_TYPE}, body[: len(body) // 2], request_id)
            return
        if response.usage is not None:
            app.ledger.record_usage(key, operation, response.usage)
        headers = {"Content-Type": JSON_CONTENT_TYPE, **response.headers}
        self._send_bytes(200, headers, body, request_id)

    def _send_stream(
        self, response: StreamResponse, fault: Fault | None, key: str, operation: str, request_id: str
    ) -> None:
        app = self.server.app
        headers = {
            "Content-Type": EVENT_STREAM_CONTENT_TYPE,
            "Transfer-Encoding": "chunked",
            **response.headers,
        }
        self.wfile.write(self._head(200, headers, request_id))
        name = fault.name if fault is not None else None
        after = fault.params.get("after_events", -1) if fault is not None else -1
        chunk_delay = fault.params.get("chunk_delay_s", 0.0) if fault is not None else 0.0
        events: Any = response.events
        if name == "bad_crc":
            events = list(events)
            after = min(after, len(events) - 1)
        try:
            for index, event in enumerate(events):
                if index == after and name in ("stream_cut", "stream_exception"):
                    break
                if index and chunk_delay:
                    time.sleep(chunk_delay)
                if index == after and name == "bad_crc":
                    app.ledger.record_error(key, operation, "bad_crc")
                    self._write_chunk(corrupt_crc(event.frame))
                    self.wfile.write(_CHUNK_END)
                    return
                self._write_event(event, key, operation)
        except (ConnectionError, TimeoutError):
            raise  # the client is gone; _dispatch closes quietly
        except Exception:
            log.exception("stream generation failed for %s", operation)
            fault = make_fault("stream_exception", exception="internalServerException")
            name = fault.name
        self._finish_stream(fault, name, key, operation)

    def _write_event(self, event: StreamEvent, key: str, operation: str) -> None:
        if event.usage is not None:
            self.server.app.ledger.record_usage(key, operation, event.usage)
        self._write_chunk(event.frame)

    def _finish_stream(self, fault: Fault | None, name: str | None, key: str, operation: str) -> None:
        ledger = self.server.app.ledger
        if name == "stream_cut":
            ledger.record_error(key, operation, "stream_cut")
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if name == "stream_exception" and fault is not None:
            exception = fault.params["exception"]
            ledger.record_error(key, operation, exception)
            self._write_chunk(exception_frame(exception, fault.params["message"]))
        self.wfile.write(_CHUNK_END)


class ClientKwargs(TypedDict):
    """Keywords for ``boto3.client(service, **kwargs)`` aimed at a :class:`BedrockServer`."""

    endpoint_url: str
    region_name: str
    aws_access_key_id: str
    aws_secret_access_key: str


class BedrockServer:
    """A local, Bedrock-compatible endpoint for boto3 / aiobotocore clients (``endpoint_url``).

    Bind happens in the constructor (so ``endpoint_url`` is known at once); ``start()`` serves
    from a background thread. Use as a context manager in tests.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        self.verbose = verbose
        self.ledger = Ledger()
        self.faults = FaultQueue()
        self.cache = PromptCache()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._httpd = _HttpServer((host, port), self)

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """``http://host:port``, ready for ``boto3.client(..., endpoint_url=...)``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def client_kwargs(self, region_name: str = "us-east-1") -> ClientKwargs:
        """``endpoint_url``, a region and throw-away keys: the server checks no signature.

        Explicit keys also keep botocore from searching for credentials (which, off AWS,
        can stall on the instance metadata service).
        """
        return ClientKwargs(
            endpoint_url=self.endpoint_url,
            region_name=region_name,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def start(self) -> BedrockServer:
        """Serve in a daemon thread; returns self so ``BedrockServer().start()`` chains."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"bedrock-server-{self.port}",
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

    def __enter__(self) -> BedrockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def inject(
        self,
        fault: str,
        *,
        count: int = 1,
        operation: str | None = None,
        model: str | None = None,
        **params: Any,
    ) -> None:
        """Queue a fault for the next ``count`` requests matching ``operation`` / ``model``."""
        self.faults.add(make_fault(fault, count=count, operation=operation, model=model, **params))

    def reset(self) -> None:
        """Forget ledger totals, pending faults and cached prompt prefixes."""
        self.ledger.reset()
        self.faults.clear()
        self.cache.clear()

    def _track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)
