"""The scripted load's plan: deterministic, bounded, and knowing what each step should get."""

from __future__ import annotations

from collections import Counter

import pytest

from otel_chatbot.demo.chatbot.cache import DEFAULT_THRESHOLD, cosine, words
from otel_chatbot.demo.chatbot.load_plan import (
    CYCLE,
    DEMO_MIX,
    FAILURES,
    FEEDBACK_SCORES,
    KINDS,
    LEFT,
    MIXES,
    counts,
    expected,
    kind_at,
    plan,
)


def test_every_tenth_request_is_a_failure_of_a_rotating_kind() -> None:
    kinds = [kind_at(i).name for i in range(40)]
    assert [kinds[i] for i in (9, 19, 29, 39)] == list(FAILURES)
    # The other requests walk the whole cycle, whatever its length.
    others = [name for i, name in enumerate(kinds) if i % 10 != 9]
    assert others == [*CYCLE, *CYCLE, *CYCLE][: len(others)]


@pytest.mark.parametrize("requests", [0, 1, 10, 20, 60, 120, 241])
def test_counts_are_what_the_plan_deals(requests: int) -> None:
    dealt = Counter(step.kind.name for steps in plan(requests, 4) for step in steps)
    assert counts(requests) == dealt
    assert sum(counts(requests).values()) == requests


def test_counts_of_a_hundred_and_twenty_requests() -> None:
    """Ten cycles of twelve (with a failure in every ten requests): the mix the stack test drives twice."""
    assert counts(120) == {
        "chat": 18,
        "stream": 18,
        "ws": 18,
        "stream_leave": 9,
        "handbook_chat": 9,
        "agent": 9,
        "v1_chat": 9,
        "history": 9,
        "health": 9,
        **dict.fromkeys(FAILURES, 3),
    }


def test_chat_experience_kinds() -> None:
    leave, stream, ws = KINDS["stream_leave"], KINDS["stream"], KINDS["ws"]
    assert leave.route == stream.route and leave.client == stream.client == "sse"
    assert leave.expected == LEFT and leave.leave_after_events and stream.leave_after_events is None
    assert not leave.writes_history  # the app records a streamed turn only once it is complete
    assert ws.client == "ws" and ws.turns > 1
    assert KINDS["handbook_chat"].options == {"handbook": True}


@pytest.mark.parametrize(("requests", "sessions"), [(0, 4), (1, 4), (3, 4), (20, 4), (61, 5), (200, 1)])
def test_plan_deals_exactly_the_requests(requests: int, sessions: int) -> None:
    conversations = plan(requests, sessions, prefix="t")
    assert sum(len(steps) for steps in conversations) == requests
    assert len(conversations) == min(sessions, max(requests, 1))
    for number, steps in enumerate(conversations):
        assert {step.session_id for step in steps} <= {f"t-{number}"}
        assert [step.turn for step in steps] == list(range(len(steps)))


def test_plan_is_deterministic_and_the_mixes_cover_every_surface() -> None:
    assert plan(40, 4, "x", DEMO_MIX) == plan(40, 4, "x", DEMO_MIX)
    default = Counter(step.kind.name for steps in plan(40, 4) for step in steps)
    assert set(default) == set(CYCLE) | set(FAILURES)
    demo = Counter(step.kind.name for steps in plan(60, 4, mix=DEMO_MIX) for step in steps)
    assert set(demo) == set(KINDS)
    assert set(MIXES) == {"default", "demo"}


def test_the_demo_mix_has_a_share_of_turns_per_provider() -> None:
    planned = counts(60, DEMO_MIX)
    for provider in ("openai", "anthropic", "ollama"):
        assert planned[f"{provider}_chat"] >= 2 and planned[f"{provider}_stream"] >= 2
        assert all(
            step.body()["provider"] == provider
            for steps in plan(60, 4, mix=DEMO_MIX)
            for step in steps
            if step.kind.name.startswith(provider)
        )


