"""What the load's clients did and saw, counted on the client side.

The demo holds these against what the distro exported: stream outcomes, WebSocket
connections, messages and turns (both ends of the same sockets), and the operator helpers'
counts (cache hits, failovers, feedback), which the clients see in the answers they get
(``cached``, the serving ``provider``) and the faults and scores they send. They must be
equal, exactly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


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
    answers: Counter[str] = field(default_factory=Counter)
    """Answers (200) to turns of the app's default path (no provider or model named), by who served them."""
    cached: int = 0
    """Of those, answers the app marked as coming from its semantic cache."""
    faults: Counter[str] = field(default_factory=Counter)
    """Steps whose faults the load injected into the stand-ins, by kind (``failover``, ``exhausted``)."""
    exhausted: int = 0
    """Exhausted steps answered with the fallback's throttling (429), as planned."""
    feedback: Counter[str] = field(default_factory=Counter)
    """Feedback the app took (204), by sentiment of its score."""
    feedback_linked: int = 0
    """Of those, feedback on an answer the session got (its ``X-Trace-Id``), not on a made-up trace id."""

    def render(self) -> str:
        lines = [
            f"clients: read {self.streams_read} streams to the end, left {self.streams_left} midway, "
            f"{self.streams_broken} broke; {self.websockets} WebSockets, {self.ws_turns} turns, "
            f"sent {self.ws_sent} and received {self.ws_received} messages"
        ]
        if self.answers or self.faults or self.feedback:
            served = ", ".join(f"{n} by {name}" for name, n in sorted(self.answers.items())) or "none"
            scores = ", ".join(f"{n} {name}" for name, n in sorted(self.feedback.items())) or "none"
            lines.append(
                f"clients: default-path answers {served} ({self.cached} cached); injected faults for "
                f"{self.faults['failover']} failover and {self.faults['exhausted']} exhausted turns "
                f"({self.exhausted} got 429); feedback {scores} ({self.feedback_linked} on an answer's trace id)"
            )
        return "\n".join(lines)
