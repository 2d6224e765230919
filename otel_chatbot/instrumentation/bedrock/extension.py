"""Bedrock Runtime and Agent Runtime hooks for the botocore span.

Thin wiring: every fact comes from the pure functions in :mod:`otel_chatbot.genai`;
this module decides when to read them and where to put them (span attributes, metrics,
child spans for agent steps). What the app receives is what boto3 gave: a read
``InvokeModel`` body is replaced by an identical fresh one, streams are proxied.
"""

from __future__ import annotations

import io
import time
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from otel_chatbot import genai
from otel_chatbot.genai import GenAIRequest, GenAIResponse, content
from otel_chatbot.instrumentation.bedrock.metrics import GenAIMetrics
from otel_chatbot.instrumentation.bedrock.streams import (
    StreamState,
    TracedAsyncEventStream,
    TracedEventStream,
)
from otel_chatbot.instrumentation.botocore import AwsCall
from otel_chatbot.instrumentation.request_context import current_conversation_id
from otel_chatbot.version import __version__

INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
CONVERSATION_ID = "gen_ai.conversation.id"
TTFC_ATTRIBUTE = "gen_ai.response.time_to_first_chunk"

_RUNTIME_OPS = {
    "Converse",
    "ConverseStream",
    "InvokeModel",
    "InvokeModelWithResponseStream",
    "ApplyGuardrail",
}
_AGENT_OPS = {"InvokeAgent", "Retrieve", "RetrieveAndGenerate"}


class ContentCapture:
    """Opt-in prompt/completion capture: redacted and bounded."""

    def __init__(self, enabled: bool, max_bytes: int, extra_patterns: tuple[str, ...]) -> None:
        self.enabled = enabled
        self.max_bytes = max_bytes
        self.redactor = genai.Redactor(extra_patterns=extra_patterns) if enabled else None

    def serialize(self, messages: Any) -> str:
        return content.serialize(messages, max_bytes=self.max_bytes, redactor=self.redactor)


