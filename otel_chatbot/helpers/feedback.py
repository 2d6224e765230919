"""``record_feedback()``: a user's verdict on an answer, tied to the answer's trace.

::

    from otel_chatbot import record_feedback

    @app.post("/feedback")
    async def feedback(body: Feedback) -> None:
        record_feedback(body.trace_id, body.score, label=body.label, comment=body.comment)

``trace_id`` is the ``X-Trace-Id`` the distro returned with the answer (32 hex digits; an
int works too). It emits the GenAI convention's ``gen_ai.evaluation.result`` event: a log
record in the answer's trace (its trace id, and the span id of the trace's last GenAI
call when this process still remembers it) with ``gen_ai.evaluation.name`` =
``user_feedback``, ``gen_ai.evaluation.score.value``, ``gen_ai.evaluation.score.label`` and
``gen_ai.response.id`` when known; and the metrics ``chatbot.feedback`` (by the label and
``chatbot.feedback.sentiment``) and ``chatbot.feedback.score``.

``score`` is a number from 0 (worst) to 1 (best): thumbs are 0 and 1, five stars
``(stars - 1) / 4``. The sentiment is ``negative`` below 0.5, ``neutral`` at 0.5 and
``positive`` above: the negative-feedback alert counts it. ``label`` becomes a metric
attribute: the first 20 distinct labels are kept, later ones are recorded as ``_OTHER``,
each cut to 64 characters. ``comment`` is content: it goes into the event (as
``gen_ai.evaluation.explanation``) only when content capture is on
(``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``), redacted with the configured
patterns and bounded by ``OTEL_CHATBOT_CONTENT_MAX_BYTES``.

A malformed trace id (not 32 hex digits, or all zeros) is a ValueError, a score outside
[0, 1] too. Feedback on a trace this process does not remember (another worker's, or an
old one: feedback comes late) is recorded all the same, without the span id and response id.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from opentelemetry._logs import SeverityNumber
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from otel_chatbot.cardinality import FirstSeen
from otel_chatbot.guard import guarded
from otel_chatbot.helpers import names
from otel_chatbot.helpers.checks import check_fraction
from otel_chatbot.helpers.scope import HelperScope, current_scope
from otel_chatbot.instrumentation.prebound import Bindings

if TYPE_CHECKING:
    from otel_chatbot.genai import Redactor

EVALUATION_NAME = gen_ai.GEN_AI_EVALUATION_NAME
SCORE_VALUE = gen_ai.GEN_AI_EVALUATION_SCORE_VALUE
SCORE_LABEL = gen_ai.GEN_AI_EVALUATION_SCORE_LABEL
EXPLANATION = gen_ai.GEN_AI_EVALUATION_EXPLANATION
RESPONSE_ID = gen_ai.GEN_AI_RESPONSE_ID
LABEL_LIMIT = 20
LABEL_MAX_CHARS = 64
TRUNCATION_MARKER = "...[truncated]"
_HEX = frozenset("0123456789abcdefABCDEF")
_MAX_TRACE_ID = (1 << 128) - 1


def parse_trace_id(value: object) -> int:
    """The trace id as an int, from the ``X-Trace-Id`` form (32 hex digits) or an int."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"record_feedback: trace_id must be a str of 32 hex digits, got {type(value).__name__}")
    if isinstance(value, int):
        trace_id = value
    else:
        text = value.strip()
        if len(text) != 32 or not _HEX.issuperset(text):
            raise ValueError(
                f"record_feedback: trace_id must be 32 hex digits (the X-Trace-Id response header), got {value!r}"
            )
        trace_id = int(text, 16)
    if not 0 < trace_id <= _MAX_TRACE_ID:
        raise ValueError(f"record_feedback: trace_id {value!r} is not a valid trace id (zero or over 128 bits)")
    return trace_id


def sentiment_of(score: float) -> str:
    if score < 0.5:
        return names.SENTIMENT_NEGATIVE
    return names.SENTIMENT_POSITIVE if score > 0.5 else names.SENTIMENT_NEUTRAL


