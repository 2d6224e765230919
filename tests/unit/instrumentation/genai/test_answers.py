"""AnswerMemory: the last answer of each recent trace, bounded, least recently answered out first."""

from __future__ import annotations

import threading

import pytest

from otel_chatbot.instrumentation.genai.answers import Answer, AnswerMemory


def test_a_trace_keeps_its_latest_answer() -> None:
    memory = AnswerMemory()
    memory.remember(1, 10, 1, "first")
    memory.remember(1, 11, 1, None)
    assert memory.get(1) == Answer(11, 1, None)
    assert memory.get(2) is None and len(memory) == 1


def test_past_capacity_the_least_recently_answered_trace_goes() -> None:
    memory = AnswerMemory(capacity=3)
    for trace in (1, 2, 3):
        memory.remember(trace, trace, 0, None)
    memory.remember(1, 100, 0, None)  # trace 1 answered again: now the most recent
    memory.remember(4, 4, 0, None)
    assert [memory.get(t) is not None for t in (1, 2, 3, 4)] == [True, False, True, True]
    assert len(memory) == 3


def test_threads_share_it_and_the_bound_holds() -> None:
    memory = AnswerMemory(capacity=1000)

    def answer(offset: int) -> None:
        for trace in range(offset, offset + 5000):
            memory.remember(trace, trace, 1, "r")

    threads = [threading.Thread(target=answer, args=(n * 5000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(memory) == 1000


def test_a_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        AnswerMemory(capacity=0)
