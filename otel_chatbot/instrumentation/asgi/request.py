"""One HTTP request or WebSocket connection: its SERVER span, its ``receive``/``send`` wrappers.

:class:`ServerRequest` holds what both protocols share — the span started from the
request's headers, the context it runs in, and :meth:`ServerRequest.finish`, the one path
that names the span after its route, sets status and error, records and ends it. The two
subclasses differ only in their hooks: which in-flight gauge counts them, what their
``receive`` and ``send`` wrappers notice, which attributes they add at the end and what
they record. A per-request object instead of closures: one allocation, slot reads.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_chatbot.guard import report
from otel_chatbot.instrumentation import http_semconv as sc
from otel_chatbot.instrumentation.asgi import names as n
from otel_chatbot.instrumentation.asgi.server import ActiveCount, ServerTelemetry
from otel_chatbot.instrumentation.asgi.stream_metrics import StreamTally, stream_attributes, stream_outcome
from otel_chatbot.instrumentation.asgi.types import ASGIApp, Message, Receive, Scope, Send
from otel_chatbot.instrumentation.asgi.websocket_metrics import (
    CLOSE_ABNORMAL,
    CLOSE_APP_RAISED,
    RouteMessages,
    close_code,
)
from otel_chatbot.instrumentation.request_context import CURRENT_REQUEST, MAX_BODY_BYTES, RequestInfo
from otel_chatbot.instrumentation.routes import RouteResolver

_WANTED_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage", b"user-agent", b"host"})


class ServerRequest:
    """The state of one request, shared by HTTP and WebSocket; subclasses fill in the hooks."""

    __slots__ = (
        "active_attrs",
        "error",
        "info",
        "method",
        "receive",
        "request_id",
        "routes",
        "scheme",
        "scope",
        "send",
        "span",
        "start",
        "status",
        "stream",
        "t",
        "trace_hex",
        "version",
    )

    def __init__(self, scope: Scope, t: ServerTelemetry, routes: RouteResolver) -> None:
        self.start = time.perf_counter()
        self.scope = scope
        self.t = t
        self.routes = routes
        self.status = 0
        self.error: str | None = None
        self.stream: StreamTally | None = None  # HTTP only, set by a response's first more_body message
        carrier: dict[str, str] = {}
        request_id = ""
        conversation: dict[str, str] = {}
        for name, value in scope.get("headers") or ():
            if name in _WANTED_HEADERS:
                carrier[name.decode("latin-1")] = value.decode("latin-1")
            elif name == t.request_id_header and t.request_id_header:
                request_id = value.decode("latin-1")
            if name in t.conversation_headers:
                conversation[name.decode("latin-1")] = value.decode("latin-1")
        raw_method = scope.get("method", "GET")
        self.method, original = sc.normalize_method(raw_method)
        self.scheme = scope.get("scheme") or ("http" if scope["type"] == "http" else "ws")  # the ASGI defaults
        self.version = scope.get("http_version", "1.1")
        if not _valid_request_id(request_id):
            request_id = ""
        parent = t.propagator.extract(carrier) if ("traceparent" in carrier or "baggage" in carrier) else None
        attributes: dict[str, Any] = {
            sc.METHOD: self.method,
            sc.URL_PATH: scope["path"],
            sc.URL_SCHEME: self.scheme,
            sc.PROTOCOL_VERSION: self.version,
        }
        if original:
            attributes[sc.METHOD_ORIGINAL] = original
        query = scope.get("query_string")
        if query:
            attributes[sc.URL_QUERY] = sc.redact_query(query.decode("latin-1"))
        client = scope.get("client")
        if client:
            attributes[sc.CLIENT_ADDRESS] = client[0]
        agent = carrier.get("user-agent")
        if agent:
            attributes[sc.USER_AGENT] = agent
        host = carrier.get("host")
        if host:
            address, port = sc.split_host(host, 443 if self.scheme in ("https", "wss") else 80)
            attributes[sc.SERVER_ADDRESS] = address
            attributes[sc.SERVER_PORT] = port
        if request_id:
            attributes[f"http.request.header.{t.request_id_name}"] = (request_id,)
        if t.dup_semconv:
            attributes["http.method"] = self.method
            attributes["http.target"] = scope["path"]
            attributes["http.scheme"] = self.scheme
        self.span = t.start_span(sc.span_name(self.method, None), parent, SpanKind.SERVER, attributes)
        self.trace_hex = ""  # the trace id as the x-trace-id header carries it, once formatted
        if t.request_id_header and not request_id:
            # No usable id from the client: the trace id is already a fresh random 128-bit value.
            ctx = self.span.get_span_context()
            request_id = f"{ctx.trace_id:032x}"
            if ctx.is_valid:
                self.trace_hex = request_id
        self.request_id = request_id
        self.info = RequestInfo(t.conversation_sources, conversation, scope)  # type: ignore[arg-type]
        self.active_attrs = t.active_key(self.method, self.scheme)

    async def run(self, app: ASGIApp, receive: Receive, send: Send) -> None:
        """Call the app under this request's span; the app's own exception passes through unchanged."""
        gauge = self._gauge()
        key = self.active_attrs
        gauge.add(1, key)
        self.send = send
        token = otel_context.attach(trace.set_span_in_context(self.span))
        info_token = CURRENT_REQUEST.set(self.info)
        try:
            await app(self.scope, self._wrap_receive(receive), self._send)
        except BaseException as exc:
            self._failed(exc)
            raise
        finally:
            try:
                # Before the context is detached: the duration keeps the span as its exemplar.
                self.finish()
            except Exception as exc:
                report("asgi request end", exc)
            CURRENT_REQUEST.reset(info_token)
            otel_context.detach(token)
            gauge.add(-1, key)

    def finish(self) -> None:
        """Name the span after its route, set status and error, record, end the span."""
        elapsed = time.perf_counter() - self.start
        route = self.routes.template(self.scope)
        status = self.status
        error = self.error
        if error is None and status >= 500:
            error = str(status)
        span = self.span
        late = self._attributes_at_end(status, elapsed)
        if route:
            span.update_name(sc.span_name(self.method, route))
            late[sc.ROUTE] = route
        if status:
            late[sc.STATUS] = status
        if error:
            late[sc.ERROR_TYPE] = error
            span.set_status(Status(StatusCode.ERROR))
        self.t.set_span_attributes(span, late)
        self._record(route, status, error, elapsed)
        self.t.end_span(span)

    # Hooks.

    def _gauge(self) -> ActiveCount:
        """The in-flight gauge that counts this request while the app runs."""
        raise NotImplementedError

    def _wrap_receive(self, receive: Receive) -> Receive:
        """The ``receive`` the app gets; the server's own unless there is something to notice."""
        return receive

    async def _send(self, message: Message) -> None:
        """The ``send`` the app gets; forwards to ``self.send``."""
        await self.send(message)

    def _failed(self, exc: BaseException) -> None:
        """The app raised ``exc`` (which is re-raised after this)."""
        self.error = type(exc).__qualname__
        self.span.record_exception(exc)

    def _attributes_at_end(self, status: int, elapsed: float) -> dict[str, Any]:
        """Attributes known only when the request is over, besides route, status and error."""
        return {}

    def _record(self, route: str | None, status: int, error: str | None, elapsed: float) -> None:
        """Record the request's metrics; the span is still current and not yet ended."""


