"""Names, units and buckets of the chat-experience signals no semantic convention defines.

What a chat user feels, measured at the server: streamed answers (``chatbot.stream.*``),
WebSocket turns (``chatbot.websocket.*``) and the event loop that serves both
(``chatbot.asyncio.loop.lag``). The HTTP conventions cover request duration and size but
not streams, WebSocket messages or loop lag; these names are the project's contract
(dashboards, alerts and EMF declarations use them), kept in one place so a future
convention can replace them here. Attribute names that do exist (``http.route``,
``http.request.method``) come from ``opentelemetry.semconv``.
"""

from __future__ import annotations

from typing import Final

# --- Streamed HTTP responses (more than one body message) -----------------------------

STREAM_TIME_TO_FIRST_BYTE: Final = "chatbot.stream.time_to_first_byte"
"""Histogram (s): request start to the first non-empty body chunk."""

STREAM_DURATION: Final = "chatbot.stream.duration"
"""Histogram (s): request start to the stream's end, with :data:`STREAM_OUTCOME`."""

STREAM_CHUNKS: Final = "chatbot.stream.chunks"
"""Histogram ({chunk}): non-empty body messages per stream."""

STREAM_SIZE: Final = "chatbot.stream.size"
"""Histogram (By): body bytes per stream."""

STREAM_OUTCOME: Final = "chatbot.stream.outcome"
"""How a stream ended: one of the three values below."""

OUTCOME_COMPLETED: Final = "completed"
"""The app sent the final body message."""

OUTCOME_CANCELLED: Final = "cancelled"
"""The client left first: a send failed, or the app stopped on ``http.disconnect``."""

OUTCOME_ERROR: Final = "error"
"""The app raised mid-stream."""

# --- WebSockets -----------------------------------------------------------------------

WEBSOCKET_ACTIVE_CONNECTIONS: Final = "chatbot.websocket.active_connections"
"""UpDownCounter ({connection}): open WebSocket connections."""

WEBSOCKET_MESSAGES: Final = "chatbot.websocket.messages"
"""Counter ({message}): data messages, with :data:`WEBSOCKET_DIRECTION`."""

WEBSOCKET_DIRECTION: Final = "chatbot.websocket.direction"
DIRECTION_RECEIVED: Final = "received"
DIRECTION_SENT: Final = "sent"

WEBSOCKET_CONNECTION_DURATION: Final = "chatbot.websocket.connection.duration"
"""Histogram (s): handshake to close of an accepted connection, with :data:`WEBSOCKET_CLOSE_CODE`."""

WEBSOCKET_CLOSE_CODE: Final = "chatbot.websocket.close_code"
"""The close code (RFC 6455 section 7.4) of the side that closed first."""

WEBSOCKET_TURN_TIME_TO_FIRST_MESSAGE: Final = "chatbot.websocket.turn.time_to_first_message"
"""Histogram (s): a received message to the first message sent after it (a chat turn's first reply)."""

WEBSOCKET_MESSAGES_RECEIVED: Final = "chatbot.websocket.messages.received"
"""Span attribute: data messages the client sent over the connection."""

WEBSOCKET_MESSAGES_SENT: Final = "chatbot.websocket.messages.sent"
"""Span attribute: data messages the app sent over the connection."""

# --- The event loop -------------------------------------------------------------------

ASYNCIO_LOOP_LAG: Final = "chatbot.asyncio.loop.lag"
"""Histogram (s): how late a timer on the app's event loop ran (time ready callbacks waited)."""

# --- Buckets (explicit advisory boundaries) -------------------------------------------

TIME_TO_FIRST_BYTE_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 20.0, 30.0)
"""A model's first token takes 0.2-2 s; 2.0 is the TTFB alert's threshold, so it is a boundary."""

STREAM_DURATION_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
"""Whole answers: a second to minutes."""

CHUNK_BUCKETS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
SIZE_BUCKETS: Final = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)

CONNECTION_DURATION_BUCKETS: Final = (0.1, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
"""A chat session: seconds to an hour."""

TURN_BUCKETS: Final = TIME_TO_FIRST_BYTE_BUCKETS
"""A WebSocket turn's first reply is the same experience as a stream's first byte."""

LOOP_LAG_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""A healthy loop is late by about a millisecond (the selector's timeout granularity); 0.1 is the alert's."""
