"""The event-stream proxies: events pass unchanged, and every way a stream stops ends it once."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from botocore.exceptions import EventStreamError
from opentelemetry.trace import INVALID_SPAN

from otel_chatbot.genai.streams import ConverseStreamAccumulator
from otel_chatbot.instrumentation.bedrock.streams import TracedAsyncEventStream, TracedEventStream
from otel_chatbot.instrumentation.genai.stream_state import StreamState

EVENTS = [{"messageStart": {"role": "assistant"}}, {"contentBlockDelta": {"delta": {"text": "hi"}}}]


class Ends:
    def __init__(self) -> None:
        self.ends: list[str | None] = []

    def end_stream(self, state: StreamState, error_type: str | None) -> None:
        self.ends.append(error_type)


class Inner:
    """Like botocore's EventStream: iterable once, closable, with attributes of its own."""

    def __init__(self, events: list[Any], error: BaseException | None = None) -> None:
        self.events, self.error, self.closed, self.request_id = events, error, False, "r-1"

    def __iter__(self) -> Iterator[Any]:
        yield from self.events
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[Any]:
        for event in self.events:
            yield event

    def close(self) -> None:
        self.closed = True


def proxy(inner: Inner) -> tuple[TracedEventStream, Ends]:
    ends = Ends()
    return TracedEventStream(inner, StreamState(ends, INVALID_SPAN, ConverseStreamAccumulator())), ends  # type: ignore[arg-type]


def test_events_pass_unchanged_and_the_end_is_reported_once() -> None:
    stream, ends = proxy(Inner(EVENTS))
    assert list(stream) == EVENTS
    stream.close()
    assert ends.ends == [None]
    assert stream.request_id == "r-1"  # everything else is the inner stream's


def test_an_in_stream_exception_ends_it_with_the_services_code() -> None:
    error = EventStreamError({"Error": {"Code": "throttlingException", "Message": "slow down"}}, "ConverseStream")
    stream, ends = proxy(Inner(EVENTS, error))
    with pytest.raises(EventStreamError) as info:
        list(stream)
    assert info.value is error
    assert ends.ends == ["ThrottlingException"]


def test_closing_early_or_dropping_it_is_cancelled() -> None:
    stream, ends = proxy(Inner(EVENTS))
    iterator = iter(stream)
    next(iterator)
    stream.close()
    dropped, dropped_ends = proxy(Inner(EVENTS))
    next(iter(dropped))
    del dropped
    gc.collect()
    assert (ends.ends, dropped_ends.ends) == (["cancelled"], ["cancelled"])


def test_the_async_proxy() -> None:
    ends = Ends()
    stream = TracedAsyncEventStream(Inner(EVENTS), StreamState(ends, INVALID_SPAN, ConverseStreamAccumulator()))  # type: ignore[arg-type]

    async def read() -> list[Any]:
        return [event async for event in stream]

    assert asyncio.run(read()) == EVENTS
    assert ends.ends == [None]
