"""record_feedback(): the gen_ai.evaluation.result event in the answer's trace, the metrics, the checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber

from otel_chatbot import record_feedback
from otel_chatbot.genai.redaction import Redactor
from otel_chatbot.helpers.feedback import bounded_text, parse_trace_id, sentiment_of
from tests.unit.helpers.helper_kit import Configured

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"  # an X-Trace-Id as the distro returns it
Configure = Callable[..., Configured]


def events(kit: Configured) -> list[Any]:
    return [record.log_record for record in kit.logs.get_finished_logs()]


def test_feedback_on_an_unremembered_trace_is_an_event_in_that_trace(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    record_feedback(TRACE, 0.0, label="thumbs_down", comment="wrong order number")
    (event,) = events(kit)
    assert event.event_name == "gen_ai.evaluation.result"
    assert event.trace_id == int(TRACE, 16)
    assert event.span_id == 0, "no span id this process could vouch for"
    assert event.severity_number is SeverityNumber.INFO
    assert event.body is None
    assert dict(event.attributes) == {
        "gen_ai.evaluation.name": "user_feedback",
        "gen_ai.evaluation.score.value": 0.0,
        "gen_ai.evaluation.score.label": "thumbs_down",
    }, "no comment without content capture"
    (scope,) = {record.instrumentation_scope.name for record in kit.logs.get_finished_logs()}
    assert scope == "otel_chatbot.helpers"


def test_feedback_on_a_remembered_answer_points_at_its_genai_span_and_response(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    kit.instrumentations.answers.remember(int(TRACE, 16), 0x00F067AA0BA902B7, 1, "msg_01XFDUDYJgAACzvnptvVoYEL")
    record_feedback(TRACE, 1, label="thumbs_up")
    (event,) = events(kit)
    assert (event.trace_id, event.span_id, int(event.trace_flags)) == (int(TRACE, 16), 0x00F067AA0BA902B7, 1)
    assert event.attributes["gen_ai.response.id"] == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert event.attributes["gen_ai.evaluation.score.value"] == 1.0


def test_the_metrics_count_feedback_by_label_and_sentiment_and_keep_the_scores(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    for score, label in ((1, "thumbs_up"), (1, "thumbs_up"), (0, "thumbs_down"), (0.5, None), (0.25, "stars")):
        record_feedback(TRACE, score, label=label)
    keys = ("gen_ai.evaluation.score.label", "chatbot.feedback.sentiment")
    assert kit.values("chatbot.feedback", *keys) == {
        ("thumbs_up", "positive"): 2,
        ("thumbs_down", "negative"): 1,
        (None, "neutral"): 1,
        ("stars", "negative"): 1,
    }
    (scores,) = kit.points("chatbot.feedback.score")
    assert scores.count == 5 and scores.sum == pytest.approx(2.75)
    assert dict(scores.attributes) == {"gen_ai.evaluation.name": "user_feedback"}
    assert list(scores.explicit_bounds) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert kit.unit("chatbot.feedback") == "{feedback}" and kit.unit("chatbot.feedback.score") == "1"


def test_a_comment_is_exported_only_with_content_capture_redacted_and_bounded(configure_helpers: Configure) -> None:
    kit = configure_helpers(capture_message_content=True, content_max_bytes=64, redact_patterns=[r"order \d+"])
    record_feedback(TRACE, 0, comment="mail me at bob@example.com about order 12345 " + "é" * 100)
    (event,) = events(kit)
    explanation = event.attributes["gen_ai.evaluation.explanation"]
    assert "bob@example.com" not in explanation and "12345" not in explanation
    assert len(explanation.encode()) <= 64 and explanation.endswith("...[truncated]")


def test_labels_are_bounded_in_length_and_in_number(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    record_feedback(TRACE, 1, label="x" * 100)
    for index in range(25):
        record_feedback(TRACE, 1, label=f"label-{index}")
    labels = kit.values("chatbot.feedback", "gen_ai.evaluation.score.label")
    assert ("x" * 64,) in labels
    assert len(labels) == 21 and labels[("_OTHER",)] == 6
    assert events(kit)[-1].attributes["gen_ai.evaluation.score.label"] == "label-24", "the event keeps the label"


@pytest.mark.parametrize(
    ("trace_id", "error", "message"),
    [
        ("4bf92f3577b34da6a3ce929d0e0e473", ValueError, "must be 32 hex digits"),
        ("4bf92f3577b34da6a3ce929d0e0e473g", ValueError, "must be 32 hex digits"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ValueError, "must be 32 hex digits"),
        ("0" * 32, ValueError, "is not a valid trace id"),
        (0, ValueError, "is not a valid trace id"),
        (1 << 128, ValueError, "is not a valid trace id"),
        (None, TypeError, "trace_id must be a str of 32 hex digits, got NoneType"),
        (True, TypeError, "trace_id must be a str"),
    ],
)
@pytest.mark.parametrize("configured", [True, False], ids=["configured", "not-configured"])
def test_a_malformed_trace_id_is_a_value_error(
    configure_helpers: Configure, trace_id: Any, error: type[Exception], message: str, configured: bool
) -> None:
    if configured:
        configure_helpers()
    with pytest.raises(error, match=message):
        record_feedback(trace_id, 1)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"score": 1.5}, ValueError, "score must be between 0 and 1, got 1.5"),
        ({"score": -1}, ValueError, "score must be between 0 and 1"),
        ({"score": "5"}, TypeError, "score must be a number between 0 and 1"),
        ({"score": True}, TypeError, "score must be a number"),
        ({"score": 1, "label": 3}, TypeError, "label must be a str or None"),
        ({"score": 1, "comment": b"bytes"}, TypeError, "comment must be a str or None"),
    ],
)
def test_bad_scores_labels_and_comments_are_refused(
    configure_helpers: Configure, arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    kit = configure_helpers()
    with pytest.raises(error, match=message):
        record_feedback(TRACE, **arguments)
    assert events(kit) == []


def test_trace_ids_in_every_accepted_form() -> None:
    assert parse_trace_id(TRACE) == parse_trace_id(TRACE.upper()) == parse_trace_id(f" {TRACE}\n") == int(TRACE, 16)
    assert parse_trace_id(int(TRACE, 16)) == int(TRACE, 16)


def test_without_configure_feedback_is_checked_and_dropped() -> None:
    record_feedback(TRACE, 0.75, label="stars", comment="fine")


@pytest.mark.parametrize(
    ("score", "sentiment"), [(0, "negative"), (0.49, "negative"), (0.5, "neutral"), (1, "positive")]
)
def test_sentiment_splits_at_one_half(score: float, sentiment: str) -> None:
    assert sentiment_of(score) == sentiment


def test_bounded_text_cuts_on_a_character_boundary() -> None:
    assert bounded_text("short", 64, None) == "short"
    cut = bounded_text("ü" * 50, 20, None)
    assert cut == "ü" * 3 + "...[truncated]" and len(cut.encode()) <= 20
    assert bounded_text("token AKIAIOSFODNN7EXAMPLE", 64, Redactor()) == "token [REDACTED]"
