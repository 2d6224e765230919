"""Observers of a GenAI answer's body as the app reads it: the answer is read without being taken from the app.

The HTTP client adapters wrap the response's byte stream (httpx, httpx2) or content reader
(aiohttp) and report every chunk the app reads (:meth:`BodyObserver.feed`), the end of the
body (``complete``), the app closing or dropping it (``close``) and a failure while
reading (``fail``). The app gets exactly the bytes and exceptions it would have got.

- :class:`BufferedAnswer`: a whole JSON answer, decoded when the body ends. It keeps the
  bytes the app reads (up to :data:`KEPT_BODY_BYTES`; past that only both ends, which hold
  the id, model and usage), so the cost is one copy of the body and one JSON parse.
- :class:`StreamedAnswer`: SSE or NDJSON, decoded incrementally; each event goes to the
  call's :class:`~.stream_state.StreamState`, whose span ends exactly once.

A body the client hands over still encoded (httpx's transports see the raw bytes) is
decompressed on the way (gzip, deflate; brotli and zstd when their modules are there).
Observers never raise: an internal error is reported once and the answer goes unread.
"""

from __future__ import annotations

import importlib
import threading
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from otel_chatbot.genai import GenAIResponse
from otel_chatbot.genai.framing import NDJSONDecoder, SSEDecoder
from otel_chatbot.genai.http_apis import HttpApi, scan_ends
from otel_chatbot.guard import report
from otel_chatbot.instrumentation.genai.stream_state import StreamState

if TYPE_CHECKING:
    from otel_chatbot.instrumentation.genai.http import HttpGenAICall

KEPT_BODY_BYTES = 16 << 20
"""A whole answer larger than this (16 MiB: a large batch of embeddings) is kept only at its ends."""

END_WINDOW = 4096

MALFORMED_RESPONSE = "malformed_response"
"""``error.type`` of a 2xx answer whose body is not the JSON the API returns (the app's SDK fails on it too)."""

CANCELLED = "cancelled"
"""``error.type`` of an answer the app closed or dropped before its end (as for Bedrock streams)."""

Decompress = Callable[[bytes], bytes]


class BodyObserver(Protocol):
    def feed(self, chunk: bytes) -> None: ...

    def complete(self) -> None:
        """The body was read to its end."""
        ...

    def close(self) -> None:
        """The app closed the body (or dropped it): the end if the answer was complete, else cancelled."""
        ...

    def fail(self, error: BaseException) -> None:
        """Reading the body raised ``error`` (the connection broke): the app sees it as it is."""
        ...


def _identity(data: bytes) -> bytes:
    return data


def decompressor(encoding: str | None) -> Decompress | None:
    """A chunk-by-chunk decoder for a ``Content-Encoding``; None for one we cannot read."""
    name = (encoding or "identity").strip().lower()
    if name in ("identity", ""):
        return _identity
    if name in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress
    if name == "deflate":
        return _Deflate().decompress
    if name == "br":
        try:
            brotli = importlib.import_module("brotli")  # what httpx decodes br with, when installed
        except ImportError:
            return None
        return brotli.Decompressor().process  # type: ignore[no-any-return]
    return None


class _Deflate:
    """``deflate`` is zlib-wrapped by the standard and raw by some servers: try the first, fall back."""

    def __init__(self) -> None:
        self._inner: Any = None

    def decompress(self, data: bytes) -> bytes:
        if self._inner is None:
            try:
                self._inner = zlib.decompressobj()
                return self._inner.decompress(data)  # type: ignore[no-any-return]
            except zlib.error:
                self._inner = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._inner.decompress(data)  # type: ignore[no-any-return]


class Once:
    """Ends an observer exactly once, whichever thread (or finalizer) gets there first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done = False

    def claim(self) -> bool:
        with self._lock:
            if self.done:
                return False
            self.done = True
            return True


class BufferedAnswer:
    """A whole JSON answer: kept as the app reads it, read when it ends."""

    def __init__(self, call: HttpGenAICall, decompress: Decompress) -> None:
        self._call = call
        self._decompress = decompress
        self._chunks: list[bytes] = []
        self._size = 0
        self._tail = b""
        self._cut = False
        self._once = Once()

    def feed(self, chunk: bytes) -> None:
        try:
            data = self._decompress(chunk)
            if self._cut:
                self._tail = (self._tail + data)[-END_WINDOW:]
                return
            self._chunks.append(data)
            self._size += len(data)
            if self._size > KEPT_BODY_BYTES:  # keep the head, and from now on only the tail
                whole = b"".join(self._chunks)
                self._chunks = [whole[:END_WINDOW]]
                self._tail = whole[-END_WINDOW:]
                self._cut = True
        except Exception as exc:
            report("genai answer body", exc)

    def complete(self) -> None:
        if not self._once.claim():
            return
        call = self._call
        try:
            body = b"".join(self._chunks)
            answer = scan_ends(body, self._tail) if self._cut else call.api.read_body(body)
            error_type = MALFORMED_RESPONSE if body.strip() and not answer else None
            result = {"body": answer}
            operation = call.operation
            response = operation.response(call.params, result) if operation.response is not None else GenAIResponse()
            output = None
            if error_type is None and operation.output_messages is not None and call.telemetry.capture.enabled:
                output = operation.output_messages(call.params, result)
            call.finish(call.span_of(), response, error_type, output)
        except Exception as exc:
            report("genai answer", exc)
        self._chunks = []
        call.end_http(None)

    def close(self) -> None:
        self._abandon(CANCELLED, None)

    def fail(self, error: BaseException) -> None:
        self._abandon(type(error).__qualname__, error)

    def _abandon(self, error_type: str, error: BaseException | None) -> None:
        if not self._once.claim():
            return
        call = self._call
        try:
            call.finish(call.span_of(), GenAIResponse(), error_type)
        except Exception as exc:
            report("genai answer", exc)
        self._chunks = []
        call.end_http(error)


class StreamedAnswer:
    """An SSE or NDJSON stream, decoded as the app reads it; the call's stream state ends the span once."""

    def __init__(self, call: HttpGenAICall, state: StreamState, api: HttpApi, decompress: Decompress) -> None:
        self._call = call
        self._state = state
        self._terminal = api.terminal
        self._decoder = SSEDecoder() if api.framing == "sse" else NDJSONDecoder()
        self._decompress = decompress
        self._ended = False  # the stream's own last event was seen: closing after it is the end

    def _events(self, events: list[Any]) -> None:
        state = self._state
        for event in events:
            state.feed(event)
            if self._terminal(event):
                self._ended = True

    def feed(self, chunk: bytes) -> None:
        try:
            self._events(self._decoder.feed(self._decompress(chunk)))
        except Exception as exc:
            report("genai stream body", exc)

    def complete(self) -> None:
        try:
            self._events(self._decoder.flush())
        except Exception as exc:
            report("genai stream body", exc)
        self._state.finish(None)

    def close(self) -> None:
        self._state.finish(None if self._ended else CANCELLED)

    def fail(self, error: BaseException) -> None:
        self._call.failure = error
        self._state.finish(type(error).__qualname__)
