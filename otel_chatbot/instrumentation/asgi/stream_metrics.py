"""Streamed HTTP responses: what one stream did, how it ended, and the instruments that record it.

A response is a stream when its first body message says ``more_body`` (SSE, NDJSON, any
response sent in more than one body message); a response sent in one body message (plain
JSON) never gets here. Per chunk the request only adds to its :class:`StreamTally` (a
counter and a length, no allocation); when the request ends the tally becomes four
histogram points (``chatbot.stream.*``, by ``http.route`` and ``http.request.method``) and
the same figures as attributes of the SERVER span.

How the end is read (:func:`stream_outcome`): a ``send`` that raised or a cancelled app
task means the client left; an app exception means ``error``; the final body message means
``completed``. A stream that ends without its final message, the app returning normally,
was stopped by the framework because the client left: Starlette's ``StreamingResponse`` and
sse-starlette listen for ``http.disconnect`` and cancel the body iterator when it arrives.
Reading the disconnect from that effect, rather than wrapping every request's ``receive``,
keeps single-message responses free of any added work.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.metrics import Meter

from otel_chatbot.instrumentation import http_semconv as sc
from otel_chatbot.instrumentation.asgi import names as n
from otel_chatbot.instrumentation.asgi.histograms import histogram
from otel_chatbot.instrumentation.prebound import Bindings


class StreamTally:
    """One streamed response so far; the request updates it in place, chunk by chunk."""

    __slots__ = ("cancelled", "chunks", "complete", "first_byte", "size")

    def __init__(self) -> None:
        self.chunks = 0
        self.size = 0
        self.first_byte = 0.0  # perf_counter() when the first non-empty chunk was handed to the server
        self.complete = False  # the final body message (no more_body) was sent
        self.cancelled = False  # a send raised, or the app's task was cancelled


def stream_outcome(tally: StreamTally, raised: bool) -> str:
    """``completed``, ``cancelled`` or ``error``; ``raised``: the app raised (other than a cancellation)."""
    if tally.cancelled:
        return n.OUTCOME_CANCELLED
    if raised:
        return n.OUTCOME_ERROR
    if tally.complete:
        return n.OUTCOME_COMPLETED
    return n.OUTCOME_CANCELLED  # stopped without its final message: the framework saw http.disconnect


def stream_attributes(tally: StreamTally, outcome: str, start: float, elapsed: float) -> dict[str, Any]:
    """The stream's figures as SERVER span attributes (time to first byte only if a byte was sent)."""
    attributes: dict[str, Any] = {
        n.STREAM_OUTCOME: outcome,
        n.STREAM_DURATION: elapsed,
        n.STREAM_CHUNKS: tally.chunks,
        n.STREAM_SIZE: tally.size,
    }
    if tally.chunks:
        attributes[n.STREAM_TIME_TO_FIRST_BYTE] = tally.first_byte - start
    return attributes


def _route_method(route: str | None, method: str) -> dict[str, str]:
    attributes = {sc.METHOD: method}
    if route:
        attributes[sc.ROUTE] = route
    return attributes


def _route_method_outcome(route: str | None, method: str, outcome: str) -> dict[str, str]:
    return {**_route_method(route, method), n.STREAM_OUTCOME: outcome}


class StreamInstruments:
    """The four stream histograms, each bound per (route, method) — templates, so few bindings."""

    def __init__(self, meter: Meter) -> None:
        self.time_to_first_byte = Bindings(
            histogram(
                meter,
                n.STREAM_TIME_TO_FIRST_BYTE,
                "s",
                "Time from the start of a streamed HTTP response's request to its first non-empty chunk.",
                n.TIME_TO_FIRST_BYTE_BUCKETS,
            ),
            _route_method,
        )
        duration = histogram(
            meter,
            n.STREAM_DURATION,
            "s",
            "Duration of streamed HTTP responses, by how they ended.",
            n.STREAM_DURATION_BUCKETS,
        )
        self.duration = Bindings(duration, _route_method_outcome)
        chunks = histogram(
            meter, n.STREAM_CHUNKS, "{chunk}", "Non-empty body chunks per streamed HTTP response.", n.CHUNK_BUCKETS
        )
        self.chunks = Bindings(chunks, _route_method)
        size = histogram(meter, n.STREAM_SIZE, "By", "Body bytes per streamed HTTP response.", n.SIZE_BUCKETS)
        self.size = Bindings(size, _route_method)

    def record(
        self, tally: StreamTally, route: str | None, method: str, outcome: str, start: float, elapsed: float
    ) -> None:
        """One point per histogram for one finished stream; called while its span is current (exemplars)."""
        if tally.chunks:
            self.time_to_first_byte.get(route, method).record(tally.first_byte - start)
        self.duration.get(route, method, outcome).record(elapsed)
        self.chunks.get(route, method).record(tally.chunks)
        self.size.get(route, method).record(tally.size)
