"""Consume a blocking iterator (a boto3 event stream) from async code without blocking the loop.

boto3 reads its event streams with blocking socket calls. The iterator is opened and read
in its own thread, inside a copy of the caller's context so the request's trace context
follows the Bedrock call; items are handed to the event loop one by one. When the consumer
stops early (the client hung up), the thread stops after the current item and closes the
stream, which releases the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class _Message(Generic[T]):
    __slots__ = ("error", "item", "last")

    def __init__(self, item: T | None = None, error: BaseException | None = None, last: bool = False) -> None:
        self.item = item
        self.error = error
        self.last = last


async def iterate_in_thread(open_stream: Callable[[], Iterator[T]], *, name: str = "stream") -> AsyncGenerator[T, None]:
    """Yield what ``open_stream()`` yields; both the call and the reads run off the loop."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[_Message[T]] = asyncio.Queue()
    stopped = threading.Event()

    def deliver(message: _Message[T]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, message)

    def work() -> None:
        try:
            iterator = open_stream()
            try:
                for item in iterator:
                    deliver(_Message(item))
                    if stopped.is_set():
                        break
            finally:
                close = getattr(iterator, "close", None)
                if callable(close):
                    close()
        except BaseException as exc:  # handed to the consumer, which re-raises it
            deliver(_Message(error=exc, last=True))
        else:
            deliver(_Message(last=True))

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(work,), name=name, daemon=True).start()
    try:
        while True:
            message = await queue.get()
            if message.error is not None:
                raise message.error
            if message.last:
                return
            yield cast(T, message.item)
    finally:
        stopped.set()
