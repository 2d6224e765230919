"""The scripted load's plan: deterministic, bounded, and knowing what each step should get."""

from __future__ import annotations

from collections import Counter

import pytest

from otel_chatbot.demo.chatbot.load_plan import CYCLE, FAILURES, KINDS, LEFT, counts, kind_at, plan


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


def test_plan_is_deterministic_and_covers_every_surface() -> None:
    assert plan(40, 4, "x") == plan(40, 4, "x")
    kinds = Counter(step.kind.name for steps in plan(40, 4) for step in steps)
    assert set(kinds) == set(KINDS)


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
