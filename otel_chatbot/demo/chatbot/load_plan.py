"""What the scripted load sends, decided up front and deterministically.

A run of N requests is a fixed cycle of conversation turns over every surface of the app
(chat, SSE stream, WebSocket, agent, the ``/v1`` mount, history, health) with one request
in ten a deliberate failure (unknown route, a raising route, an invalid body, an unknown
model). Steps are dealt round-robin to sessions; each session is one conversation and runs
its steps in order, sessions run side by side. Each step knows the outcome it expects, so
the load can tell an instrumented app that changed behaviour from one that did not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Outcomes are strings: an HTTP status ("200") or, for WebSocket turns, the final frame type.
WS_DONE = "done"


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


KINDS: dict[str, StepKind] = {
    kind.name: kind
    for kind in (
        StepKind("chat", "POST /chat/{session_id}", "POST", "/chat/{session_id}", "200"),
        StepKind("stream", "POST /chat/{session_id}/stream", "POST", "/chat/{session_id}/stream", "200"),
        StepKind("ws", "WS /ws/chat/{session_id}", "WS", "/ws/chat/{session_id}", WS_DONE),
        StepKind("agent", "POST /agents/{session_id}", "POST", "/agents/{session_id}", "200"),
        StepKind("v1_chat", "POST /v1/chat/{session_id}", "POST", "/v1/chat/{session_id}", "200"),
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

CYCLE = ("chat", "stream", "ws", "chat", "agent", "stream", "v1_chat", "history", "health")
FAILURES = ("not_found", "fail", "invalid", "bad_model")
_WRITES_HISTORY = frozenset({"chat", "stream", "ws", "v1_chat"})

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

    def body(self) -> dict[str, Any]:
        if self.kind.body is not None:
            return self.kind.body
        return {"message": PROMPTS[self.turn % len(PROMPTS)]}


def kind_at(index: int) -> StepKind:
    """The ``index``-th request of a run: the cycle, with every tenth a failure of a rotating kind."""
    if index % 10 == 9:
        return KINDS[FAILURES[(index // 10) % len(FAILURES)]]
    return KINDS[CYCLE[index % 10]]


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
        has_history[number] = has_history[number] or kind.name in _WRITES_HISTORY
    return conversations
