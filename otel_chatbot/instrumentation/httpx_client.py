"""httpx (sync and async): wrap the transports, where every request passes once."""

from __future__ import annotations

from typing import Any

from otel_chatbot.guard import report
from otel_chatbot.instrumentation.http_client import ClientTelemetry, OutgoingCall, http_version


def _start(telemetry: ClientTelemetry, request: Any) -> OutgoingCall | None:
    try:
        carrier: dict[str, str] = {}
        call = telemetry.start(request.method, str(request.url), carrier)
        for key, value in carrier.items():
            request.headers[key] = value
        return call
    except Exception as exc:
        report("httpx request start", exc)
        return None


def _end(call: OutgoingCall | None, response: Any = None, error: BaseException | None = None) -> None:
    if call is None:
        return
    try:
        if response is not None:
            version = response.extensions.get("http_version", b"HTTP/1.1")
            call.end(response.status_code, http_version(version.decode("ascii", "replace")))
        else:
            call.end(error=error)
    except Exception as exc:
        report("httpx request end", exc)


class HttpxInstrumentation:
    def __init__(self, telemetry: ClientTelemetry) -> None:
        self.telemetry = telemetry
        self._originals: dict[str, Any] = {}

    def apply(self) -> None:
        import httpx

        if self._originals:
            return
        telemetry = self.telemetry
        sync_original = httpx.HTTPTransport.handle_request
        async_original = httpx.AsyncHTTPTransport.handle_async_request

        def handle_request(transport: Any, request: Any) -> Any:
            call = _start(telemetry, request)
            try:
                response = sync_original(transport, request)
            except BaseException as exc:
                _end(call, error=exc)
                raise
            _end(call, response)
            return response

        async def handle_async_request(transport: Any, request: Any) -> Any:
            call = _start(telemetry, request)
            try:
                response = await async_original(transport, request)
            except BaseException as exc:
                _end(call, error=exc)
                raise
            _end(call, response)
            return response

        self._originals = {"sync": sync_original, "async": async_original}
        setattr(httpx.HTTPTransport, "handle_request", handle_request)  # noqa: B010
        setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)  # noqa: B010

    def revert(self) -> None:
        import httpx

        if self._originals:
            setattr(httpx.HTTPTransport, "handle_request", self._originals["sync"])  # noqa: B010
            setattr(httpx.AsyncHTTPTransport, "handle_async_request", self._originals["async"])  # noqa: B010
            self._originals = {}
