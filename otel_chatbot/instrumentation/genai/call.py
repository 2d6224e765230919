"""One GenAI call from request to outcome: the provider-neutral span-finishing path.

The library wiring (botocore; the HTTP clients) finds the call's row in an
operation table, creates a :class:`GenAICall` before the span starts (its
:meth:`~GenAICall.start_attributes` go on the span at start, so samplers see them), and
reports the outcome: :meth:`~GenAICall.finish` for an answer complete when the call
returns, :meth:`~GenAICall.fail` when the call raised, or :meth:`~GenAICall.stream` for a
streamed answer, whose span :meth:`~GenAICall.end_stream` ends exactly once. Response
attributes, cost, throttling, error type, metrics, time to first chunk and per chunk,
output capture and agent step spans are all decided here, the same for every provider.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes, server_attributes
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from otel_chatbot.compat import span_attribute_setter, span_ender
from otel_chatbot.genai import GenAIResponse, is_throttling, names
from otel_chatbot.genai.agents import AgentStep, step_window
from otel_chatbot.genai.messages import Message
from otel_chatbot.genai.operations import Operation, Params, StreamAccumulator
from otel_chatbot.instrumentation.genai.answers import AnswerMemory
from otel_chatbot.instrumentation.genai.capture import ContentCapture
from otel_chatbot.instrumentation.genai.metrics import GenAIMetrics
from otel_chatbot.instrumentation.genai.stream_state import StreamState
from otel_chatbot.instrumentation.request_context import current_conversation_id

INPUT_MESSAGES = gen_ai.GEN_AI_INPUT_MESSAGES
OUTPUT_MESSAGES = gen_ai.GEN_AI_OUTPUT_MESSAGES
CONVERSATION_ID = gen_ai.GEN_AI_CONVERSATION_ID
TIME_TO_FIRST_CHUNK = gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
ERROR_TYPE = error_attributes.ERROR_TYPE
SERVER_ADDRESS = server_attributes.SERVER_ADDRESS
SERVER_PORT = server_attributes.SERVER_PORT

_NO_RESPONSE = GenAIResponse()


class GenAITelemetry:
    """What every GenAI call of one instrumentation scope records into: one per configuration.

    ``tracer`` makes the child spans a stream describes (agent steps); the call's own span
    is made by the library wiring, which knows the library's conventions too. ``answers``
    remembers each trace's last answer for user feedback (``otel_chatbot.record_feedback``).
    """

    def __init__(
        self, tracer: Tracer, metrics: GenAIMetrics, capture: ContentCapture, answers: AnswerMemory | None = None
    ) -> None:
        self.tracer = tracer
        self.metrics = metrics
        self.capture = capture
        self.answers = answers
        self.set_span_attributes = span_attribute_setter()
        # Ends the GenAI spans (the wiring's, the steps'): tracers of one provider share its processors.
        self.end_span = span_ender(tracer)


class GenAICall:
    """One call in flight: its row, its parameters, what it asked for, and when it started.

    Created per call (the only per-call object of the GenAI layer); holds no shared state.
    ``is_async`` tells wiring that must not block (reading a body) which client made it.
    ``metric_request`` is what metrics and cost are keyed by: ``request`` itself, unless
    the model asked for is an alias whose model is known (:meth:`asked_for`).
    """

    __slots__ = ("is_async", "metric_request", "operation", "params", "request", "start", "telemetry")

    def __init__(
        self, telemetry: GenAITelemetry, operation: Operation, params: Params, *, is_async: bool, start: float
    ) -> None:
        self.telemetry = telemetry
        self.operation = operation
        self.params = params
        self.is_async = is_async
        self.start = start
        self.request = self.metric_request = operation.request(params)

    def asked_for(self, alias: str) -> None:
        """The app named ``alias`` (an application inference profile), parsed here as the model behind it.

        ``params`` named the model behind it, so every parser read the call as that model's.
        The span keeps what the app asked for (``gen_ai.request.model`` = ``alias``) and shows
        the model behind as ``gen_ai.response.model`` when the provider names none; metrics
        and cost use the model behind, so dashboards aggregate by model and aliases (often
        one per tenant) add no series. Call it before the span starts.
        """
        self.metric_request = self.request
        self.request = replace(self.request, model=alias)

    @property
    def span_name(self) -> str:
        return self.request.span_name

    @property
    def ends_span_later(self) -> bool:
        return self.operation.ends_span_later

    def start_attributes(self, server_address: str | None, server_port: int | None) -> dict[str, Any]:
        """The span's attributes at start: the request facts, conversation, server, captured input."""
        attrs: dict[str, Any] = self.request.attributes()
        if CONVERSATION_ID not in attrs:
            conversation = current_conversation_id()
            if conversation:
                attrs[CONVERSATION_ID] = conversation
        if server_address:
            attrs[SERVER_ADDRESS] = server_address
            if server_port:
                attrs[SERVER_PORT] = server_port
        capture = self.telemetry.capture
        if capture.enabled and self.operation.input_messages is not None:
            messages = self.operation.input_messages(self.params)
            if messages:
                attrs[INPUT_MESSAGES] = capture.serialize(messages)
        return attrs

    def finish(
        self,
        span: Span,
        response: GenAIResponse,
        error_type: str | None = None,
        output_messages: Sequence[Message] | None = None,
    ) -> None:
        """Record the outcome on ``span`` and in the metrics; ending the span is the caller's."""
        telemetry = self.telemetry
        request = self.metric_request
        if request is not self.request and response.response_model is None:
            response = replace(response, response_model=request.model)
        attributes = response.attributes()
        cost = telemetry.metrics.compute_cost(request, response)
        if cost is not None:
            attributes[names.GEN_AI_USAGE_COST] = cost.total
        if error_type:
            attributes[ERROR_TYPE] = error_type
        telemetry.set_span_attributes(span, attributes)  # one call: the same attributes, in the same order
        if error_type:
            span.set_status(Status(StatusCode.ERROR, error_type))
            if is_throttling(error_type):
                telemetry.metrics.record_throttle(request)
        if output_messages is not None and telemetry.capture.enabled:
            span.set_attribute(OUTPUT_MESSAGES, telemetry.capture.serialize(output_messages))
        telemetry.metrics.record(request, response, time.perf_counter() - self.start, error_type, cost)
        if telemetry.answers is not None and not error_type:
            context = span.get_span_context()
            if context.is_valid:
                telemetry.answers.remember(context.trace_id, context.span_id, context.trace_flags, response.response_id)

    def fail(self, error_type: str) -> None:
        """The call raised (the wiring marked the span): count it, and the throttle if it was one."""
        metrics = self.telemetry.metrics
        if is_throttling(error_type):
            metrics.record_throttle(self.metric_request)
        metrics.record(self.metric_request, _NO_RESPONSE, time.perf_counter() - self.start, error_type, None)

    def stream(self, span: Span) -> StreamState:
        """The state the stream's wrapper feeds; the span now ends when the stream does."""
        spec = self.operation.stream
        if spec is None:
            raise ValueError(f"{self.request.operation_name}: the operation's row has no stream")
        accumulator: StreamAccumulator = spec.accumulator(self.params, self.telemetry.capture.enabled)
        return StreamState(self, span, accumulator)

    def end_stream(self, state: StreamState, error_type: str | None) -> None:
        """The stream ended (completed, broke, closed or dropped): finish and end the span."""
        self.telemetry.end_span(state.span, self.finish_stream(state, error_type))

    def finish_stream(self, state: StreamState, error_type: str | None) -> int | None:
        """Record the stream's outcome and its step spans; the span's end time (None: now) is returned, not applied."""
        span = state.span
        accumulator = state.accumulator
        response = accumulator.response()
        if state.first_chunk_at is not None:
            time_to_first_chunk = state.first_chunk_at - self.start
            span.set_attribute(TIME_TO_FIRST_CHUNK, time_to_first_chunk)
            self.telemetry.metrics.record_chunk_times(
                self.metric_request, response, time_to_first_chunk, state.chunk_times
            )
        steps = accumulator.steps
        end_ns = time.time_ns() if steps else None
        if end_ns is not None:
            self._step_spans(span, steps, end_ns)
        output = accumulator.output_messages() if self.telemetry.capture.enabled else None
        self.finish(span, response, error_type or response.error_type, output or None)
        return end_ns

    def _step_spans(self, parent: Span, steps: Sequence[AgentStep], end_ns: int) -> None:
        """A child span per step the stream described, at the times the provider reported (within the parent)."""
        start_ns = _start_time_ns(parent)
        if start_ns is None:
            start_ns = end_ns - int((time.perf_counter() - self.start) * 1e9)
        context = trace.set_span_in_context(parent)
        tracer, end_span = self.telemetry.tracer, self.telemetry.end_span
        for step in steps:
            step_start, step_end = step_window(step, start_ns, end_ns)
            child = tracer.start_span(
                step.name, context=context, kind=SpanKind.INTERNAL, attributes=step.attributes, start_time=step_start
            )
            end_span(child, step_end)


def _start_time_ns(span: Span) -> int | None:
    """The SDK span's start (``ReadableSpan.start_time``); None for another API implementation's spans."""
    value = getattr(span, "start_time", None)
    return value if isinstance(value, int) else None