class HttpRequest(ServerRequest):
    """An HTTP request: response headers added at start, one duration point at the end.

    A response sent in more than one body message is a stream: its chunks are tallied as
    they pass (:mod:`.stream_metrics`) and recorded when the request ends. A response sent
    in one body message costs one ``more_body`` lookup and nothing else.
    """

    __slots__ = ()

    def _gauge(self) -> ActiveCount:
        return self.t.active

    def _wrap_receive(self, receive: Receive) -> Receive:
        return self._receive_capturing(receive) if self.t.capture_body else receive

    def _receive_capturing(self, receive: Receive) -> Receive:
        info = self.info

        async def receive_and_keep() -> Message:
            message = await receive()
            if message.get("type") == "http.request" and not info.body_complete:
                if len(info.body) < MAX_BODY_BYTES:
                    info.body.extend(message.get("body", b"")[: MAX_BODY_BYTES - len(info.body)])
                if not message.get("more_body", False):
                    info.body_complete = True
            return message

        return receive_and_keep

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            stream = self.stream
            more = message.get("more_body", False)
            if stream is None:
                if not more:
                    await self.send(message)  # the whole body in one message: not a stream
                    return
                stream = self.stream = StreamTally()
            body = message.get("body")
            if body and not stream.chunks:
                stream.first_byte = time.perf_counter()  # counts only once the send succeeded (chunks > 0)
            try:
                await self.send(message)
            except BaseException:
                stream.cancelled = True  # the server could not deliver it: the client is gone
                raise
            if body:
                stream.chunks += 1
                stream.size += len(body)
            if not more:
                stream.complete = True
            return
        if kind == "http.response.start":
            try:
                self.status = message["status"]
                extra = self._response_headers()
                if extra:
                    message = dict(message)
                    message["headers"] = [*message.get("headers", ()), *extra]
            except Exception as exc:
                report("asgi response start", exc)
        await self.send(message)

    def _response_headers(self) -> list[tuple[bytes, bytes]]:
        t = self.t
        extra: list[tuple[bytes, bytes]] = []
        if t.add_request_id:
            extra.append((t.request_id_header, self.request_id.encode("latin-1")))
        if t.add_trace_id:
            if self.trace_hex:
                extra.append((b"x-trace-id", self.trace_hex.encode()))
            else:
                ctx = self.span.get_span_context()
                if ctx.is_valid:
                    extra.append((b"x-trace-id", f"{ctx.trace_id:032x}".encode()))
        if t.add_response_time:
            elapsed_ms = (time.perf_counter() - self.start) * 1000
            extra.append((b"x-response-time", f"{elapsed_ms:.2f}ms".encode()))
        return extra

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, asyncio.CancelledError) and self.stream is not None:
            self.stream.cancelled = True  # the server cancelled the app's task (client gone, shutdown)
        super()._failed(exc)
        if self.status == 0:
            self.status = 500  # what the server answers when the app raises before responding

    def _attributes_at_end(self, status: int, elapsed: float) -> dict[str, Any]:
        attributes: dict[str, Any] = {"http.status_code": status} if status and self.t.dup_semconv else {}
        stream = self.stream
        if stream is not None:
            outcome = stream_outcome(stream, raised=self.error is not None)
            attributes.update(stream_attributes(stream, outcome, self.start, elapsed))
        return attributes

    def _record(self, route: str | None, status: int, error: str | None, elapsed: float) -> None:
        # Recorded while the span is still current, so the histograms keep it as an exemplar.
        self.t.durations.get(self.method, self.scheme, route, status, error, self.version).record(elapsed)
        stream = self.stream
        if stream is not None:
            outcome = stream_outcome(stream, raised=self.error is not None)
            self.t.streams.record(stream, route, self.method, outcome, self.start, elapsed)


