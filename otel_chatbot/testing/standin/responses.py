"""What an operation hands back to the HTTP layer: a JSON document or a lazy event stream.

Operations stay free of sockets; the server decides how to write (and, when a fault asks,
how to break) what they return. Usage travels with the exact body or event that reports it,
so the ledger records tokens only once the client could actually see them. Every stand-in
(Bedrock's event streams, OpenAI's and Anthropic's server-sent events, Ollama's NDJSON) hands
back these same objects; only the bytes of a frame differ.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from otel_chatbot.testing.standin.usage import Usage

JsonObject = dict[str, Any]


@dataclass
class JsonResponse:
    """A complete ``application/json`` answer."""

    body: JsonObject
    headers: dict[str, str] = field(default_factory=dict)
    usage: Usage | None = None


@dataclass(frozen=True)
class StreamEvent:
    """One encoded stream frame (bytes on the wire), plus the usage it reports to the client (if any)."""

    frame: bytes
    usage: Usage | None = None


@dataclass
class StreamResponse:
    """A stream of frames; they are produced lazily so latencies reflect real write times."""

    events: Iterator[StreamEvent]
    headers: dict[str, str] = field(default_factory=dict)


Response = JsonResponse | StreamResponse


class Clock:
    """Milliseconds since the request arrived, for latency fields and metrics."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self._start) * 1000)
