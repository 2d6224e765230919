"""What the scripted load sends, decided up front and deterministically.

A run of N requests walks a fixed cycle of scenarios over every surface of the app (chat,
chat grounded in the cached handbook, SSE streams read to the end and streams the user
leaves midway, WebSocket conversations, agent, the ``/v1`` mount, history, health), with one
request in ten a deliberate failure (unknown route, a raising route, an invalid body, an
unknown model). Steps are dealt round-robin to sessions; each session is one conversation
and runs its steps in order, sessions run side by side. Each step knows the outcome it
expects, so the load can tell an instrumented app that changed behaviour from one that did
not; :func:`counts` says how many of each scenario a run of N requests has.

The scenarios come as a :class:`Mix`. :data:`DEFAULT_MIX` is the above (the stack test and
the compose load run it against a Bedrock-only app). :data:`DEMO_MIX` adds what the demo's
app does besides: turns on every provider (OpenAI, Anthropic, Ollama; chat and streams),
questions asked again in other words (semantic cache hits), turns whose Bedrock call the
load throttles on cue so the app fails over (:data:`FAILOVER`), turns where the fallback is
throttled too (:data:`EXHAUSTED`, run one at a time after the rest, so that nothing else
takes their faults), and users' feedback on the answers they got.

Cache hits are planned too: every question carries its customer's details (three words no
other session uses), so no two sessions' questions are similar enough to hit each other's
answers, and within a session the steps run in order; the plan runs each session's cached
turns through the app's own :class:`~otel_chatbot.demo.chatbot.cache.SemanticCache` and
records on each step whether it will be a hit (``cache_hit``). That holds while the app's
cache keeps every answer (:data:`~otel_chatbot.demo.chatbot.cache.SemanticCache` capacity:
256 questions).

A new scenario is one more :class:`StepKind` row in :data:`KINDS` and its name in a mix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from otel_chatbot.demo.chatbot.cache import CachedAnswer, SemanticCache

# Outcomes are strings: an HTTP status ("200"), for WebSocket conversations the final frame type,
# and for a stream the client leaves on purpose LEFT.
WS_DONE = "done"
LEFT = "left"

Client = Literal["http", "sse", "ws", "feedback"]
"""How the load's client talks to the step: one request, an SSE streaming read, a WebSocket, or
a feedback POST carrying the ``X-Trace-Id`` of the session's last answer."""
CacheName = Literal["plain", "handbook"]
Fault = Literal["failover", "exhausted"]
FAILOVER: Fault = "failover"
"""The load throttles the default provider's next call: the turn's chain switches to the fallback."""
EXHAUSTED: Fault = "exhausted"
"""The load throttles the default provider and every attempt at the fallback: the chain is exhausted."""
PromptSource = Literal["rotate", "similar", "fresh"]


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
    """Added to the prompt body (e.g. ``handbook``, ``provider``)."""
    client: Client = "http"
    leave_after_events: int | None = None
    """SSE: the client closes the stream after this many events (a user who leaves midway)."""
    turns: int = 1
    """WebSocket: chat turns (a message, then the answer's frames up to ``done``) per connection."""
    writes_history: bool = False
    """A turn the app adds to the session's history (so a later history request finds it)."""
    cache: CacheName | None = None
    """The app's semantic cache the turn looks in (the default path: no provider or model named)."""
    prompt: PromptSource = "rotate"
    """``rotate``: the conversation's next question; ``similar``: the session's last cached question
    asked again in other words; ``fresh``: a question the session never asked (so its cache misses)."""
    fault: Fault | None = None
    serial: bool = False
    """Run after every session is done, one at a time: its faults must reach no other step."""


LEAVE_AFTER_EVENTS = 2
WS_TURNS = 2
LONG_PROMPT = "Tell me everything about delivery options, returns, sizes and payments, please."
"""A leaving user's question: its answer is long enough to still be streaming when they leave."""

