"""What a streamed answer has shown so far, and the one place its span's end is decided.

Whatever wraps the stream (botocore's event streams today) feeds every event here and
calls :meth:`StreamState.finish` on completion, error, close or abandonment, possibly
from several places and threads: the call's ``end_stream`` runs once.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span

from otel_chatbot.genai.operations import StreamAccumulator
from otel_chatbot.guard import report

if TYPE_CHECKING:
    from otel_chatbot.instrumentation.genai.call import GenAICall


class StreamState:
    """One stream: its accumulator, when its content chunks arrived, and whether it has ended."""

    __slots__ = ("_lock", "accumulator", "call", "chunk_times", "done", "first_chunk_at", "span")

    def __init__(self, call: GenAICall, span: Span, accumulator: StreamAccumulator) -> None:
        self.call = call
        self.span = span
        self.accumulator = accumulator
        self._lock = threading.Lock()
        self.done = False
        self.first_chunk_at: float | None = None
        self.chunk_times: list[float] = []

    def feed(self, event: Any) -> None:
        try:
            accumulator = self.accumulator
            before = accumulator.chunks
            accumulator.feed(event)
            if accumulator.chunks > before:
                now = time.perf_counter()
                if self.first_chunk_at is None:
                    self.first_chunk_at = now
                self.chunk_times.append(now)
        except Exception as exc:
            report("genai stream event", exc)

    def finish(self, error_type: str | None) -> None:
        """End the stream's span with ``error_type`` (``cancelled``, an error code) or None; once."""
        with self._lock:
            if self.done:
                return
            self.done = True
        try:
            self.call.end_stream(self, error_type)
        except Exception as exc:
            report("genai stream end", exc)
