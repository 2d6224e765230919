"""A real ``httpx.Client`` whose connection pool answers from a function instead of a socket.

httpx's ``HTTPTransport`` (where the distro's httpx instrumentation sits) hands each request
to an httpcore connection pool; this pool answers it in-process, as a server would have:
status, headers and the body in the chunks given (so a stream can arrive cut anywhere).
Everything above the pool is the real client, so a fuzz case costs microseconds, not a
socket round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpcore
import httpx

Answer = tuple[int, Sequence[tuple[bytes, bytes]], Sequence[bytes]]
"""Status, headers and the body's chunks."""


class _Chunks:
    def __init__(self, chunks: Sequence[bytes], error: BaseException | None) -> None:
        self._chunks = chunks
        self._error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        pass


class CannedPool:
    """httpcore's pool interface: ``answer(request)`` decides each response; ``cut`` breaks each body at its end."""

    def __init__(self, answer: Callable[[httpcore.Request], Answer], cut: bool = False) -> None:
        self.answer = answer
        self.cut = cut

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        status, headers, chunks = self.answer(request)
        error = httpcore.RemoteProtocolError("peer closed connection without sending complete message body")
        return httpcore.Response(status, headers=list(headers), content=_Chunks(chunks, error if self.cut else None))

    def close(self) -> None:
        pass

    def __enter__(self) -> CannedPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def canned_client(answer: Callable[[httpcore.Request], Answer], cut: bool = False) -> httpx.Client:
    transport = httpx.HTTPTransport()
    transport._pool = CannedPool(answer, cut)  # type: ignore[assignment]
    return httpx.Client(transport=transport)
