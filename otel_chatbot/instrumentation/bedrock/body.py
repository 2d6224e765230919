"""An InvokeModel answer read as the app reads it, never ahead of it.

botocore hands the app a ``StreamingBody`` over the open connection. Reading it first and
handing over a copy (as upstream's Bedrock extension does, and ours did) changes what the
app sees when the body breaks: the app's ``read()`` should raise botocore's
``ResponseStreamingError`` and raised ``IncompleteReadError: 0 read`` instead. So the body
is re-issued as an :func:`observed body <observe>`: a ``StreamingBody`` over the same
connection and ``Content-Length``, on which botocore's own read and length check run,
that reports each chunk the app reads. Whatever the app does (``read()``, ``read(n)``,
``iter_lines()``, ``readinto()``) it gets the bytes and the exceptions it would get
without us.

The span ends when the body does: read to its length (the answer is parsed then; a body
that is not JSON is ``error.type=malformed_response``), broken (``error.type`` is the
exception's class, e.g. ``ResponseStreamingError``), or closed or dropped before its end
(``cancelled``). Bedrock's usage headers give the tokens in every case. The answer's
bytes are kept as the app reads them (the app's own ``bytes`` objects, no copy) up to
:data:`~otel_chatbot.instrumentation.genai.body.KEPT_BODY_BYTES`; a larger body is
recorded from its headers only.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span

from otel_chatbot.genai._coerce import parse_json_object
from otel_chatbot.guard import report
from otel_chatbot.instrumentation.genai.body import CANCELLED, KEPT_BODY_BYTES, MALFORMED_RESPONSE, Once

if TYPE_CHECKING:
    from otel_chatbot.instrumentation.bedrock.extension import BedrockCall


class InvokeModelAnswer:
    """What the app has read of one InvokeModel body; ends the call's span exactly once."""

    __slots__ = ("_call", "_chunks", "_key", "_once", "_rest", "_size", "_span", "expected")

    def __init__(self, call: BedrockCall, span: Span, result: dict[str, Any], key: str) -> None:
        self._call = call
        self._span = span
        self._key = key
        self._rest = {name: value for name, value in result.items() if name != key}
        self._chunks: list[bytes] | None = []
        self._size = 0
        self._once = Once()
        self.expected = _content_length(result)
        """The announced body length (None: not announced); reading this many bytes is the end."""

    @property
    def all_read(self) -> bool:
        """Whether the app has read as many bytes as were announced."""
        return self.expected is not None and self._size >= self.expected

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        chunks = self._chunks
        if chunks is not None:
            chunks.append(chunk)
            if self._size > KEPT_BODY_BYTES:
                self._chunks = None  # too large to keep: recorded from the headers

    def complete(self) -> None:
        """The body was read to its end (botocore checked its length)."""
        if not self._once.claim():
            return
        try:
            chunks, self._chunks = self._chunks, None
            if chunks is None:
                self._call.record_answer(self._span, {**self._rest, self._key: None}, readable=False)
            else:
                data = b"".join(chunks)
                answer = parse_json_object(data)
                error_type = MALFORMED_RESPONSE if data.strip() and not answer else None
                result = {**self._rest, self._key: answer}
                self._call.record_answer(self._span, result, readable=error_type is None, error_type=error_type)
        except Exception as exc:
            report("bedrock answer body", exc)
        self._call.telemetry.end_span(self._span)

    def close(self, read_to_end: bool = False) -> None:
        """The app closed or dropped the body: its end if all of it was read, else cancelled."""
        if read_to_end or self.all_read:
            self.complete()
        else:
            self._abandon(CANCELLED, None)

    def fail(self, error: BaseException) -> None:
        """Reading raised ``error``; the app gets it as it is."""
        from otel_chatbot.instrumentation.botocore import error_type_of

        self._abandon(error_type_of(error), error)

    def _abandon(self, error_type: str, error: BaseException | None) -> None:
        if not self._once.claim():
            return
        self._chunks = None
        try:
            if error is not None:
                self._span.record_exception(error)
            self._call.record_answer(self._span, {**self._rest, self._key: None}, readable=False, error_type=error_type)
        except Exception as exc:
            report("bedrock answer body", exc)
        self._call.telemetry.end_span(self._span)


def _content_length(result: dict[str, Any]) -> int | None:
    meta = result.get("ResponseMetadata")
    headers = meta.get("HTTPHeaders") if isinstance(meta, dict) else None
    value = headers.get("content-length") if isinstance(headers, dict) else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def observe(body: Any, answer: InvokeModelAnswer) -> Any | None:
    """``body`` re-issued so that ``answer`` sees what the app reads; None if the body is not one we know.

    The one door to botocore internals here: a ``StreamingBody`` (botocore's, or aiobotocore's
    async ones built on it) keeps its connection and announced length in ``_raw_stream`` and
    ``_content_length`` (botocore 1.2x-1.4x, aiobotocore 2.x-3.x). A body without them, or of
    another class, is left to the app unread, and the call is recorded from its headers.
    """
    body_class = _observed_body_class(body.__class__)
    if body_class is None:
        return None
    raw = getattr(body, "_raw_stream", None)
    if raw is None or not hasattr(body, "_content_length"):
        return None
    length = body._content_length
    return body_class(raw, length, answer)