CHAT_ROUTE = "POST /chat/{session_id}"
STREAM_ROUTE = "POST /chat/{session_id}/stream"
FEEDBACK_ROUTE = "POST /feedback"
PROVIDERS = ("openai", "anthropic", "ollama")
"""The providers the demo mix names in its turns (Bedrock answers the rest)."""


def _chat(name: str, expected: str = "200", **fields: Any) -> StepKind:
    return StepKind(name, CHAT_ROUTE, "POST", "/chat/{session_id}", expected, **fields)


def _stream(name: str, expected: str = "200", **fields: Any) -> StepKind:
    return StepKind(name, STREAM_ROUTE, "POST", "/chat/{session_id}/stream", expected, client="sse", **fields)


KINDS: dict[str, StepKind] = {
    kind.name: kind
    for kind in (
        _chat("chat", writes_history=True, cache="plain"),
        _chat("handbook_chat", options={"handbook": True}, writes_history=True, cache="handbook"),
        _stream("stream", writes_history=True),
        _stream("stream_leave", LEFT, body={"message": LONG_PROMPT}, leave_after_events=LEAVE_AFTER_EVENTS),
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
        StepKind(
            "v1_chat",
            "POST /v1/chat/{session_id}",
            "POST",
            "/v1/chat/{session_id}",
            "200",
            writes_history=True,
            cache="plain",
        ),
        StepKind("history", "GET /sessions/{session_id}/history", "GET", "/sessions/{session_id}/history", "200"),
        StepKind("health", "GET /health", "GET", "/health", "200"),
        StepKind("not_found", "GET /no-such-route", "GET", "/no-such-route/{session_id}", "404"),
        StepKind("fail", "POST /chat/{session_id}/fail", "POST", "/chat/{session_id}/fail", "500"),
        _chat("invalid", "422", body={"message": ""}),
        _chat("bad_model", "400", body={"message": "hello", "model": "example.no-such-model-v1:0"}),
        # -- the demo mix: every provider, the semantic cache, failover, feedback --------------------
        *(_chat(f"{p}_chat", options={"provider": p}, writes_history=True) for p in PROVIDERS),
        *(_stream(f"{p}_stream", options={"provider": p}, writes_history=True) for p in PROVIDERS),
        _chat("similar_chat", writes_history=True, cache="plain", prompt="similar"),
        _chat("failover_chat", writes_history=True, cache="plain", prompt="fresh", fault=FAILOVER),
        _chat("exhausted", "429", cache="plain", prompt="fresh", fault=EXHAUSTED, serial=True),
        StepKind("feedback", FEEDBACK_ROUTE, "POST", "/feedback", "204", client="feedback"),
    )
}


@dataclass(frozen=True)
class Mix:
    """The scenarios of a run: ``cycle`` over and over, every tenth request one of ``failures`` in turn."""

    name: str
    cycle: tuple[str, ...]
    failures: tuple[str, ...]


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
DEFAULT_MIX = Mix("default", CYCLE, FAILURES)
DEMO_MIX = Mix(
    "demo",
    (
        "chat",
        "openai_chat",
        "stream",
        "similar_chat",
        "ws",
        "anthropic_chat",
        "failover_chat",
        "feedback",
        "agent",
        "stream_leave",
        "ollama_chat",
        "v1_chat",
        "openai_stream",
        "history",
        "similar_chat",
        "feedback",
        "handbook_chat",
        "anthropic_stream",
        "health",
        "ollama_stream",
        "chat",
        "failover_chat",
        "ws",
        "feedback",
    ),
    (*FAILURES, "exhausted"),
)
MIXES = {mix.name: mix for mix in (DEFAULT_MIX, DEMO_MIX)}

