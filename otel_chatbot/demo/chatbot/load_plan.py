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
records on each step whether it will be a hit (``cache_hit``). That is exact while the app's
cache keeps every answer it stores (256, its capacity); a longer plan (a run that ends at its
deadline) gives no verdicts (:attr:`Expected.exact` is false). A question that must miss (a
throttled turn must reach Bedrock) carries four words no other question has.

A new scenario is one more :class:`StepKind` row in :data:`KINDS` and its name in a mix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
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
CACHE_CAPACITY = SemanticCache().capacity
FRESH_PROMPTS = (
    "My parcel has not arrived yet, can you check with the courier?",
    "Why was I charged twice for the same purchase?",
    "The zip of the jacket broke after one week of use.",
    "How do I change the email address on my profile?",
    "Is there a discount for students or teachers?",
    "Which gift cards do you sell in physical stores?",
)
"""Questions a session asks when its cache must miss (a failover turn's Bedrock call must happen); at most
8 words that count, so the four words of its own keep any two below the similarity threshold."""
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

    def settled(self, message: str | None, cache_hit: bool | None) -> Step:
        """This step with its message and cache verdict (``dataclasses.replace``, at a sixth of its cost)."""
        return Step(
            self.kind, self.session_id, self.turn, self.expected, message, self.persona, self.feedback, cache_hit
        )

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
        self.stored = 0
        """Answers stored in the simulated caches."""
        self.verdicts: dict[tuple[CacheName, str], bool] = {}
        """Lookups since the last store: a question asked again needs no second scan."""

    def message(self, kind: StepKind, turn: int) -> str | None:
        if kind.body is not None or kind.client == "feedback" or kind.method not in ("POST", "WS"):
            return None
        who = persona(self.number)
        if kind.prompt == "similar" and self.last_stored is not None:
            return f"{SIMILAR_PREFIX} {self.last_stored[0].lower()}{self.last_stored[1:]}"
        if kind.prompt == "fresh":
            number, self.fresh = self.fresh, self.fresh + 1
            tag = f"{self.number}x{number}"  # the session's and the question's: words no other question has
            ticket = f"[ticket T{tag}, ref R{tag}, case C{tag}, note N{tag}]"
            return f"{FRESH_PROMPTS[number % len(FRESH_PROMPTS)]} {who} {ticket}"
        return f"{PROMPTS[turn % len(PROMPTS)]} {who}"

    def looks_up(self, kind: StepKind, message: str | None) -> bool | None:
        """Whether the app's cache will answer; a miss that is answered stores the answer, as the app does."""
        if kind.cache is None or message is None:
            return None
        key = (kind.cache, message)
        hit = self.verdicts.get(key)
        if hit is None:
            hit = self.verdicts[key] = self.caches[kind.cache].lookup(message)[0] is not None
        if not hit and kind.expected == "200":
            self.caches[kind.cache].store(message, CachedAnswer("", None, 0, 0))
            self.verdicts.clear()
            self.stored += 1
            if kind.cache == "plain":
                self.last_stored = message
        return hit

    def settle(self, room: int) -> bool:
        """Messages and cache verdicts, in the order the app sees the turns: the session's, then serial ones.

        ``room``: answers the app's caches may still store before they evict; past it the verdicts
        stop (and this returns false), the messages go on.
        """
        order = sorted(range(len(self.steps)), key=lambda index: self.steps[index].kind.serial)  # stable
        for index in order:
            step = self.steps[index]
            message = self.message(step.kind, step.turn)
            hit = self.looks_up(step.kind, message) if self.stored <= room else None
            if message is not None or hit is not None:
                self.steps[index] = step.settled(message, hit)
        return self.stored <= room


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
    room = CACHE_CAPACITY
    for conversation in conversations:
        if not conversation.settle(room):
            room = -1  # the app's cache evicts: no verdict is exact any more
        room -= conversation.stored
    return [conversation.steps for conversation in conversations]


@dataclass(frozen=True)
class Expected:
    """What a run of the plan will make the app's operator helpers count, if every step goes as planned."""

    lookups: int
    hits: int
    """Exact when :attr:`exact` (the app's cache keeps every answer of the plan)."""
    failovers: int
    """Chains that switch to the fallback and are served by it."""
    exhausted: int
    feedback: Counter[str]
    """Feedback by sentiment."""
    exact: bool


def expected(conversations: list[list[Step]]) -> Expected:
    steps = [step for steps in conversations for step in steps]
    faults = Counter(step.kind.fault for step in steps if step.kind.fault is not None)
    cached = [step for step in steps if step.kind.cache is not None and step.message is not None]
    return Expected(
        lookups=len(cached),
        hits=sum(step.cache_hit is True for step in cached),
        failovers=faults[FAILOVER],
        exhausted=faults[EXHAUSTED],
        feedback=Counter(sentiment(step.feedback[0]) for step in steps if step.feedback is not None),
        exact=all(step.cache_hit is not None for step in cached),
    )