class BedrockExtension:
    """One class for both services: the operation decides the parser."""

    def __init__(self, tracer_provider: TracerProvider, metrics: GenAIMetrics, capture: ContentCapture) -> None:
        self.metrics = metrics
        self.capture = capture
        self.tracer = tracer_provider.get_tracer("otel_chatbot.bedrock", __version__)

    # -- request ---------------------------------------------------------------------
    def _request(self, call: AwsCall) -> GenAIRequest | None:
        op, params = call.operation, call.params
        if op in ("Converse", "ConverseStream"):
            return genai.converse_request(params, stream=op == "ConverseStream")
        if op in ("InvokeModel", "InvokeModelWithResponseStream"):
            return genai.invoke_model_request(
                str(params.get("modelId", "")),
                params.get("body"),
                stream=op == "InvokeModelWithResponseStream",
                guardrail_id=params.get("guardrailIdentifier"),
                guardrail_version=params.get("guardrailVersion"),
            )
        if op == "ApplyGuardrail":
            return genai.apply_guardrail_request(params)
        if op == "InvokeAgent":
            return genai.invoke_agent_request(params)
        if op == "Retrieve":
            return genai.retrieve_request(params)
        if op == "RetrieveAndGenerate":
            return genai.retrieve_and_generate_request(params)
        return None

    def span_name(self, call: AwsCall) -> str | None:
        request = call.state.get("request")
        return request.span_name if isinstance(request, GenAIRequest) else None

    def request_attributes(self, call: AwsCall) -> dict[str, Any]:
        if call.operation not in _RUNTIME_OPS and call.operation not in _AGENT_OPS:
            return {}
        request = self._request(call)
        if request is None:
            return {}
        call.state["request"] = request
        attrs: dict[str, Any] = dict(request.attributes())
        if CONVERSATION_ID not in attrs:
            conversation = current_conversation_id()
            if conversation:
                attrs[CONVERSATION_ID] = conversation
        if call.endpoint:
            from urllib.parse import urlsplit

            host = urlsplit(call.endpoint)
            if host.hostname:
                attrs["server.address"] = host.hostname
                if host.port:
                    attrs["server.port"] = host.port
        if self.capture.enabled:
            messages = self._input_messages(call)
            if messages:
                attrs[INPUT_MESSAGES] = self.capture.serialize(messages)
        return attrs

    def _input_messages(self, call: AwsCall) -> Any:
        if call.operation in ("Converse", "ConverseStream"):
            return content.converse_input_messages(call.params)
        if call.operation in ("InvokeModel", "InvokeModelWithResponseStream"):
            return content.invoke_input_messages(str(call.params.get("modelId", "")), call.params.get("body"))
        return None

    # -- response --------------------------------------------------------------------
    def on_success(self, call: AwsCall, span: Span, result: dict[str, Any]) -> bool:
        request = call.state.get("request")
        if not isinstance(request, GenAIRequest):
            return False
        op = call.operation
        is_async = bool(call.state.get("async"))
        if op == "Converse":
            self._finish(call, span, request, genai.converse_response(result), None)
            if self.capture.enabled:
                span.set_attribute(OUTPUT_MESSAGES, self.capture.serialize(content.converse_output_messages(result)))
            return False
        if op == "InvokeModel":
            body = result.get("body")
            if body is not None and not is_async:
                data = body.read()
                result["body"] = _fresh_body(data)
                headers = (result.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
                model = str(call.params.get("modelId", ""))
                response = genai.invoke_model_response(model, data, headers)
                if self.capture.enabled:
                    span.set_attribute(
                        OUTPUT_MESSAGES,
                        self.capture.serialize(content.invoke_output_messages(model, data, headers)),
                    )
            else:
                headers = (result.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
                response = genai.invoke_model_response(str(call.params.get("modelId", "")), None, headers)
            self._finish(call, span, request, response, None)
            return False
        if op == "ApplyGuardrail":
            self._finish(call, span, request, genai.apply_guardrail_response(result), None)
            return False
        if op == "Retrieve":
            self._finish(call, span, request, genai.retrieve_response(result), None)
            return False
        if op == "RetrieveAndGenerate":
            self._finish(call, span, request, genai.retrieve_and_generate_response(result), None)
            return False
        key, accumulator = self._stream_parts(op, call)
        if key is None or key not in result:
            self._finish(call, span, request, GenAIResponse(), None)
            return False
        state = StreamState(accumulator, lambda st, error: self._finish_stream(call, span, request, st, error))
        inner = result[key]
        result[key] = TracedAsyncEventStream(inner, state) if is_async else TracedEventStream(inner, state)
        return True

    def _stream_parts(self, op: str, call: AwsCall) -> tuple[str | None, Any]:
        capture = self.capture.enabled
        if op == "ConverseStream":
            return "stream", genai.ConverseStreamAccumulator(capture_content=capture)
        if op == "InvokeModelWithResponseStream":
            return "body", genai.InvokeStreamAccumulator(str(call.params.get("modelId", "")), capture_content=capture)
        if op == "InvokeAgent":
            return "completion", genai.AgentTraceAccumulator()
        return None, None

    def _finish_stream(
        self, call: AwsCall, span: Span, request: GenAIRequest, state: StreamState, error: str | None
    ) -> None:
        acc = state.accumulator
        response: GenAIResponse = acc.response()
        error_type = error or response.error_type or getattr(acc, "error_type", None)
        if state.first_chunk_at is not None:
            ttfc = state.first_chunk_at - call.start
            span.set_attribute(TTFC_ATTRIBUTE, ttfc)
            self.metrics.record_chunk_times(request, response, ttfc, state.chunk_times)
        if isinstance(acc, genai.AgentTraceAccumulator):
            self._agent_steps(span, acc)
        if self.capture.enabled and str(getattr(acc, "output_text", "")):
            messages = content.output_messages_from_text(acc.output_text, acc.finish_reasons)
            span.set_attribute(OUTPUT_MESSAGES, self.capture.serialize(messages))
        self._finish(call, span, request, response, error_type)
        span.end()

    def _agent_steps(self, parent: Span, acc: Any) -> None:
        """Child spans for the agent's trace events (model calls, KB lookups, action groups)."""
        ctx = trace.set_span_in_context(parent)
        for step in acc.steps:
            child = self.tracer.start_span(
                step.name, context=ctx, kind=SpanKind.INTERNAL, attributes=dict(step.attributes)
            )
            child.end()

    def _finish(
        self,
        call: AwsCall,
        span: Span,
        request: GenAIRequest,
        response: GenAIResponse,
        error_type: str | None,
    ) -> None:
        span.set_attributes(dict(response.attributes()))
        cost = self.metrics.compute_cost(request, response)
        if cost is not None:
            span.set_attributes(dict(cost.attributes()))
        if error_type:
            span.set_attribute("error.type", error_type)
            span.set_status(Status(StatusCode.ERROR, error_type))
            if genai.is_throttling(error_type):
                self.metrics.record_throttle(request)
        self.metrics.record(request, response, time.perf_counter() - call.start, error_type, cost)

    def on_error(self, call: AwsCall, span: Span, error: BaseException, error_type: str) -> None:
        request = call.state.get("request")
        if not isinstance(request, GenAIRequest):
            return
        if genai.is_throttling(error_type):
            self.metrics.record_throttle(request)
        self.metrics.record(request, GenAIResponse(), time.perf_counter() - call.start, error_type, None)


def _fresh_body(data: bytes) -> Any:
    from botocore.response import StreamingBody

    return StreamingBody(io.BytesIO(data), len(data))
