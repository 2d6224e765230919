"""Fault tables: validation names the bad field, the queue hands each fault to requests it fits."""

from __future__ import annotations

import pytest

from otel_chatbot.testing.standin.api import HTTP_FAULTS
from otel_chatbot.testing.standin.faults import FaultCatalogue, FaultQueue, FaultSpec

CATALOGUE = FaultCatalogue(
    [
        FaultSpec("boom", {"message": "default"}),
        FaultSpec("cut", {"after_events": 1}, applies="stream"),
        FaultSpec("broken", applies="body"),
        FaultSpec("pick", {"kind": "a"}, choices={"kind": frozenset({"a", "b"})}),
    ],
    selectors={"model": None, "operation": frozenset({"Converse", "Invoke"})},
)


def test_defaults_fill_in_and_selectors_default_to_any() -> None:
    fault = CATALOGUE.make("cut")
    assert (fault.count, fault.selectors, fault.params) == (1, {"model": None, "operation": None}, {"after_events": 1})
    assert fault.to_json() == {"fault": "cut", "count": 1, "model": None, "operation": None, "after_events": 1}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"fault": "nope"}, "unknown fault 'nope'"),
        ({"fault": "boom", "count": 0}, "count must be a positive integer"),
        ({"fault": "boom", "count": True}, "count must be a positive integer"),
        ({"fault": "boom", "after_events": 2}, r"unknown parameters for boom: \['after_events'\]"),
        ({"fault": "boom", "message": 3}, "message must be a string"),
        ({"fault": "cut", "after_events": -1}, "after_events must be a number between 0 and 10000"),
        ({"fault": "cut", "after_events": "2"}, "after_events must be a number"),
        ({"fault": "pick", "kind": "c"}, r"kind must be one of \['a', 'b'\]"),
        ({"fault": "boom", "operation": "Other"}, "unknown operation 'Other'"),
        ({"fault": "boom", "model": 7}, "model must be a string"),
    ],
)
def test_bad_faults_are_refused_naming_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CATALOGUE.from_json(fields)


def test_from_json_needs_an_object_with_a_fault_name() -> None:
    for document in (None, [], {"count": 1}):
        with pytest.raises(ValueError, match='"fault" name'):
            CATALOGUE.from_json(document)


def test_the_queue_matches_selectors_and_answer_kind_then_counts_down() -> None:
    queue = FaultQueue()
    queue.add(CATALOGUE.make("cut", count=2, model="m"))
    queue.add(CATALOGUE.make("broken"))
    assert queue.take({"model": "other"}, streaming=True) is None
    assert queue.take({"model": "m"}, streaming=False).name == "broken"
    assert queue.take({"model": "m"}, streaming=False) is None  # cut waits for a stream
    taken = [queue.take({"model": "m"}, streaming=True) for _ in range(3)]
    assert [fault.name if fault else None for fault in taken] == ["cut", "cut", None]
    assert queue.pending() == []


def test_http_faults_bound_their_delays() -> None:
    assert HTTP_FAULTS.make("slow", delay_s=0.5).params == {"delay_s": 0.5, "chunk_delay_s": 0.0}
    assert HTTP_FAULTS.make("rate_limit", retry_after_s=0.25).params["retry_after_s"] == 0.25
    with pytest.raises(ValueError, match="delay_s must be a number between 0 and 5"):
        HTTP_FAULTS.make("slow", delay_s=6)
    assert HTTP_FAULTS.names == {
        "rate_limit",
        "server_error",
        "overloaded",
        "malformed",
        "body_cut",
        "slow",
        "stream_cut",
        "stream_error",
    }
