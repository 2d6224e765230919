"""A stream's state: chunk times from the accumulator, an accumulator bug contained, one end whatever calls it."""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.trace import INVALID_SPAN

from otel_chatbot.genai.streams import ConverseStreamAccumulator
from otel_chatbot.guard import set_raise_internal_errors
from otel_chatbot.instrumentation.genai.stream_state import StreamState

DELTA = {"contentBlockDelta": {"delta": {"text": "hi"}}}


class Ends:
    """Stands in for the GenAICall: records each end_stream it is asked for."""

    def __init__(self) -> None:
        self.ends: list[str | None] = []

    def end_stream(self, state: StreamState, error_type: str | None) -> None:
        self.ends.append(error_type)


def state_of(accumulator: Any) -> tuple[StreamState, Ends]:
    ends = Ends()
    return StreamState(ends, INVALID_SPAN, accumulator), ends  # type: ignore[arg-type]


def test_chunk_times_follow_the_events_that_carried_content() -> None:
    state, _ = state_of(ConverseStreamAccumulator())
    state.feed({"messageStart": {"role": "assistant"}})
    assert state.first_chunk_at is None
    state.feed(DELTA)
    state.feed(DELTA)
    assert state.first_chunk_at == state.chunk_times[0] <= state.chunk_times[1]


def test_an_accumulator_error_is_contained() -> None:
    class Broken:
        chunks = 0

        def feed(self, event: Any) -> None:
            raise KeyError("bug")

    state, ends = state_of(Broken())
    set_raise_internal_errors(False)
    try:
        state.feed(DELTA)
    finally:
        set_raise_internal_errors(True)
    state.finish(None)
    assert ends.ends == [None]


def test_the_first_finish_wins_across_threads() -> None:
    state, ends = state_of(ConverseStreamAccumulator())
    threads = [threading.Thread(target=state.finish, args=(f"e{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state.finish(None)
    assert len(ends.ends) == 1 and state.done