def bounded_text(text: str, max_bytes: int, redactor: Redactor | None) -> str:
    """``text`` redacted, then cut to at most ``max_bytes`` UTF-8 bytes (ending in a marker when cut)."""
    if redactor is not None:
        text = redactor.redact(text)
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max(0, max_bytes - len(TRUNCATION_MARKER))
    return encoded[:room].decode("utf-8", errors="ignore") + TRUNCATION_MARKER


def _feedback_attributes(label: str | None, sentiment: str) -> dict[str, str]:
    attrs = {names.FEEDBACK_SENTIMENT: sentiment}
    if label is not None:
        attrs[SCORE_LABEL] = label
    return attrs


def _score_attributes() -> dict[str, str]:
    return {EVALUATION_NAME: names.FEEDBACK_EVALUATION_NAME}


class FeedbackInstruments:
    """The feedback metrics and event logger of one configuration, and its content rules."""

    def __init__(self, scope: HelperScope) -> None:
        meter, settings = scope.meter, scope.settings
        self.scope = scope
        self.labels = FirstSeen(SCORE_LABEL, LABEL_LIMIT)
        self.count = Bindings(
            meter.create_counter(names.FEEDBACK, unit="{feedback}", description="User feedback on answers."),
            _feedback_attributes,
        )
        self.score = Bindings(
            meter.create_histogram(
                names.FEEDBACK_SCORE,
                unit="1",
                description="Scores users gave answers (0 worst, 1 best).",
                explicit_bucket_boundaries_advisory=list(names.FEEDBACK_SCORE_BUCKETS),
            ),
            _score_attributes,
        )
        self.capture = settings.capture_message_content
        self.max_bytes = settings.content_max_bytes
        self.redactor: Redactor | None = None
        if self.capture:
            from otel_chatbot.genai import Redactor

            self.redactor = Redactor(extra_patterns=settings.redact_patterns)

    def record(self, trace_id: int, score: float, label: str | None, comment: str | None) -> None:
        metric_label = self.labels(label) if label is not None else None
        self.count.get(metric_label, sentiment_of(score)).add(1)
        self.score.get().record(score)
        attributes: dict[str, str | float] = {EVALUATION_NAME: names.FEEDBACK_EVALUATION_NAME, SCORE_VALUE: score}
        if label is not None:
            attributes[SCORE_LABEL] = label
        answer = self.scope.last_answer(trace_id)
        span_id, flags = 0, TraceFlags.DEFAULT
        if answer is not None:
            span_id, flags = answer.span_id, answer.trace_flags
            if answer.response_id:
                attributes[RESPONSE_ID] = answer.response_id
        if comment and self.capture:
            attributes[EXPLANATION] = bounded_text(comment, self.max_bytes, self.redactor)
        # The answer's trace, not the feedback request's: the event belongs with what it judges.
        answer_context = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))
        now = time.time_ns()
        self.scope.logger.emit(
            timestamp=now,
            observed_timestamp=now,
            context=set_span_in_context(NonRecordingSpan(answer_context)),
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            event_name=names.EVALUATION_RESULT_EVENT,
            attributes=attributes,
        )


def record_feedback(trace_id: str | int, score: float, label: str | None = None, comment: str | None = None) -> None:
    """Record a user's ``score`` (0-1) of the answer of trace ``trace_id`` (the ``X-Trace-Id`` it came with)."""
    parsed = parse_trace_id(trace_id)
    checked = check_fraction("record_feedback", "score", score)
    if label is not None:
        if not isinstance(label, str):
            raise TypeError(f"record_feedback: label must be a str or None, got {type(label).__name__}")
        label = label.strip()[:LABEL_MAX_CHARS] or None
    if comment is not None and not isinstance(comment, str):
        raise TypeError(f"record_feedback: comment must be a str or None, got {type(comment).__name__}")
    scope = current_scope()
    if scope is None:
        return
    with guarded("record_feedback"):
        scope.part(FeedbackInstruments).record(parsed, checked, label, comment)
