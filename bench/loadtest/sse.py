"""A line-at-a-time server-sent-events parser, enough for chat streams.

The SSE user must see each event the moment its blank line arrives (that instant is the
time to first event), so it reads the body line by line and feeds this parser, rather than
buffering the whole body. It follows the spec's field rules for ``event``, ``data`` (joined
with newlines), comments and CR/LF endings; ``id`` and ``retry`` are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    event: str
    """``message`` unless the server named it (the example app sends ``done`` and ``error``)."""
    data: str


class SseParser:
    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> SseEvent | None:
        """One line (with or without its ending); returns the event a blank line completes."""
        line = line.rstrip("\r\n")
        if not line:
            if not self._data and not self._event:
                return None
            event = SseEvent(self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None