class WebSocketRequest(ServerRequest):
    """A WebSocket connection: one span for all of it, its messages and turns counted.

    The route's message tally is looked up once, at ``websocket.accept``; after that a
    message costs two integer additions, and a turn (a received message, then the first
    message sent after it) one histogram record.
    """

    __slots__ = ("close_code", "messages", "received", "sent", "turn_start")

    def __init__(self, scope: Scope, t: ServerTelemetry, routes: RouteResolver) -> None:
        super().__init__(scope, t, routes)
        self.received = 0
        self.sent = 0
        self.messages: RouteMessages | None = None  # set when the app accepts the connection
        self.turn_start = 0.0  # perf_counter() of the first received message not yet answered; 0: none
        self.close_code: int | None = None
        self.span.set_attribute(sc.PROTOCOL_NAME, "websocket")

    def _gauge(self) -> ActiveCount:
        return self.t.websockets

    def _wrap_receive(self, receive: Receive) -> Receive:
        self.receive = receive
        return self._receive

    async def _receive(self) -> Message:
        message = await self.receive()
        kind = message.get("type")
        if kind == "websocket.receive":
            self.received += 1
            messages = self.messages
            if messages is not None:
                messages.received += 1
            if not self.turn_start:
                self.turn_start = time.perf_counter()
        elif kind == "websocket.disconnect" and self.close_code is None:
            self.close_code = close_code(message.get("code", 1005), from_client=True)
        return message

    async def _send(self, message: Message) -> None:
        kind = message.get("type")
        await self.send(message)
        if kind == "websocket.send":
            self.sent += 1
            messages = self.messages
            if messages is not None:
                messages.sent += 1
                if self.turn_start:
                    messages.turn.record(time.perf_counter() - self.turn_start)
                    self.turn_start = 0.0
        elif kind == "websocket.accept" and not self.status:
            self.status = 101
            try:
                self.messages = self.t.websocket.route(self.routes.template(self.scope))
            except Exception as exc:
                report("websocket accept", exc)
        elif kind == "websocket.close":
            if not self.status:
                self.status = 403  # closed before accepting: the handshake was refused
            if self.close_code is None:
                self.close_code = close_code(message.get("code", 1000), from_client=False)

    def _attributes_at_end(self, status: int, elapsed: float) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            n.WEBSOCKET_MESSAGES_RECEIVED: self.received,
            n.WEBSOCKET_MESSAGES_SENT: self.sent,
        }
        if status == 101:
            attributes[n.WEBSOCKET_CLOSE_CODE] = self._close_code()
        return attributes

    def _close_code(self) -> int:
        """The first side's close code; if neither closed, the app raised (1011) or just returned (1006)."""
        if self.close_code is not None:
            return self.close_code
        return CLOSE_APP_RAISED if self.error is not None else CLOSE_ABNORMAL

    def _record(self, route: str | None, status: int, error: str | None, elapsed: float) -> None:
        if status == 101:  # a refused handshake is no connection
            self.t.websocket.connection_duration.get(route, self._close_code()).record(elapsed)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def _valid_request_id(value: str) -> bool:
    """Honour a client's request id only if it is short and plain (it lands in logs and headers)."""
    return bool(value) and _REQUEST_ID.match(value) is not None
