"""Incremental decoders for streamed HTTP bodies: server-sent events and newline-delimited JSON.

The wiring hands over the body's bytes as the app reads them, in chunks of any size and
split anywhere (inside a line, inside a UTF-8 sequence, between ``\\r`` and ``\\n``); a
decoder returns the complete events each chunk finished. Memory is bounded: only the
unfinished line is kept, and a line longer than :data:`MAX_LINE_BYTES` is dropped whole
(counted in ``dropped``) rather than buffered. Work per chunk is proportional to its size.
Decoding never raises; a malformed line is skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

MAX_LINE_BYTES = 1 << 20
"""Longest line kept (1 MiB): a provider's event is far smaller; anything longer is not ours to buffer."""


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One SSE event: its ``event:`` name (``message`` when absent) and its ``data:`` lines joined."""

    event: str
    data: str

    def json(self) -> dict[str, Any]:
        """The data as a JSON object; ``{}`` for ``[DONE]``, an empty or malformed payload."""
        if not self.data or self.data == "[DONE]":
            return {}
        try:
            decoded = json.loads(self.data)
        except (ValueError, RecursionError):
            return {}
        return decoded if type(decoded) is dict else {}


class Decoder(Protocol):
    """Turns body chunks into events; what an event is depends on the framing."""

    dropped: int

    def feed(self, chunk: bytes) -> list[Any]: ...

    def flush(self) -> list[Any]:
        """The events a body that ended without a final newline still completes."""
        ...


class _Lines:
    """Splits bytes into lines (``\\n``, ``\\r\\n`` or ``\\r``), keeping only the unfinished one."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._skipping = False  # inside an over-long line: drop until its end
        self._after_cr = False  # the last chunk ended in \r: a leading \n belongs to it
        self.dropped = 0

    def idle(self) -> bool:
        """Nothing carried over from earlier chunks: the next chunk starts a line."""
        return not self._pending and not self._skipping and not self._after_cr

    def feed(self, chunk: bytes) -> list[bytes]:
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._after_cr = chunk.endswith(b"\r")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines: list[bytes] = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            piece = chunk[start:end]
            if self._skipping:
                self._skipping = False
            elif len(self._pending) + len(piece) > MAX_LINE_BYTES:
                self.dropped += 1
                self._pending.clear()
            elif self._pending:
                self._pending += piece
                lines.append(bytes(self._pending))
                self._pending.clear()
            else:
                lines.append(piece)
            start = end + 1
        rest = chunk[start:]
        if rest and not self._skipping:
            if len(self._pending) + len(rest) > MAX_LINE_BYTES:
                self.dropped += 1
                self._pending.clear()
                self._skipping = True
            else:
                self._pending += rest
        return lines

    def flush(self) -> list[bytes]:
        if self._skipping or not self._pending:
            return []
        line = bytes(self._pending)
        self._pending.clear()
        return [line]


class SSEDecoder:
    """Server-sent events (the WHATWG event-stream format OpenAI and Anthropic stream in)."""

    def __init__(self) -> None:
        self._lines = _Lines()
        self._event = ""
        self._data: list[str] = []

    @property
    def dropped(self) -> int:
        return self._lines.dropped

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if not self._data and not self._event and self._lines.idle():
            events = _whole_data_events(chunk)
            if events is not None:
                return events
        return self._decode(self._lines.feed(chunk))

    def flush(self) -> list[ServerSentEvent]:
        events = self._decode(self._lines.flush())
        if self._data:  # a stream that ended without the blank line still delivered its last event
            events.append(self._dispatch())
        return events

    def _decode(self, lines: list[bytes]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for raw in lines:
            if not raw:
                if self._data:
                    events.append(self._dispatch())
                else:
                    self._event = ""
                continue
            line = raw.decode("utf-8", "replace")
            field, colon, value = line.partition(":")
            if not colon:
                value = ""
            elif value.startswith(" "):
                value = value[1:]
            if field == "data":
                self._data.append(value)
            elif field == "event":
                self._event = value
            # comments (":") and id/retry fields carry nothing we read
        return events

    def _dispatch(self) -> ServerSentEvent:
        event = ServerSentEvent(self._event or "message", "\n".join(self._data))
        self._event = ""
        self._data = []
        return event


def _whole_data_events(chunk: bytes) -> list[ServerSentEvent] | None:
    """The events of a chunk of whole one-line ``data: ...`` events, or None: decode it the general way.

    The common chunk of a provider's stream (``data: {json}\\n\\n``, one event or a few, no
    ``\\r``, nothing left over from the chunk before) in one decode and one split, instead of
    line by line; what :meth:`SSEDecoder.feed` gives for it when nothing is pending. Lines
    end at ASCII ``\\n`` only, so decoding the chunk at once decodes each line the same.
    """
    if not chunk.endswith(b"\n\n") or b"\r" in chunk or len(chunk) > MAX_LINE_BYTES:
        return None
    events = []
    for block in chunk[:-2].decode("utf-8", "replace").split("\n\n"):
        if not block.startswith("data: ") or "\n" in block:
            return None
        events.append(ServerSentEvent("message", block[6:]))
    return events


class NDJSONDecoder:
    """Newline-delimited JSON (Ollama's native streams): one JSON object per line."""

    def __init__(self) -> None:
        self._lines = _Lines()

    @property
    def dropped(self) -> int:
        return self._lines.dropped

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        return _objects(self._lines.feed(chunk))

    def flush(self) -> list[dict[str, Any]]:
        return _objects(self._lines.flush())


def _objects(lines: list[bytes]) -> list[dict[str, Any]]:
    found = []
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            found.append(value)
    return found