PROMPTS = (
    "Hi! I'd like to know where my order is.",
    "Can you recommend a rain jacket under 100 dollars?",
    "What is your return policy for shoes?",
    "Please book a delivery slot for Saturday morning.",
    "Summarise our conversation so far.",
    "Do you ship to Canada, and how long does it take?",
    "Cancel the second item of my last order.",
)
FRESH_PROMPTS = (
    "My parcel has not arrived yet, can you check with the courier?",
    "Why was I charged twice for the same purchase?",
    "The zip of the jacket broke after one week of use.",
    "How do I change the email address on my profile?",
    "Is there a discount for students or teachers?",
    "Which gift cards do you sell in physical stores?",
)
"""Questions a session asks only when its cache must miss (a failover turn's Bedrock call must happen)."""
SIMILAR_PREFIX = "Sorry,"
"""A question asked again in other words: one more word, a cosine similarity of about 0.96."""

FEEDBACK_SCORES: tuple[tuple[float, str], ...] = (
    (1.0, "thumbs_up"),
    (0.0, "thumbs_down"),
    (1.0, "thumbs_up"),
    (0.75, "stars"),
)
"""The users' scores, one feedback step after the other: a known number positive and negative."""


def persona(session: int) -> str:
    """The session's customer details, added to its questions: three words no other session has."""
    return f"(customer {session}, order {1000 + session}, account A{session})"


def sentiment(score: float) -> str:
    """As the distro labels feedback (``chatbot.feedback.sentiment``): below, at or above 0.5."""
    return "negative" if score < 0.5 else "neutral" if score == 0.5 else "positive"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    session_id: str
    turn: int
    """Position within its session's conversation (0-based)."""
    expected: str
    message: str | None = None
    """The first message's text (prompt kinds); ``None``: the kind's own body, or no body."""
    persona: str = ""
    feedback: tuple[float, str] | None = None
    """(score, label) of a feedback step."""
    cache_hit: bool | None = None
    """A cached turn: will the app's semantic cache answer it; ``None``: not a cached turn."""

    @property
    def path(self) -> str:
        return self.kind.path.format(session_id=self.session_id)

    def body(self, message: int = 0) -> dict[str, Any]:
        """The body of the step's ``message``-th message (WebSocket turns after the first go on talking)."""
        if self.kind.body is not None:
            return self.kind.body
        if self.feedback is not None:
            score, label = self.feedback
            return {"score": score, "label": label}
        text = self.message if message == 0 and self.message is not None else self._rotated(message)
        return {"message": text, **self.kind.options}

    def _rotated(self, message: int) -> str:
        return f"{PROMPTS[(self.turn + message) % len(PROMPTS)]} {self.persona}".strip()


