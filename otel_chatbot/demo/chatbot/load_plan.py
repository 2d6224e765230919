"""What the scripted load sends, decided up front and deterministically.

A run of N requests walks a fixed cycle of scenarios over every surface of the app (chat,
chat grounded in the cached handbook, SSE streams read to the end and streams the user
leaves midway, WebSocket conversations, agent, the ``/v1`` mount, history, health), with one
request in ten a deliberate failure (unknown route, a raising route, an invalid body, an
unknown model). Steps are dealt round-robin to sessions; each session is one conversation
and runs its steps in order, sessions run side by side. Each step knows the outcome it
expects, so the load can tell an instrumented app that changed behaviour from one that did
not; :func:`counts` says how many of each scenario a run of N requests has.

A new scenario is one more :class:`StepKind` row in :data:`KINDS` and its name in
:data:`CYCLE` (or :data:`FAILURES`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

# Outcomes are strings: an HTTP status ("200"), for WebSocket conversations the final frame type,
# and for a stream the client leaves on purpose LEFT.
WS_DONE = "done"
LEFT = "left"

Client = Literal["http", "sse", "ws"]
"""How the load's client talks to the step: one request, an SSE streaming read, a WebSocket."""


@dataclass(frozen=True)
class StepKind:
    name: str
    route: str
    """What the step exercises, as ``METHOD template`` (the label counts are kept under)."""
    method: str
    path: str
    """Path with ``{session_id}`` to fill in."""
    expected: str
    body: dict[str, Any] | None = None
    """The whole body (failure kinds); ``None``: a prompt of the conversation, with ``options``."""
    options: dict[str, Any] = field(default_factory=dict)
    """Added to the prompt body (e.g. ``handbook``)."""
    client: Client = "http"
    leave_after_events: int | None = None
    """SSE: the client closes the stream after this many events (a user who leaves midway)."""
    turns: int = 1
    """WebSocket: chat turns (a message, then the answer's frames up to ``done``) per connection."""
    writes_history: bool = False
    """A turn the app adds to the session's history (so a later history request finds it)."""


LEAVE_AFTER_EVENTS = 2
WS_TURNS = 2
LONG_PROMPT = "Tell me everything about delivery options, returns, sizes and payments, please."
"""A leaving user's question: its answer is long enough to still be streaming when they leave."""

KINDS: dict[str, StepKind] = {
    kind.name: kind
    for kind in (
        StepKind("chat", "POST /chat/{session_id}", "POST", "/chat/{session_id}", "200", writes_history=True),
        StepKind(
            "handbook_chat",
            "POST /chat/{session_id}",
            "POST",
            "/chat/{session_id}",
            "200",
            options={"handbook": True},
            writes_history=True,
        ),
        StepKind(
            "stream",
            "POST /chat/{session_id}/stream",
            "POST",
            "/chat/{session_id}/stream",
            "200",
            client="sse",
            writes_history=True,
        ),
        StepKind(
            "stream_leave",
            "POST /chat/{session_id}/stream",
            "POST",
            "/chat/{session_id}/stream",
            LEFT,
            {"message": LONG_PROMPT},
            client="sse",
            leave_after_events=LEAVE_AFTER_EVENTS,
        ),
        StepKind(
            "ws",
            "WS /ws/chat/{session_id}",
            "WS",
            "/ws/chat/{session_id}",
            WS_DONE,
            client="ws",
            turns=WS_TURNS,
            writes_history=True,
        ),
        StepKind("agent", "POST /agents/{session_id}", "POST", "/agents/{session_id}", "200"),
        StepKind("v1_chat", "POST /v1/chat/{session_id}", "POST", "/v1/chat/{session_id}", "200", writes_history=True),
        StepKind("history", "GET /sessions/{session_id}/history", "GET", "/sessions/{session_id}/history", "200"),
        StepKind("health", "GET /health", "GET", "/health", "200"),
        StepKind("not_found", "GET /no-such-route", "GET", "/no-such-route/{session_id}", "404"),
        StepKind("fail", "POST /chat/{session_id}/fail", "POST", "/chat/{session_id}/fail", "500"),
        StepKind("invalid", "POST /chat/{session_id}", "POST", "/chat/{session_id}", "422", {"message": ""}),
        StepKind(
            "bad_model",
            "POST /chat/{session_id}",
            "POST",
            "/chat/{session_id}",
            "400",
            {"message": "hello", "model": "example.no-such-model-v1:0"},
        ),
    )
}

CYCLE = (
    "chat",
    "stream",
    "ws",
    "chat",
    "agent",
    "stream_leave",
    "v1_chat",
    "history",
    "health",
    "handbook_chat",
    "stream",
    "ws",
)
"""The requests that are not failures, in order, over and over."""
FAILURES = ("not_found", "fail", "invalid", "bad_model")

PROMPTS = (
    "Hi! I'd like to know where my order is.",
    "Can you recommend a rain jacket under 100 dollars?",
    "What is your return policy for shoes?",
    "Please book a delivery slot for Saturday morning.",
    "Summarise our conversation so far.",
    "Do you ship to Canada, and how long does it take?",
    "Cancel the second item of my last order.",
)


@dataclass(frozen=True)
class Step:
    kind: StepKind
    session_id: str
    turn: int
    """Position within its session's conversation (0-based)."""
    expected: str

    @property
    def path(self) -> str:
        return self.kind.path.format(session_id=self.session_id)

    def body(self, message: int = 0) -> dict[str, Any]:
        """The body of the step's ``message``-th message (WebSocket turns after the first go on talking)."""
        if self.kind.body is not None:
            return self.kind.body
        return {"message": PROMPTS[(self.turn + message) % len(PROMPTS)], **self.kind.options}


def kind_at(index: int) -> StepKind:
    """The ``index``-th request of a run: every tenth a failure of a rotating kind, the rest walk the cycle."""
    if index % 10 == 9:
        return KINDS[FAILURES[(index // 10) % len(FAILURES)]]
    return KINDS[CYCLE[(index - index // 10) % len(CYCLE)]]


def counts(requests: int) -> Counter[str]:
    """How many steps of each kind (by name) a run of ``requests`` requests has."""
    return Counter(kind_at(index).name for index in range(requests))


def plan(requests: int, sessions: int, prefix: str = "load") -> list[list[Step]]:
    """``requests`` steps dealt round-robin to ``sessions`` conversations (fewer if requests are few)."""
    if requests < 0 or sessions < 1:
        raise ValueError("requests must be >= 0 and sessions >= 1")
    count = min(sessions, max(requests, 1))
    conversations: list[list[Step]] = [[] for _ in range(count)]
    has_history = [False] * count
    for index in range(requests):
        number = index % count
        kind = kind_at(index)
        # Asking for a history that has no turn yet is a legitimate 404, not a failure.
        expected = "404" if kind.name == "history" and not has_history[number] else kind.expected
        session = conversations[number]
        session.append(Step(kind, f"{prefix}-{number}", len(session), expected))
        has_history[number] = has_history[number] or kind.writes_history
    return conversations
