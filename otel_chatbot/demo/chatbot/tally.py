"""What the load's clients did on streams and WebSockets, counted on the client side.

The demo holds these against what the distro exported (stream outcomes, WebSocket
connections, messages and turns): both count the same events from the two ends of the
socket, so they must be equal, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ClientTally:
    streams_read: int = 0
    """SSE answers (status 200) read to their end."""
    streams_left: int = 0
    """SSE answers the client closed midway, on purpose."""
    streams_broken: int = 0
    """SSE answers that broke under the client (a transport error after the status line)."""
    websockets: int = 0
    """WebSocket connections opened (the app accepted the handshake)."""
    ws_sent: int = 0
    """Messages the clients sent over WebSockets."""
    ws_received: int = 0
    """Messages the clients received over WebSockets."""
    ws_turns: int = 0
    """Messages the clients sent that got at least one message back (chat turns)."""

    def render(self) -> str:
        return (
            f"clients: read {self.streams_read} streams to the end, left {self.streams_left} midway, "
            f"{self.streams_broken} broke; {self.websockets} WebSockets, {self.ws_turns} turns, "
            f"sent {self.ws_sent} and received {self.ws_received} messages"
        )