def _read_to_end(raw: Any, expected: int | None) -> bool:
    """Whether the app read the whole body past us (``with body as raw``: botocore hands out the raw stream)."""
    try:
        return expected is not None and int(raw.tell()) >= expected
    except Exception:
        return False


def _dropped(answer: InvokeModelAnswer, raw: Any) -> None:
    try:
        answer.close(_read_to_end(raw, answer.expected))
    except Exception as exc:
        report("bedrock answer body", exc)


def _closed(answer: InvokeModelAnswer) -> None:
    try:
        answer.close()
    except Exception as exc:
        report("bedrock answer body", exc)


def _read(answer: InvokeModelAnswer, amt: int | None, chunk: bytes) -> bytes:
    """What ``read(amt)`` returned: fed to ``answer``, and the end when botocore checked the length or all is in."""
    if chunk:
        answer.feed(chunk)
    if amt is None or (not chunk and amt > 0) or answer.all_read:
        answer.complete()
    return chunk


def _read_into(answer: InvokeModelAnswer, b: Any, count: int) -> int:
    if count:
        answer.feed(bytes(memoryview(b)[:count]))
    if (not count and len(b) > 0) or answer.all_read:
        answer.complete()
    return count


def _reading(answer: InvokeModelAnswer, read: Callable[..., Any], *args: Any) -> Any:
    """``read(*args)``; what it raises is reported to ``answer`` and passed on unchanged."""
    try:
        return read(*args)
    except BaseException as exc:
        answer.fail(exc)
        raise


async def _reading_async(answer: InvokeModelAnswer, read: Callable[..., Any], *args: Any) -> Any:
    try:
        return await read(*args)
    except BaseException as exc:
        answer.fail(exc)
        raise


@functools.cache
def _observed_body_class(base: type[Any]) -> type[Any] | None:
    """The observing subclass of ``base``, if it is a body class we know (built on first use, once per class)."""
    from botocore.response import StreamingBody

    if base is StreamingBody:
        return _sync_body_class(base)
    try:
        from aiobotocore.response import AioStreamingBodyBase
    except ImportError:
        return None
    if issubclass(base, AioStreamingBodyBase) and base.__module__ == AioStreamingBodyBase.__module__:
        return _async_body_class(base)
    return None


def _sync_body_class(base: type[Any]) -> type[Any]:
    class ObservedStreamingBody(base):  # type: ignore[misc]
        """botocore's ``StreamingBody``, unchanged, plus a report of every chunk read through it."""

        def __init__(self, raw_stream: Any, content_length: Any, answer: InvokeModelAnswer) -> None:
            super().__init__(raw_stream, content_length)
            self._answer = answer
            weakref.finalize(self, _dropped, answer, raw_stream)

        def read(self, amt: int | None = None) -> bytes:
            return _read(self._answer, amt, _reading(self._answer, super().read, amt))

        def readinto(self, b: Any) -> int:
            return _read_into(self._answer, b, _reading(self._answer, super().readinto, b))

        def readlines(self) -> list[bytes]:
            answer = self._answer
            lines: list[bytes] = _reading(answer, super().readlines)  # botocore reads the raw stream here
            answer.feed(b"".join(lines))
            answer.complete()
            return lines

        def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
            """``with body as raw:`` read the raw stream past us: its end, or what broke it, is all there is to see."""
            answer, raw = self._answer, self._raw_stream
            read_to_end = _read_to_end(raw, answer.expected)
            try:
                super().__exit__(kind, error, traceback)
            finally:
                if error is not None and not read_to_end:
                    answer.fail(error)
                else:
                    answer.close(read_to_end)

        def close(self) -> None:
            try:
                super().close()
            finally:
                _dropped(self._answer, self._raw_stream)

    return ObservedStreamingBody


def _async_body_class(base: type[Any]) -> type[Any]:
    class ObservedAioStreamingBody(base):  # type: ignore[misc]
        """aiobotocore's async body, unchanged, plus a report of every chunk read through it.

        Its ``readlines``, ``iter_lines``, ``iter_chunks`` and ``async for`` all read through ``read``.
        """

        def __init__(self, raw_stream: Any, content_length: Any, answer: InvokeModelAnswer) -> None:
            super().__init__(raw_stream, content_length)
            self._answer = answer
            weakref.finalize(self, _closed, answer)

        async def read(self, amt: int | None = None) -> bytes:
            return _read(self._answer, amt, await _reading_async(self._answer, super().read, amt))

        async def readinto(self, b: Any) -> int:
            return _read_into(self._answer, b, await _reading_async(self._answer, super().readinto, b))

        def close(self) -> None:  # aclose() and ``async with`` end here too
            try:
                super().close()
            finally:
                _closed(self._answer)

    return ObservedAioStreamingBody
