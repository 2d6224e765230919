"""The summary's "Chat experience" section: streamed answers, WebSocket turns and the event loop, as exported.

Stream figures come from the SERVER spans: each stream's outcome and time to first byte are
span attributes, so counts and percentiles are exact. WebSocket connections and messages
come from the WebSocket spans. A chat turn or a loop-lag sample is no span, so turn latency
and loop lag come from the histograms the app served on ``/metrics``, their percentiles
estimated from the buckets as Prometheus's ``histogram_quantile`` would (what a dashboard
shows). :func:`cross_check` then holds the counts against what the load's clients did: the
two ends of the same sockets, so every pair must be equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from otel_chatbot.demo.chatbot.tally import ClientTally
from otel_chatbot.demo.metrics import Histogram, histogram_quantile
from otel_chatbot.demo.spans import SpanFacts
from otel_chatbot.demo.summary import Check, Section, check_lines, format_ms, grouped, percentile, table
from otel_chatbot.instrumentation.asgi import names as n

# Prometheus names of the histograms read back (the exporter adds the unit suffix).
TURN_HISTOGRAM = "chatbot_websocket_turn_time_to_first_message_seconds"
LOOP_LAG_HISTOGRAM = "chatbot_asyncio_loop_lag_seconds"
ROUTE_LABEL = "http_route"

WEBSOCKET_ACCEPTED = 101


@dataclass(frozen=True)
class StreamStats:
    name: str
    streams: int
    completed: int
    cancelled: int
    errors: int
    ttfb_p50_s: float | None
    ttfb_p95_s: float | None
    ttfb_p99_s: float | None

    @property
    def cancellation_ratio(self) -> float | None:
        return self.cancelled / self.streams if self.streams else None


@dataclass(frozen=True)
class WebSocketStats:
    name: str
    connections: int
    received: int
    sent: int
    turns: int
    """Turns the turn histogram counted (received messages answered)."""
    turn_p50_s: float | None
    turn_p95_s: float | None


@dataclass(frozen=True)
class ChatExperience:
    streams: tuple[StreamStats, ...]
    stream_total: StreamStats
    websockets: tuple[WebSocketStats, ...]
    websocket_total: WebSocketStats
    loop_lag_samples: int
    loop_lag_p99_s: float | None


def _stream_stats(name: str, spans: Sequence[SpanFacts]) -> StreamStats:
    outcomes = [span.stream_outcome for span in spans]
    ttfb = [span.stream_ttfb_s for span in spans if span.stream_ttfb_s is not None]
    return StreamStats(
        name,
        len(spans),
        outcomes.count(n.OUTCOME_COMPLETED),
        outcomes.count(n.OUTCOME_CANCELLED),
        outcomes.count(n.OUTCOME_ERROR),
        percentile(ttfb, 50),
        percentile(ttfb, 95),
        percentile(ttfb, 99),
    )


def _websocket_stats(name: str, spans: Sequence[SpanFacts], turns: Histogram | None) -> WebSocketStats:
    return WebSocketStats(
        name,
        len(spans),
        sum(span.ws_received or 0 for span in spans),
        sum(span.ws_sent or 0 for span in spans),
        int(turns.count) if turns else 0,
        histogram_quantile(turns, 50) if turns else None,
        histogram_quantile(turns, 95) if turns else None,
    )


def _merged(parts: Iterable[Histogram]) -> Histogram | None:
    """One histogram of several with the same bounds (the routes of one instrument)."""
    parts = list(parts)
    if not parts:
        return None
    buckets: dict[float, float] = {}
    for part in parts:
        for bound, count in part.buckets:
            buckets[bound] = buckets.get(bound, 0.0) + count
    return Histogram(tuple(sorted(buckets.items())), sum(p.count for p in parts), sum(p.sum for p in parts))


def chat_experience(
    facts: Sequence[SpanFacts], turns_by_route: Mapping[str, Histogram], loop_lag: Histogram | None
) -> ChatExperience:
    """``turns_by_route``: the turn histogram per ``http.route``; ``loop_lag``: the lag histogram."""
    servers = [span for span in facts if span.kind == "SERVER"]
    streams = [span for span in servers if span.stream_outcome is not None]
    sockets = [span for span in servers if span.ws_received is not None and span.status_code == WEBSOCKET_ACCEPTED]
    socket_groups = grouped(sockets)
    routes = {name: group[0].route or "" for name, group in socket_groups.items()}
    return ChatExperience(
        streams=tuple(_stream_stats(name, group) for name, group in grouped(streams).items()),
        stream_total=_stream_stats("all streams", streams),
        websockets=tuple(
            _websocket_stats(name, group, turns_by_route.get(routes[name])) for name, group in socket_groups.items()
        ),
        websocket_total=_websocket_stats("all WebSockets", sockets, _merged(turns_by_route.values())),
        loop_lag_samples=int(loop_lag.count) if loop_lag else 0,
        loop_lag_p99_s=histogram_quantile(loop_lag, 99) if loop_lag else None,
    )


def cross_check(experience: ChatExperience, clients: ClientTally) -> tuple[Check, ...]:
    streams, sockets = experience.stream_total, experience.websocket_total
    return (
        Check("streams completed", streams.completed, "read to the end", clients.streams_read),
        Check("streams cancelled", streams.cancelled, "left midway", clients.streams_left),
        Check("streams in error", streams.errors, "broke under the client", clients.streams_broken),
        Check("WebSocket connections", sockets.connections, "opened", clients.websockets),
        Check("WebSocket messages received", sockets.received, "sent", clients.ws_sent),
        Check("WebSocket messages sent", sockets.sent, "received", clients.ws_received),
        Check("WebSocket turns", sockets.turns, "answered", clients.ws_turns),
    )


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}"


def _stream_row(stats: StreamStats) -> list[str]:
    return [
        stats.name,
        str(stats.streams),
        str(stats.completed),
        str(stats.cancelled),
        str(stats.errors),
        _ratio(stats.cancellation_ratio),
        format_ms(stats.ttfb_p50_s),
        format_ms(stats.ttfb_p95_s),
        format_ms(stats.ttfb_p99_s),
    ]


def _websocket_row(stats: WebSocketStats) -> list[str]:
    return [
        stats.name,
        str(stats.connections),
        str(stats.received),
        str(stats.sent),
        str(stats.turns),
        format_ms(stats.turn_p50_s),
        format_ms(stats.turn_p95_s),
    ]


STREAM_HEADER = ("stream", "streams", "completed", "cancelled", "error", "cancel %", "ttfb p50", "p95", "p99")
WEBSOCKET_HEADER = ("websocket", "connections", "received", "sent", "turns", "turn p50", "p95")


def section(experience: ChatExperience, clients: ClientTally | None = None, cut_off: int = 0) -> Section:
    """The section; with ``clients``, each count next to the clients' own and whether they agree.

    ``cut_off``: steps the load's deadline cut off midway; the server saw those clients leave,
    the clients never finished counting, so a mismatch is then expected and said why.
    """
    lines = ["Streamed answers (SERVER spans; time to first byte in ms):"]
    lines += table(STREAM_HEADER, [_stream_row(s) for s in (*experience.streams, experience.stream_total)])
    lines += ["", "WebSockets (spans; turn = a message in to the first message out, ms, from histogram buckets):"]
    lines += table(WEBSOCKET_HEADER, [_websocket_row(w) for w in (*experience.websockets, experience.websocket_total)])
    lines += [
        "",
        f"Event loop lag p99: {format_ms(experience.loop_lag_p99_s)} ms "
        f"({experience.loop_lag_samples} timer samples, from histogram buckets)",
    ]
    if clients is not None:
        lines += ["", *check_lines("what the load's clients did", cross_check(experience, clients), cut_off)]
    return Section("Chat experience:", tuple(lines))
