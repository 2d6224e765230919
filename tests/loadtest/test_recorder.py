"""The recorder turns Locust request events into per-endpoint rows (fed by hand here, no Locust)."""

from __future__ import annotations

import pytest

pytest.importorskip("hdrh", reason="hdrhistogram is in the loadtest dependencies")

from bench.loadtest.recorder import FIRST_EVENT, MAX_ERROR_KINDS, Recorder, error_message
from bench.loadtest.schema import TOTAL_KEY


def test_ramp_up_is_not_recorded_and_start_resets() -> None:
    recorder = Recorder()
    recorder.on_request("POST", "/chat/{session_id}", 99.0)
    recorder.start()
    recorder.on_request("POST", "/chat/{session_id}", 5.0)
    recorder.stop()
    recorder.on_request("POST", "/chat/{session_id}", 99.0)
    endpoints, total = recorder.snapshot(1.0)
    assert [(e.key, e.requests) for e in endpoints] == [("POST /chat/{session_id}", 1)]
    assert total.requests == 1 and total.latency_ms is not None and total.latency_ms.max == 5.0


def test_rows_per_endpoint_and_an_aggregate() -> None:
    recorder = Recorder()
    recorder.start()
    for ms in (4.0, 6.0, 8.0, 10.0):
        recorder.on_request("POST", "/chat/{session_id}", ms, 120)
    recorder.on_request("POST", "/chat/{session_id}/stream", 30.0, 900, context={FIRST_EVENT: 12.0})
    recorder.on_request("POST", "/chat/{session_id}/stream", 3.0, 0, exception=RuntimeError("HTTP 503"))
    endpoints, total = recorder.snapshot(2.0)
    chat, stream = endpoints
    assert (chat.key, chat.requests, chat.failures, chat.throughput_rps, chat.error_rate) == (
        "POST /chat/{session_id}",
        4,
        0,
        2.0,
        0.0,
    )
    assert chat.latency_ms is not None and chat.latency_ms.mean == 7.0 and chat.first_event_ms is None
    assert (stream.requests, stream.failures, stream.error_rate) == (2, 1, 0.5)
    # failed requests are not in latency: a fast 503 must not make the stream look quick
    assert stream.latency_ms is not None and stream.latency_ms.count == 1 and stream.latency_ms.min == 30.0
    assert stream.first_event_ms is not None and stream.first_event_ms.p50 == 12.0
    assert stream.errors == {"RuntimeError: HTTP 503": 1}
    assert (total.key, total.requests, total.failures, total.throughput_rps) == (TOTAL_KEY, 6, 1, 3.0)
    assert chat.histogram and total.histogram


@pytest.mark.parametrize(
    ("raised", "label"),
    [
        (ConnectionResetError("peer reset"), "ConnectionResetError: peer reset"),
        ("HTTP 429 ThrottlingException", "HTTP 429 ThrottlingException"),
        (
            RuntimeError("POST http://h/chat/lt-0a1b2c3d4e5f failed"),
            "RuntimeError: POST http://h/chat/{session_id} failed",
        ),
        (ValueError("x" * 500), "ValueError: " + "x" * 188),
    ],
)
def test_error_labels_are_stable_and_bounded(raised: BaseException | str, label: str) -> None:
    assert error_message(raised) == label


def test_distinct_error_kinds_are_capped() -> None:
    recorder = Recorder()
    recorder.start()
    for i in range(MAX_ERROR_KINDS + 5):
        recorder.on_request("GET", "/x", 1.0, exception=f"boom {i}")
    (row,), _ = recorder.snapshot(1.0)
    assert len(row.errors) == MAX_ERROR_KINDS + 1 and row.errors["other"] == 5 and row.failures == MAX_ERROR_KINDS + 5


def test_zero_window_gives_zero_throughput() -> None:
    recorder = Recorder()
    recorder.start()
    recorder.on_request("GET", "/health", 1.0)
    _, total = recorder.snapshot(0.0)
    assert total.throughput_rps == 0.0


def test_a_declared_failure_is_labelled_by_its_message_alone() -> None:
    class CatchResponseError(Exception):  # Locust's wrapper for response.failure("...")
        pass

    assert error_message(CatchResponseError("HTTP 500 SimulatedFailure")) == "HTTP 500 SimulatedFailure"