def kind_at(index: int, mix: Mix = DEFAULT_MIX) -> StepKind:
    """The ``index``-th request of a run: every tenth a failure of a rotating kind, the rest walk the cycle."""
    if index % 10 == 9:
        return KINDS[mix.failures[(index // 10) % len(mix.failures)]]
    return KINDS[mix.cycle[(index - index // 10) % len(mix.cycle)]]


def counts(requests: int, mix: Mix = DEFAULT_MIX) -> Counter[str]:
    """How many steps of each kind (by name) a run of ``requests`` requests has."""
    return Counter(kind_at(index, mix).name for index in range(requests))


class _Conversation:
    """One session's steps as they are planned, with its simulated semantic caches."""

    def __init__(self, number: int, session_id: str) -> None:
        self.number = number
        self.session_id = session_id
        self.steps: list[Step] = []
        self.has_history = False
        self.caches: dict[CacheName, SemanticCache] = {"plain": SemanticCache(), "handbook": SemanticCache()}
        self.last_stored: str | None = None
        self.fresh = 0

    def message(self, kind: StepKind, turn: int) -> str | None:
        if kind.body is not None or kind.client == "feedback" or kind.method not in ("POST", "WS"):
            return None
        who = persona(self.number)
        if kind.prompt == "similar" and self.last_stored is not None:
            return f"{SIMILAR_PREFIX} {self.last_stored[0].lower()}{self.last_stored[1:]}"
        if kind.prompt == "fresh":
            return self._fresh(who)
        return f"{PROMPTS[turn % len(PROMPTS)]} {who}"

    def _fresh(self, who: str) -> str:
        """The session's next question its cache misses (with a case number once the list runs out)."""
        for _ in range(1000):
            base = FRESH_PROMPTS[self.fresh % len(FRESH_PROMPTS)]
            rounds = self.fresh // len(FRESH_PROMPTS)
            self.fresh += 1
            # Three words of its own per round: a round's question is never similar to another's.
            question = f"{base} {who}" + (f" Case c{rounds}, ref r{rounds}, ticket t{rounds}." if rounds else "")
            if self.caches["plain"].lookup(question)[0] is None:
                return question
        raise AssertionError("no fresh question after 1000 tries")  # the words above make this unreachable

    def looks_up(self, kind: StepKind, message: str | None) -> bool | None:
        """Whether the app's cache will answer; a miss that is answered stores the answer, as the app does."""
        if kind.cache is None or message is None:
            return None
        cache = self.caches[kind.cache]
        hit = cache.lookup(message)[0] is not None
        if not hit and kind.expected == "200":
            cache.store(message, CachedAnswer("", None, 0, 0))
            if kind.cache == "plain":
                self.last_stored = message
        return hit

    def settle(self) -> None:
        """Messages and cache verdicts, in the order the app sees the turns: the session's, then serial ones."""
        ordered = [s for s in self.steps if not s.kind.serial] + [s for s in self.steps if s.kind.serial]
        planned: dict[int, Step] = {}
        for step in ordered:
            message = self.message(step.kind, step.turn)
            planned[id(step)] = replace(step, message=message, cache_hit=self.looks_up(step.kind, message))
        self.steps = [planned[id(step)] for step in self.steps]


def plan(requests: int, sessions: int, prefix: str = "load", mix: Mix = DEFAULT_MIX) -> list[list[Step]]:
    """``requests`` steps dealt round-robin to ``sessions`` conversations (fewer if requests are few).

    Serial steps keep their place (turn, session) here; the load runs them after the rest.
    """
    if requests < 0 or sessions < 1:
        raise ValueError("requests must be >= 0 and sessions >= 1")
    count = min(sessions, max(requests, 1))
    conversations = [_Conversation(number, f"{prefix}-{number}") for number in range(count)]
    feedback = 0
    for index in range(requests):
        conversation = conversations[index % count]
        kind = kind_at(index, mix)
        # Asking for a history that has no turn yet is a legitimate 404, not a failure.
        expected = "404" if kind.name == "history" and not conversation.has_history else kind.expected
        scored = None
        if kind.client == "feedback":
            scored, feedback = FEEDBACK_SCORES[feedback % len(FEEDBACK_SCORES)], feedback + 1
        who = persona(conversation.number)
        step = Step(kind, conversation.session_id, len(conversation.steps), expected, persona=who, feedback=scored)
        conversation.steps.append(step)
        conversation.has_history = conversation.has_history or kind.writes_history
    for conversation in conversations:
        conversation.settle()
    return [conversation.steps for conversation in conversations]


@dataclass(frozen=True)
class Expected:
    """What a run of the plan will make the app's operator helpers count, if every step goes as planned."""

    lookups: int
    hits: int
    failovers: int
    """Chains that switch to the fallback and are served by it."""
    exhausted: int
    feedback: Counter[str]
    """Feedback by sentiment."""


def expected(conversations: list[list[Step]]) -> Expected:
    steps = [step for steps in conversations for step in steps]
    faults = Counter(step.kind.fault for step in steps if step.kind.fault is not None)
    return Expected(
        lookups=sum(step.cache_hit is not None for step in steps),
        hits=sum(step.cache_hit is True for step in steps),
        failovers=faults[FAILOVER],
        exhausted=faults[EXHAUSTED],
        feedback=Counter(sentiment(step.feedback[0]) for step in steps if step.feedback is not None),
    )
