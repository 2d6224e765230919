"""Proxies for botocore's event streams whose span ends exactly once, whatever happens to the stream.

A Bedrock stream (ConverseStream ``stream``, InvokeModelWithResponseStream ``body``,
InvokeAgent ``completion``) outlives the SDK call. The proxy feeds every event to the
call's :class:`~otel_chatbot.instrumentation.genai.stream_state.StreamState` and ends
the span on completion, on an in-stream or connection error, when the caller closes the
iterator, and (through a finalizer) when the caller drops it without finishing. Events
reach the caller unchanged.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

from otel_chatbot.instrumentation.genai.stream_state import StreamState


def _stream_error(exc: BaseException) -> str:
    """``cancelled`` when the caller closed the iterator, else the AWS error code or class name.

    botocore's ``EventStreamError`` carries the exception event's name as its code
    (``throttlingException``); the service's code is capitalised (``ThrottlingException``),
    as the same error gets when the call itself is rejected, so throttling counts either way.
    """
    if isinstance(exc, GeneratorExit):
        return "cancelled"
    from otel_chatbot.instrumentation.botocore import error_type_of

    code = error_type_of(exc)
    return code[0].upper() + code[1:] if code.endswith("Exception") else code


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

    @property  # type: ignore[misc]
    def __class__(self) -> type[Any]:
        """``isinstance()`` sees the stream botocore made, as the app would without us."""
        return type(self._inner)


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
