"""What an operation hands back to the HTTP layer: a JSON document or a lazy event stream.

Operations stay free of sockets; the server decides how to write (and, when a fault asks,
how to break) what they return. Usage travels with the exact body or event that reports it,
so the ledger records tokens only once the client could actually see them.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from otel_chatbot.testing.bedrock.usage import Usage

JsonObject = dict[str, Any]

_PADDING_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass
class JsonResponse:
    """A complete ``application/json`` answer."""

    body: JsonObject
    headers: dict[str, str] = field(default_factory=dict)
    usage: Usage | None = None


@dataclass(frozen=True)
class StreamEvent:
    """One encoded event-stream frame, plus the usage it reports to the client (if any)."""

    frame: bytes
    usage: Usage | None = None


@dataclass
class StreamResponse:
    """An event stream; events are produced lazily so latencies reflect real write times."""

    events: Iterator[StreamEvent]
    headers: dict[str, str] = field(default_factory=dict)


Response = JsonResponse | StreamResponse


class Clock:
    """Milliseconds since the request arrived, for latency fields and metrics."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self._start) * 1000)


def padding(index: int) -> str:
    """Bedrock pads stream payloads with a ``p`` field of varying length; clients must ignore it."""
    return _PADDING_ALPHABET[: 4 + (index * 7) % 40]


def bytes_payload(payload: Mapping[str, Any], index: int) -> JsonObject:
    """A ``chunk`` event body: the model's JSON, base64 encoded under ``bytes`` (a blob member)."""
    raw = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return {"bytes": base64.b64encode(raw).decode("ascii"), "p": padding(index)}