@pytest.mark.parametrize(("requests", "sessions"), [(60, 4), (120, 4), (300, 8), (500, 3), (40, 1)])
def test_what_the_operator_helpers_will_count_follows_from_the_plan(requests: int, sessions: int) -> None:
    conversations = plan(requests, sessions, mix=DEMO_MIX)
    planned, will = counts(requests, DEMO_MIX), expected(conversations)
    cached_kinds = ("chat", "v1_chat", "handbook_chat", "similar_chat", "failover_chat", "exhausted")
    assert will.lookups == sum(planned[name] for name in cached_kinds)
    assert (will.failovers, will.exhausted) == (planned["failover_chat"], planned["exhausted"])
    assert sum(will.feedback.values()) == planned["feedback"]
    steps = [step for steps in conversations for step in steps]
    # A turn whose Bedrock call the load throttles must reach Bedrock: never a cache hit.
    assert all(step.cache_hit is False for step in steps if step.kind.fault)
    # A question asked again in other words is a hit (once its session has asked one).
    similar = [step for step in steps if step.kind.name == "similar_chat"]
    assert similar and all(step.cache_hit for step in similar if step.message and step.message.startswith("Sorry"))
    assert will.hits >= sum(1 for step in similar if step.cache_hit)


@pytest.mark.parametrize(("requests", "sessions"), [(60, 4), (300, 8), (500, 3)])
def test_no_session_can_hit_another_sessions_answers(requests: int, sessions: int) -> None:
    """What makes the planned hits exact although sessions run side by side."""
    conversations = plan(requests, sessions, mix=DEMO_MIX)
    questions = [[words(step.message) for step in steps if step.kind.cache and step.message] for steps in conversations]
    closest = max(
        cosine(a, b)
        for one, mine in enumerate(questions)
        for other, theirs in enumerate(questions)
        if one < other
        for a in mine
        for b in theirs
    )
    assert closest < DEFAULT_THRESHOLD, closest


def test_feedback_scores_take_turns() -> None:
    steps = sorted(
        (step for steps in plan(200, 3, mix=DEMO_MIX) for step in steps if step.feedback),
        key=lambda step: (step.turn, step.session_id),
    )
    assert {step.feedback for step in steps} == set(FEEDBACK_SCORES)
    assert {step.body()["label"] for step in steps} == {"thumbs_up", "thumbs_down", "stars"}
    assert expected(plan(200, 3, mix=DEMO_MIX)).feedback == {"positive": 16, "negative": 6}


def test_history_before_any_chat_in_that_session_expects_404() -> None:
    # With 8 sessions, request 7 (history) is the first step of session 7.
    conversations = plan(8, 8, "h")
    (history,) = conversations[7]
    assert history.kind.name == "history"
    assert history.expected == "404"
    # With 4 sessions, session 3 chatted at request 3 before asking for its history at 7.
    assert plan(8, 4, "h")[3][1].expected == "200"


def test_steps_fill_paths_and_bodies() -> None:
    steps = [step for steps in plan(40, 2, "s") for step in steps]
    handbook = next(step for step in steps if step.kind.name == "handbook_chat")
    assert handbook.body()["handbook"] is True and handbook.body()["message"]
    ws = next(step for step in steps if step.kind.name == "ws")
    assert ws.body(0)["message"] != ws.body(1)["message"]  # a conversation goes on
    fail = next(step for step in steps if step.kind.name == "fail")
    assert fail.path == f"/chat/{fail.session_id}/fail"
    assert fail.body()["message"]
    invalid = next(step for step in steps if step.kind.name == "invalid")
    assert invalid.body() == {"message": ""} and invalid.expected == "422"
    bad_model = next(step for step in steps if step.kind.name == "bad_model")
    assert bad_model.body()["model"] and bad_model.expected == "400"
    not_found = next(step for step in steps if step.kind.name == "not_found")
    assert not_found.path.startswith("/no-such-route/") and not_found.expected == "404"


def test_plan_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="sessions"):
        plan(10, 0)
    with pytest.raises(ValueError, match="requests"):
        plan(-1, 2)
