"""Reading a blocking iterator from async code: items, errors, context, early stop."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator

import pytest

from otel_chatbot.demo.chatbot.threads import iterate_in_thread

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


async def collect(make: object) -> list[object]:
    return [item async for item in iterate_in_thread(make)]  # type: ignore[arg-type]


def test_items_arrive_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def numbers() -> Iterator[int]:
        threads.add(threading.current_thread().name)
        yield from range(5)

    assert asyncio.run(collect(numbers)) == [0, 1, 2, 3, 4]
    assert threads and threading.main_thread().name not in threads


def test_the_callers_context_goes_along() -> None:
    def read() -> Iterator[str]:
        yield request_id.get()

    async def go() -> list[object]:
        request_id.set("req-7")
        return await collect(read)

    assert asyncio.run(go()) == ["req-7"]


def test_errors_are_raised_in_the_consumer() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise LookupError("stream broke")

    async def go() -> list[int]:
        seen: list[int] = []
        with pytest.raises(LookupError, match="stream broke"):
            async for item in iterate_in_thread(failing):
                seen.append(item)
        return seen

    assert asyncio.run(go()) == [1]


def test_stopping_early_closes_the_stream() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    async def go() -> None:
        stream = iterate_in_thread(endless)
        async for item in stream:
            if item == 3:
                break
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(go())
    assert closed.wait(5)
