"""The Chat experience section: streams, WebSockets and loop lag from plain span facts and histograms."""

from __future__ import annotations

import math

import pytest

from otel_chatbot.demo.chatbot.tally import ClientTally
from otel_chatbot.demo.experience import chat_experience, cross_check, section
from otel_chatbot.demo.metrics import Histogram
from otel_chatbot.demo.spans import SpanFacts

STREAM = "POST /chat/{session_id}/stream"
NDJSON = "POST /export/{id}"
SOCKET = "GET /ws/chat/{session_id}"
SOCKET_ROUTE = "/ws/chat/{session_id}"


def stream(outcome: str, ttfb_ms: float | None, name: str = STREAM) -> SpanFacts:
    ttfb = None if ttfb_ms is None else ttfb_ms / 1000
    return SpanFacts(name, "SERVER", 1.0, outcome == "error", 200, stream_outcome=outcome, stream_ttfb_s=ttfb)


def socket(received: int, sent: int, status: int = 101) -> SpanFacts:
    return SpanFacts(SOCKET, "SERVER", 2.0, False, status, route=SOCKET_ROUTE, ws_received=received, ws_sent=sent)


def turns(*cumulative: float) -> Histogram:
    """Cumulative counts for the bounds 0.05, 0.1, 0.5, +Inf."""
    return Histogram(tuple(zip((0.05, 0.1, 0.5, math.inf), cumulative, strict=True)), cumulative[-1], 0.0)


FACTS = [
    *(stream("completed", ms) for ms in (10, 20, 30, 40, 50, 60, 70)),
    stream("cancelled", 15),
    stream("cancelled", None),  # left before the first byte: no time to first byte
    stream("error", 90),
    stream("completed", 5, name=NDJSON),
    socket(2, 20),
    socket(2, 18),
    socket(0, 0, status=403),  # a refused handshake is no connection
    SpanFacts("POST /chat/{session_id}", "SERVER", 0.1, False, 200),  # one body message: no stream
    SpanFacts("chat m", "CLIENT", 0.5, False, 200, True, stream_outcome="completed"),  # not a SERVER span
]
LAG = Histogram(((0.001, 90.0), (0.005, 99.0), (0.1, 100.0), (math.inf, 100.0)), 100.0, 0.2)
EXPERIENCE = chat_experience(FACTS, {SOCKET_ROUTE: turns(1, 3, 4, 4)}, LAG)


def test_streams_by_route_with_outcomes_and_exact_ttfb_percentiles() -> None:
    sse, ndjson = EXPERIENCE.streams  # sorted by name
    assert (sse.name, sse.streams, sse.completed, sse.cancelled, sse.errors) == (STREAM, 10, 7, 2, 1)
    assert sse.cancellation_ratio == 0.2
    assert (sse.ttfb_p50_s, sse.ttfb_p95_s, sse.ttfb_p99_s) == (0.04, 0.09, 0.09)  # nearest rank of 9 values
    assert (ndjson.name, ndjson.streams, ndjson.completed) == (NDJSON, 1, 1)
    total = EXPERIENCE.stream_total
    assert (total.streams, total.completed, total.cancelled, total.errors) == (11, 8, 2, 1)


def test_websockets_count_accepted_connections_and_turns_from_the_histogram() -> None:
    (route,) = EXPERIENCE.websockets
    assert (route.name, route.connections, route.received, route.sent, route.turns) == (SOCKET, 2, 4, 38, 4)
    # Rank 2 of 4 lies halfway through the (0.05, 0.1] bucket; rank 3.8 in (0.1, 0.5].
    assert route.turn_p50_s == pytest.approx(0.075)
    assert route.turn_p95_s == pytest.approx(0.1 + 0.4 * 0.8)
    assert EXPERIENCE.websocket_total.turns == 4


def test_loop_lag_p99_from_its_buckets() -> None:
    assert EXPERIENCE.loop_lag_samples == 100
    assert EXPERIENCE.loop_lag_p99_s == pytest.approx(0.005)


def test_nothing_exported_gives_empty_figures() -> None:
    empty = chat_experience([], {}, None)
    assert empty.streams == () and empty.websockets == ()
    assert empty.stream_total.streams == 0 and empty.stream_total.cancellation_ratio is None
    assert empty.websocket_total.turn_p50_s is None and empty.loop_lag_p99_s is None
    text = "\n".join(section(empty).lines)
    assert "all streams" in text and "Event loop lag p99: - ms (0 timer samples" in text


MATCHING = ClientTally(
    streams_read=8, streams_left=2, streams_broken=1, websockets=2, ws_sent=4, ws_received=38, ws_turns=4
)


def test_cross_check_pairs_each_count_with_the_clients_own() -> None:
    checks = cross_check(EXPERIENCE, MATCHING)
    assert [(c.telemetry, c.clients) for c in checks] == [(8, 8), (2, 2), (1, 1), (2, 2), (4, 4), (38, 38), (4, 4)]
    assert all(c.equal for c in checks)


def test_section_renders_tables_lag_and_the_verdict() -> None:
    rendered = section(EXPERIENCE, MATCHING)
    assert rendered.title == "Chat experience:"
    lines = list(rendered.lines)
    sse_row = next(line for line in lines if line.startswith(STREAM + " "))
    assert sse_row.split()[-8:] == ["10", "7", "2", "1", "20.0", "40.0", "90.0", "90.0"]
    socket_row = next(line for line in lines if line.startswith(SOCKET + " "))
    assert socket_row.split()[-6:] == ["2", "4", "38", "4", "75.0", "420.0"]
    assert "Event loop lag p99: 5.0 ms (100 timer samples, from histogram buckets)" in lines
    assert any("(all equal)" in line for line in lines)
    assert any(line.split() == ["streams", "cancelled", "2", "=", "2", "left", "midway"] for line in lines)


def test_a_mismatch_is_called_out() -> None:
    lines = list(section(EXPERIENCE, ClientTally(streams_read=8, streams_left=3)).lines)
    assert any("(MISMATCH)" in line for line in lines)
    assert any(line.split()[:5] == ["streams", "cancelled", "2", "!=", "3"] for line in lines)
    assert not any("Cross-check" in line for line in section(EXPERIENCE).lines)  # no clients, no check
    cut = list(section(EXPERIENCE, ClientTally(), cut_off=2).lines)
    assert any("(MISMATCH: 2 steps were cut off by the deadline" in line for line in cut)
    assert any("(all equal)" in line for line in section(EXPERIENCE, MATCHING, cut_off=2).lines)
