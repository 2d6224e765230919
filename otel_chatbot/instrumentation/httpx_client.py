"""httpx and httpx2 (sync and async): wrap the transports, where every request passes once.

httpx2 (what the ``openai`` 3.x and ``anthropic`` 2.x SDKs send through) keeps httpx's
transport design, so one patch serves both modules. A GenAI answer's body is observed by
putting a wrapping byte stream (a subclass of the module's own ``SyncByteStream`` /
``AsyncByteStream``, as ``Response`` requires) in ``response.stream``: the app reads the
same bytes, and the span ends when the body does. The transport hands over the body as
sent, so its ``Content-Encoding`` goes to the observer.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

from otel_chatbot.guard import report
from otel_chatbot.instrumentation.genai.body import BodyObserver
from otel_chatbot.instrumentation.http_client import ClientTelemetry, OutgoingCall, http_version

_PATCHED = "_otel_chatbot_patch"


def _request_body(request: Any) -> bytes | None:
    """The request's body when it was given whole (``json=``, ``content=``); None for a stream not read yet."""
    try:
        content = request.content
    except Exception:  # httpx.RequestNotRead: a streaming upload
        return None
    return content if isinstance(content, bytes) else None


def _start(telemetry: ClientTelemetry, request: Any, is_async: bool) -> OutgoingCall | None:
    try:
        carrier: dict[str, str] = {}
        headers = request.headers
        call = telemetry.start(
            request.method, str(request.url), carrier, headers, lambda: _request_body(request), is_async=is_async
        )
        for key, value in carrier.items():
            headers[key] = value
        return call
    except Exception as exc:
        report("httpx request start", exc)
        return None


def _respond(call: OutgoingCall, response: Any) -> BodyObserver | None:
    try:
        version = response.extensions.get("http_version", b"HTTP/1.1")
        headers = response.headers
        return call.respond(
            response.status_code,
            http_version(version.decode("ascii", "replace")),
            headers,
            headers.get("content-encoding") if call.genai is not None else None,
        )
    except Exception as exc:
        report("httpx request end", exc)
        return None


def _fail(call: OutgoingCall | None, error: BaseException) -> None:
    if call is not None:
        try:
            call.fail(error)
        except Exception as exc:
            report("httpx request end", exc)


def _feed(observer: BodyObserver, chunk: bytes) -> None:
    try:
        observer.feed(chunk)
    except Exception as exc:
        report("httpx body", exc)


def _stream_classes(module: Any) -> tuple[type[Any], type[Any]]:
    """The body wrappers for ``module`` (httpx or httpx2), subclassing its own byte stream types."""

    class ObservedStream(module.SyncByteStream):  # type: ignore[misc]
        def __init__(self, inner: Any, observer: BodyObserver) -> None:
            self._inner = inner
            self._observer = observer
            weakref.finalize(self, observer.close)

        def __iter__(self) -> Iterator[bytes]:
            observer = self._observer
            try:
                for chunk in self._inner:
                    _feed(observer, chunk)
                    yield chunk
            except GeneratorExit:
                observer.close()
                raise
            except BaseException as exc:
                observer.fail(exc)
                raise
            observer.complete()

        def close(self) -> None:
            try:
                self._inner.close()
            finally:
                self._observer.close()

    class ObservedAsyncStream(module.AsyncByteStream):  # type: ignore[misc]
        def __init__(self, inner: Any, observer: BodyObserver) -> None:
            self._inner = inner
            self._observer = observer
            weakref.finalize(self, observer.close)

        async def __aiter__(self) -> AsyncIterator[bytes]:
            observer = self._observer
            try:
                async for chunk in self._inner:
                    _feed(observer, chunk)
                    yield chunk
            except GeneratorExit:
                observer.close()
                raise
            except BaseException as exc:
                observer.fail(exc)
                raise
            observer.complete()

        async def aclose(self) -> None:
            try:
                await self._inner.aclose()
            finally:
                self._observer.close()

    return ObservedStream, ObservedAsyncStream


class HttpxInstrumentation:
    """The transport patch for one module: ``httpx`` or ``httpx2``."""

    def __init__(self, telemetry: ClientTelemetry, module_name: str = "httpx") -> None:
        self.telemetry = telemetry
        self.module_name = module_name
        self._originals: dict[str, Any] = {}

    def apply(self) -> None:
        import importlib

        if self._originals:
            return
        module = importlib.import_module(self.module_name)
        if getattr(module.HTTPTransport.handle_request, _PATCHED, False):
            return  # httpx2.alias_httpx() made both names one module: patched once already
        telemetry = self.telemetry
        sync_original = module.HTTPTransport.handle_request
        async_original = module.AsyncHTTPTransport.handle_async_request
        observed_stream, observed_async_stream = _stream_classes(module)

        def handle_request(transport: Any, request: Any) -> Any:
            call = _start(telemetry, request, False)
            try:
                response = sync_original(transport, request)
            except BaseException as exc:
                _fail(call, exc)
                raise
            if call is not None:
                observer = _respond(call, response)
                if observer is not None:
                    response.stream = observed_stream(response.stream, observer)
            return response

        async def handle_async_request(transport: Any, request: Any) -> Any:
            call = _start(telemetry, request, True)
            try:
                response = await async_original(transport, request)
            except BaseException as exc:
                _fail(call, exc)
                raise
            if call is not None:
                observer = _respond(call, response)
                if observer is not None:
                    response.stream = observed_async_stream(response.stream, observer)
            return response

        setattr(handle_request, _PATCHED, True)
        self._module = module
        self._originals = {"sync": sync_original, "async": async_original}
        setattr(module.HTTPTransport, "handle_request", handle_request)  # noqa: B010
        setattr(module.AsyncHTTPTransport, "handle_async_request", handle_async_request)  # noqa: B010

    def revert(self) -> None:
        if self._originals:
            module = self._module
            setattr(module.HTTPTransport, "handle_request", self._originals["sync"])  # noqa: B010
            setattr(module.AsyncHTTPTransport, "handle_async_request", self._originals["async"])  # noqa: B010
            self._originals = {}
