"""The provider-neutral GenAI call path, driven by a row of a made-up provider (no botocore involved).

This is the path the HTTP client wiring takes for OpenAI-style calls: a row of pure
functions, a span the wiring starts, and ``GenAICall`` recording the outcome.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_chatbot.genai.agents import AgentStep
from otel_chatbot.genai.messages import Message, text_part
from otel_chatbot.genai.operations import Operation, Params, Result, StreamSpec
from otel_chatbot.genai.pricing import ModelPrice, PriceTable
from otel_chatbot.genai.types import GenAIRequest, GenAIResponse, TokenUsage
from otel_chatbot.instrumentation.genai.call import GenAICall, GenAITelemetry
from otel_chatbot.instrumentation.genai.capture import ContentCapture
from otel_chatbot.instrumentation.genai.metrics import GenAIMetrics
from otel_chatbot.instrumentation.request_context import CURRENT_REQUEST, RequestInfo

MODEL = "gpt-4o-mini"
SECOND = 1_000_000_000


def chat_request(params: Params) -> GenAIRequest:
    return GenAIRequest(operation_name="chat", provider_name="openai", model=params.get("model"))


def chat_response(params: Params, result: Result) -> GenAIResponse:
    usage = result.get("usage", {})
    return GenAIResponse(
        response_id=result.get("id"),
        response_model=result.get("model"),
        finish_reasons=("stop",),
        usage=TokenUsage(
            uncached_input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens")
        ),
    )


def chat_input(params: Params) -> list[Message]:
    return [{"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]} for m in params["messages"]]


def chat_output(params: Params, result: Result) -> list[Message]:
    return [{"role": "assistant", "parts": [text_part(result["text"])], "finish_reason": "stop"}]


class SseAccumulator:
    """What an SSE accumulator of the HTTP wiring would be: ``data:`` payloads, usage in the last one."""

    def __init__(self) -> None:
        self.chunks = 0
        self.text = ""
        self.usage = TokenUsage()
        self.steps = ()

    def feed(self, event: Any) -> None:
        if event.get("delta"):
            self.chunks += 1
            self.text += event["delta"]
        if "usage" in event:
            self.usage = TokenUsage(event["usage"]["prompt_tokens"], event["usage"]["completion_tokens"])

    def response(self) -> GenAIResponse:
        return GenAIResponse(usage=self.usage)

    def output_messages(self) -> list[Message]:
        return [{"role": "assistant", "parts": [text_part(self.text)]}] if self.text else []


CHAT = Operation(request=chat_request, response=chat_response, input_messages=chat_input, output_messages=chat_output)
CHAT_STREAM = Operation(request=chat_request, stream=StreamSpec("stream", lambda params, capture: SseAccumulator()))
PARAMS = {"model": MODEL, "messages": [{"role": "user", "content": "call me at +1 415 555 0100"}]}


class Recorded:
    def __init__(self, capture: bool) -> None:
        self.spans = InMemorySpanExporter()
        self.reader = InMemoryMetricReader()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.tracer = tracer_provider.get_tracer("test")
        prices = PriceTable({}, providers={"openai": ({MODEL: ModelPrice(input=1.0, output=2.0)}, {})})
        metrics = GenAIMetrics(MeterProvider(metric_readers=[self.reader]).get_meter("test"), prices)
        self.telemetry = GenAITelemetry(self.tracer, metrics, ContentCapture(capture, 4096, ()))

    def call(self, operation: Operation) -> tuple[GenAICall, Any]:
        call = GenAICall(self.telemetry, operation, PARAMS, is_async=False, start=0.0)
        span = self.tracer.start_span(call.span_name, attributes=call.start_attributes("api.openai.test", 443))
        return call, span

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        if data is None:
            return []
        return [
            point
            for scope in data.resource_metrics[0].scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def recorded() -> Recorded:
    return Recorded(capture=False)


@pytest.fixture
def conversation() -> Iterator[None]:
    token = CURRENT_REQUEST.set(RequestInfo(sources=(("header", "x-session"),), headers={"x-session": "c-1"}, scope={}))
    yield
    CURRENT_REQUEST.reset(token)


def test_start_attributes_are_the_requests_with_the_server_and_conversation(
    recorded: Recorded, conversation: None
) -> None:
    _, span = recorded.call(CHAT)
    span.end()
    (finished,) = recorded.spans.get_finished_spans()
    assert finished.name == f"chat {MODEL}"
    assert dict(finished.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL,
        "gen_ai.conversation.id": "c-1",
        "server.address": "api.openai.test",
        "server.port": 443,
    }


def test_finish_records_the_answer_cost_and_metrics_under_the_calls_provider(recorded: Recorded) -> None:
    call, span = recorded.call(CHAT)
    answer = {"id": "c1", "model": MODEL, "usage": {"prompt_tokens": 10, "completion_tokens": 5}}
    call.finish(span, chat_response(PARAMS, answer))
    span.end()
    (finished,) = recorded.spans.get_finished_spans()
    assert finished.attributes["gen_ai.response.id"] == "c1"
    assert finished.attributes["gen_ai.usage.cost"] == pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6)
    assert "gen_ai.output.messages" not in finished.attributes  # not captured unless opted in
    (duration,) = recorded.points("gen_ai.client.operation.duration")
    assert dict(duration.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
    }
    assert {p.attributes["gen_ai.token.type"]: p.sum for p in recorded.points("gen_ai.client.token.usage")} == {
        "input": 10,
        "output": 5,
    }


def test_captured_content_is_redacted() -> None:
    recorded = Recorded(capture=True)
    call, span = recorded.call(CHAT)
    call.finish(span, GenAIResponse(), output_messages=chat_output(PARAMS, {"text": "mail bob@example.com"}))
    span.end()
    (finished,) = recorded.spans.get_finished_spans()
    assert "555 0100" not in finished.attributes["gen_ai.input.messages"]
    assert "bob@example.com" not in json.loads(finished.attributes["gen_ai.output.messages"])[0]["parts"][0]["content"]


def test_a_failed_call_counts_its_duration_with_the_error_and_a_throttle(recorded: Recorded) -> None:
    call, span = recorded.call(CHAT)
    call.fail("ThrottlingException")
    call.fail("InternalServerException")
    span.end()
    assert sorted(p.attributes["error.type"] for p in recorded.points("gen_ai.client.operation.duration")) == [
        "InternalServerException",
        "ThrottlingException",
    ]
    (throttles,) = recorded.points("gen_ai.client.throttles")
    assert throttles.value == 1


def test_a_stream_ends_its_span_once_with_its_chunk_times() -> None:
    recorded = Recorded(capture=True)
    call, span = recorded.call(CHAT_STREAM)
    state = call.stream(span)
    for event in (
        {"delta": "Hel"},
        {"delta": "lo"},
        {"delta": ""},
        {"usage": {"prompt_tokens": 4, "completion_tokens": 2}},
    ):
        state.feed(event)
    assert recorded.spans.get_finished_spans() == ()
    state.finish(None)
    state.finish("cancelled")  # a late close or finalizer: no second end
    (finished,) = recorded.spans.get_finished_spans()
    assert "error.type" not in finished.attributes
    assert finished.attributes["gen_ai.usage.output_tokens"] == 2
    assert finished.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert json.loads(finished.attributes["gen_ai.output.messages"])[0]["parts"][0]["content"] == "Hello"
    (duration,) = recorded.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    (per_chunk,) = recorded.points("gen_ai.client.operation.time_per_output_chunk")
    assert per_chunk.count == 1


def test_only_a_streamed_row_streams(recorded: Recorded) -> None:
    call, span = recorded.call(CHAT)
    with pytest.raises(ValueError, match="no stream"):
        call.stream(span)


class StepsAccumulator(SseAccumulator):
    """A stream that described child steps (as an agent's trace does), at the provider's times."""

    def __init__(self, steps: tuple[AgentStep, ...]) -> None:
        super().__init__()
        self.steps = steps  # type: ignore[assignment]


def test_step_spans_start_and_end_at_the_providers_times_inside_the_parent(recorded: Recorded) -> None:
    parent_start = time.time_ns() - 10 * SECOND
    steps = (
        AgentStep(
            name="chat m",
            operation="chat",
            attributes={"gen_ai.operation.name": "chat"},
            start_ns=parent_start + 1 * SECOND,
            end_ns=parent_start + 3 * SECOND,
        ),
        AgentStep(
            name="execute_tool t",
            operation="execute_tool",
            attributes={},
            start_ns=parent_start + 3 * SECOND,
            end_ns=None,
            complete=False,
        ),
        AgentStep(
            name="retrieval kb",
            operation="retrieval",
            attributes={},
            start_ns=parent_start - 5 * SECOND,
            end_ns=parent_start - 4 * SECOND,
        ),
    )
    row = Operation(
        request=chat_request, stream=StreamSpec("completion", lambda params, capture: StepsAccumulator(steps))
    )
    call = GenAICall(recorded.telemetry, row, PARAMS, is_async=False, start=time.perf_counter())
    parent = recorded.tracer.start_span(call.span_name, start_time=parent_start)
    call.stream(parent).finish(None)
    spans = {span.name: span for span in recorded.spans.get_finished_spans()}
    parent_end = spans[f"chat {MODEL}"].end_time
    model, tool, lookup = spans["chat m"], spans["execute_tool t"], spans["retrieval kb"]
    assert (model.start_time, model.end_time) == (parent_start + SECOND, parent_start + 3 * SECOND)
    assert (tool.start_time, tool.end_time) == (parent_start + 3 * SECOND, parent_end)  # never closed
    assert (lookup.start_time, lookup.end_time) == (parent_start, parent_start)  # clamped into the parent
    assert all(
        s.parent is not None and s.parent.span_id == parent.get_span_context().span_id for s in (model, tool, lookup)
    )


def test_a_finished_answer_is_remembered_for_its_trace_and_a_failed_one_is_not() -> None:
    from otel_chatbot.instrumentation.genai.answers import Answer, AnswerMemory

    recorded = Recorded(capture=False)
    recorded.telemetry.answers = memory = AnswerMemory()
    call, span = recorded.call(CHAT)
    call.finish(span, chat_response(PARAMS, {"id": "chatcmpl-1", "usage": {}}))
    span.end()
    context = span.get_span_context()
    assert memory.get(context.trace_id) == Answer(context.span_id, int(context.trace_flags), "chatcmpl-1")
    call, failed = recorded.call(CHAT)
    call.finish(failed, GenAIResponse(), error_type="ThrottlingException")
    failed.end()
    assert memory.get(failed.get_span_context().trace_id) is None
    assert len(memory) == 1
