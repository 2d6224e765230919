"""aiohttp client: a ``TraceConfig`` (aiohttp's public tracing hooks) added to every session.

aiohttp tells the hooks the request body only as it is sent (``on_request_chunk_sent``),
after the span started: a recognised GenAI call collects it (only such calls do, up to a
bound) and its span becomes the GenAI span when the response arrives. The answer is
observed by putting a :class:`ObservedContent` in place of ``response.content``, the
``StreamReader`` every read goes through (``read()``, ``json()``, ``iter_*``, line
iteration); it returns what the reader returns and raises what it raises. aiohttp hands
over decoded bytes, so no decompression is needed.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from otel_chatbot.guard import report
from otel_chatbot.instrumentation.genai.body import BodyObserver
from otel_chatbot.instrumentation.genai.http import REQUEST_BODY_LIMIT
from otel_chatbot.instrumentation.http_client import ClientTelemetry, OutgoingCall


class ObservedContent:
    """Stands in for a response's ``StreamReader``: every read is reported to the observer, then returned."""

    def __init__(self, inner: Any, observer: BodyObserver) -> None:
        self._inner = inner
        self._observer = observer
        weakref.finalize(self, observer.close)

    def _seen(self, data: bytes) -> bytes:
        observer = self._observer
        if data:
            try:
                observer.feed(data)
            except Exception as exc:
                report("aiohttp body", exc)
        if self._inner.at_eof():
            observer.complete()
        return data

    async def _read(self, read: Callable[[], Awaitable[bytes]]) -> bytes:
        try:
            data = await read()
        except BaseException as exc:
            self._observer.fail(exc)
            raise
        return self._seen(data)

    async def read(self, n: int = -1) -> bytes:
        return await self._read(lambda: self._inner.read(n))

    async def readany(self) -> bytes:
        return await self._read(self._inner.readany)

    async def readline(self) -> bytes:
        return await self._read(self._inner.readline)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        return await self._read(lambda: self._inner.readuntil(separator))

    async def readexactly(self, n: int) -> bytes:
        return await self._read(lambda: self._inner.readexactly(n))

    async def readchunk(self) -> tuple[bytes, bool]:
        try:
            data, end_of_chunk = await self._inner.readchunk()
        except BaseException as exc:
            self._observer.fail(exc)
            raise
        return self._seen(data), end_of_chunk

    def read_nowait(self, n: int = -1) -> bytes:
        return self._seen(self._inner.read_nowait(n))

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        return _until_empty(lambda: self.read(n))

    def iter_any(self) -> AsyncIterator[bytes]:
        return _until_empty(self.readany)

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        while True:
            chunk = await self.readchunk()
            if chunk == (b"", False):
                return
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _until_empty(self.readline)

    def set_exception(self, exc: BaseException, *args: Any) -> None:
        """What ``release()`` / ``close()`` call on an unfinished body: the app let the answer go."""
        try:
            self._inner.set_exception(exc, *args)
        finally:
            self._observer.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def _until_empty(read: Callable[[], Awaitable[bytes]]) -> AsyncIterator[bytes]:
    while True:
        data = await read()
        if not data:
            return
        yield data


class AiohttpInstrumentation:
    def __init__(self, telemetry: ClientTelemetry) -> None:
        self.telemetry = telemetry
        self._original_init: Any = None

    def trace_config(self) -> Any:
        import aiohttp

        telemetry = self.telemetry

        async def on_start(session: Any, ctx: Any, params: Any) -> None:
            try:
                carrier: dict[str, str] = {}
                ctx.otel_call = telemetry.start(params.method, str(params.url), carrier, params.headers, is_async=True)
                ctx.otel_body = []
                for key, value in carrier.items():
                    params.headers[key] = value
            except Exception as exc:
                ctx.otel_call = None
                report("aiohttp request start", exc)

        async def on_chunk_sent(session: Any, ctx: Any, params: Any) -> None:
            call: OutgoingCall | None = getattr(ctx, "otel_call", None)
            if call is not None and call.pending is not None:
                body: list[bytes] = ctx.otel_body
                if sum(map(len, body)) <= REQUEST_BODY_LIMIT:
                    body.append(params.chunk)

        async def on_end(session: Any, ctx: Any, params: Any) -> None:
            call: OutgoingCall | None = getattr(ctx, "otel_call", None)
            if call is None:
                return
            try:
                if call.pending is not None:
                    call.request_body(b"".join(ctx.otel_body))
                response = params.response
                version = response.version
                observer = call.respond(
                    response.status, f"{version.major}.{version.minor}" if version else None, response.headers
                )
                if observer is not None:
                    response.content = ObservedContent(response.content, observer)
            except Exception as exc:
                report("aiohttp request end", exc)

        async def on_exception(session: Any, ctx: Any, params: Any) -> None:
            call: OutgoingCall | None = getattr(ctx, "otel_call", None)
            if call is not None:
                try:
                    if call.pending is not None:
                        call.request_body(b"".join(ctx.otel_body))
                    call.fail(params.exception)
                except Exception as exc:
                    report("aiohttp request error", exc)

        config = aiohttp.TraceConfig()
        config.on_request_start.append(on_start)
        if telemetry.genai is not None:
            config.on_request_chunk_sent.append(on_chunk_sent)
        config.on_request_end.append(on_end)
        config.on_request_exception.append(on_exception)
        config.freeze()
        return config

    def apply(self) -> None:
        import aiohttp

        if self._original_init is not None:
            return
        original = aiohttp.ClientSession.__init__
        shared_config = self.trace_config()

        def __init__(session: Any, *args: Any, **kwargs: Any) -> None:
            try:
                configs = list(kwargs.get("trace_configs") or [])
                configs.append(shared_config)
                kwargs["trace_configs"] = configs
            except Exception as exc:
                report("aiohttp session", exc)
            original(session, *args, **kwargs)

        self._original_init = original
        setattr(aiohttp.ClientSession, "__init__", __init__)  # noqa: B010

    def revert(self) -> None:
        import aiohttp

        if self._original_init is not None:
            setattr(aiohttp.ClientSession, "__init__", self._original_init)  # noqa: B010
            self._original_init = None
