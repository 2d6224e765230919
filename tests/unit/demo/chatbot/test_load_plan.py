"""The scripted load's plan: deterministic, bounded, and knowing what each step should get."""

from __future__ import annotations

from collections import Counter

import pytest

from otel_chatbot.demo.chatbot.load_plan import CYCLE, FAILURES, KINDS, kind_at, plan


def test_every_tenth_request_is_a_failure_of_a_rotating_kind() -> None:
    kinds = [kind_at(i).name for i in range(40)]
    assert kinds[:9] == list(CYCLE)
    assert [kinds[i] for i in (9, 19, 29, 39)] == list(FAILURES)


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
