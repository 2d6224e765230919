"""WebSocket connections: messages by route and direction, chat-turn latency, connection durations.

Messages are counted per route in plain integers (:class:`RouteMessages`) that an
asynchronous counter reports at each collection: a chat connection can stay open for an
hour, so counting only when it closes would show its messages late, and an SDK ``add`` per
message would cost more than the message's own handling. A connection looks its route's
tally up once, when the app accepts it (the router has run by then); after that a message
costs two integer additions.

The close code is a metric attribute, so a client's choice of code must not open unbounded
series: codes the protocol defines (1000-1015) are kept from either side, the app's own
codes are kept, and any other code a client sends is recorded as 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_chatbot.instrumentation import http_semconv as sc
from otel_chatbot.instrumentation.asgi import names as n
from otel_chatbot.instrumentation.asgi.histograms import histogram
from otel_chatbot.instrumentation.prebound import Bindings, Bound

# RFC 6455 section 7.4.1 defines 1000-1015 (some reserved, never on the wire, but ASGI servers report them).
PROTOCOL_CLOSE_CODES = range(1000, 1016)
CLIENT_CODE_NOT_KEPT = 0
CLOSE_APP_RAISED = 1011  # "internal error": what a server sends (or should) when the app fails
CLOSE_ABNORMAL = 1006  # no close frame from either side
ROUTE_LIMIT = 2000


def close_code(code: object, from_client: bool) -> int:
    """The close code as a bounded metric attribute value."""
    if not isinstance(code, int) or isinstance(code, bool):
        return CLIENT_CODE_NOT_KEPT if from_client else CLOSE_ABNORMAL
    if from_client and code not in PROTOCOL_CLOSE_CODES:
        return CLIENT_CODE_NOT_KEPT
    return code


class RouteMessages:
    """The data messages of one route so far, and its bound turn-latency histogram."""

    __slots__ = ("received", "received_attributes", "sent", "sent_attributes", "turn")

    def __init__(self, attributes: dict[str, Any], turn: Bound) -> None:
        self.received = 0
        self.sent = 0
        self.received_attributes = {**attributes, n.WEBSOCKET_DIRECTION: n.DIRECTION_RECEIVED}
        self.sent_attributes = {**attributes, n.WEBSOCKET_DIRECTION: n.DIRECTION_SENT}
        self.turn = turn


def _route(route: str | None) -> dict[str, Any]:
    return {sc.ROUTE: route} if route else {}


def _route_close_code(route: str | None, code: int) -> dict[str, Any]:
    return {**_route(route), n.WEBSOCKET_CLOSE_CODE: code}


class WebSocketInstruments:
    """The message counter, the turn and connection histograms; a tally per route."""

    def __init__(self, meter: Meter) -> None:
        self._routes: dict[str | None, RouteMessages] = {}
        turns = histogram(
            meter,
            n.WEBSOCKET_TURN_TIME_TO_FIRST_MESSAGE,
            "s",
            "Time from a received WebSocket message to the first message sent after it (a chat turn's time to "
            "first reply).",
            n.TURN_BUCKETS,
        )
        self._turns = Bindings(turns, _route)
        durations = histogram(
            meter,
            n.WEBSOCKET_CONNECTION_DURATION,
            "s",
            "Duration of accepted WebSocket connections, by close code.",
            n.CONNECTION_DURATION_BUCKETS,
        )
        self.connection_duration = Bindings(durations, _route_close_code)
        meter.create_observable_counter(
            n.WEBSOCKET_MESSAGES,
            callbacks=[self._observe],
            unit="{message}",
            description="WebSocket data messages, received from clients and sent to them.",
        )
        self._overflow = RouteMessages({"otel.metric.overflow": True}, self._turns.get(None))

    def route(self, route: str | None) -> RouteMessages:
        """The tally of ``route``; past ``ROUTE_LIMIT`` routes, one shared overflow tally."""
        tally = self._routes.get(route)
        if tally is None:
            if len(self._routes) >= ROUTE_LIMIT:
                return self._overflow
            tally = self._routes[route] = RouteMessages(_route(route), self._turns.get(route))
        return tally

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        tallies = [*self._routes.values(), self._overflow]
        observations = []
        for tally in tallies:
            if tally.received or tally.sent:
                observations.append(Observation(tally.received, tally.received_attributes))
                observations.append(Observation(tally.sent, tally.sent_attributes))
        return observations
