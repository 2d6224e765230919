"""Stream wrappers whose span ends exactly once, whatever happens to the stream.

A Bedrock stream (ConverseStream ``stream``, InvokeModelWithResponseStream ``body``,
InvokeAgent ``completion``) outlives the SDK call. The wrapper feeds every event to an
accumulator and ends the span on completion, on an in-stream or connection error, when
the caller closes the iterator, and — through a finalizer — when the caller drops it
without finishing. Events reach the caller unchanged.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from otel_chatbot.guard import report

Finish = Callable[["StreamState", str | None], None]


class StreamState:
    """What a stream has shown so far; ``finish`` runs once."""

    def __init__(self, accumulator: Any, finish: Finish) -> None:
        self.accumulator = accumulator
        self._finish = finish
        self._lock = threading.Lock()
        self.done = False
        self.started = time.perf_counter()
        self.first_chunk_at: float | None = None
        self.chunk_times: list[float] = []

    def feed(self, event: Any) -> None:
        try:
            before = self.accumulator.chunks
            self.accumulator.feed(event)
            if self.accumulator.chunks > before:
                now = time.perf_counter()
                if self.first_chunk_at is None:
                    self.first_chunk_at = now
                self.chunk_times.append(now)
        except Exception as exc:
            report("bedrock stream event", exc)

    def finish(self, error_type: str | None) -> None:
        with self._lock:
            if self.done:
                return
            self.done = True
        try:
            self._finish(self, error_type)
        except Exception as exc:
            report("bedrock stream end", exc)


def _stream_error(exc: BaseException) -> str:
    """``cancelled`` when the caller closed the iterator, else the AWS error code or class name."""
    if isinstance(exc, GeneratorExit):
        return "cancelled"
    from otel_chatbot.instrumentation.botocore import error_type_of

    return error_type_of(exc)


def _abandoned(state: StreamState) -> None:
    state.finish("cancelled")


class _StreamProxy:
    """What both proxies share: the finalizer, ``close`` and pass-through of everything else."""

    def __init__(self, inner: Any, state: StreamState) -> None:
        self._inner = inner
        self._state = state
        weakref.finalize(self, _abandoned, state)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._state.finish("cancelled")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class TracedEventStream(_StreamProxy):
    """Proxy for ``botocore.eventstream.EventStream`` (sync)."""

    def __iter__(self) -> Iterator[Any]:
        return _iterate(self._inner, self._state)


def _iterate(inner: Any, state: StreamState) -> Iterator[Any]:
    try:
        for event in inner:
            state.feed(event)
            yield event
    except BaseException as exc:
        state.finish(_stream_error(exc))
        raise
    state.finish(None)


class TracedAsyncEventStream(_StreamProxy):
    """Proxy for aiobotocore's ``AioEventStream``."""

    def __aiter__(self) -> AsyncIterator[Any]:
        return _aiterate(self._inner, self._state)

    async def __aenter__(self) -> TracedAsyncEventStream:
        if hasattr(self._inner, "__aenter__"):
            await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            if hasattr(self._inner, "__aexit__"):
                await self._inner.__aexit__(*exc)
        finally:
            self._state.finish("cancelled")


async def _aiterate(inner: Any, state: StreamState) -> AsyncIterator[Any]:
    try:
        async for event in inner:
            state.feed(event)
            yield event
    except BaseException as exc:
        state.finish(_stream_error(exc))
        raise
    state.finish(None)
