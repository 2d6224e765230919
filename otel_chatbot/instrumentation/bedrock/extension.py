"""Bedrock Runtime and Agent Runtime calls as GenAI spans: the botocore side of the operation table.

Thin wiring: which operation a call is and what to read from it come from a row of
:data:`~otel_chatbot.genai.bedrock_operations.BEDROCK_OPERATIONS`; recording it is the
provider-neutral :class:`~otel_chatbot.instrumentation.genai.call.GenAICall`. What is
botocore's is here: an ``InvokeModel`` body is observed as the app reads it (never read
ahead of the app: :mod:`.body`), and event streams are proxied; either way the span ends
with the answer. What the app receives behaves as what boto3 gave.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import Span

from otel_chatbot.genai import GenAIResponse
from otel_chatbot.genai.inference_profiles import is_application_profile
from otel_chatbot.genai.operations import OperationTable
from otel_chatbot.guard import report
from otel_chatbot.instrumentation.bedrock.body import InvokeModelAnswer, observe
from otel_chatbot.instrumentation.bedrock.profiles import InferenceProfiles
from otel_chatbot.instrumentation.bedrock.streams import TracedAsyncEventStream, TracedEventStream
from otel_chatbot.instrumentation.botocore import AwsCall
from otel_chatbot.instrumentation.genai.call import GenAICall, GenAITelemetry


class BedrockExtension:
    """The botocore extension for both Bedrock services: a call whose operation has a row gets its hooks.

    With ``profiles`` (opt-in), a call naming an application inference profile whose base
    model is known is read as a call of that model; the span keeps the ARN (see
    :meth:`~otel_chatbot.instrumentation.genai.call.GenAICall.asked_for`).
    """

    def __init__(
        self, telemetry: GenAITelemetry, operations: OperationTable, profiles: InferenceProfiles | None = None
    ) -> None:
        self.telemetry = telemetry
        self.operations = operations
        self.profiles = profiles

    def begin(self, call: AwsCall) -> BedrockCall | None:
        operation = self.operations.get(call.operation)
        if operation is None:
            return None
        params = call.params
        model_id = params.get("modelId")
        model_behind = None
        if self.profiles is not None and is_application_profile(model_id):
            model_behind = self._model_behind(self.profiles, str(model_id), call.client)
        if model_behind is None:
            return BedrockCall(self.telemetry, operation, params, is_async=call.is_async, start=call.start)
        as_model = {**params, "modelId": model_behind}
        bedrock_call = BedrockCall(self.telemetry, operation, as_model, is_async=call.is_async, start=call.start)
        bedrock_call.asked_for(str(model_id))
        return bedrock_call

    @staticmethod
    def _model_behind(profiles: InferenceProfiles, arn: str, client: Any) -> str | None:
        """The profile's base model when known (a lookup is queued if not); None if asking failed."""
        try:
            return profiles.model_behind(arn, client)
        except Exception as exc:  # the call keeps its span, with the ARN as its model
            report("inference profile lookup", exc)
            return None


class BedrockCall(GenAICall):
    """One Bedrock call: a GenAI call plus what botocore's result objects need (the hooks of ``ExtensionCall``)."""

    __slots__ = ()

    @property
    def ends_span_later(self) -> bool:
        """Streams, and an ``InvokeModel`` body (the span ends when the app has read it)."""
        operation = self.operation
        return operation.ends_span_later or operation.buffered_body is not None

    def on_success(self, span: Span, result: dict[str, Any]) -> None:
        operation = self.operation
        if operation.stream is not None:
            self._stream(span, result, operation.stream.result_key)
            return
        key = operation.buffered_body
        if key is None:
            self.record_answer(span, result, readable=True)
            return
        body = result.get(key)
        observed = observe(body, InvokeModelAnswer(self, span, result, key)) if body is not None else None
        if observed is None:  # recorded from the headers, the body left to the app
            self.record_answer(span, {**result, key: None}, readable=False)
            self.telemetry.end_span(span)
            return
        result[key] = observed  # the hand-over, last: the span now ends with the body

    def on_error(self, span: Span, error: BaseException, error_type: str) -> None:
        self.fail(error_type)

    def record_answer(
        self, span: Span, result: dict[str, Any], *, readable: bool, error_type: str | None = None
    ) -> None:
        """The whole answer is in ``result``: record it (its output too, when captured and readable)."""
        operation = self.operation
        assert operation.response is not None  # a row has a stream or a response
        output = None
        if readable and operation.output_messages is not None and self.telemetry.capture.enabled:
            output = operation.output_messages(self.params, result)
        self.finish(span, operation.response(self.params, result), error_type, output)

    def _stream(self, span: Span, result: dict[str, Any], key: str) -> None:
        """Proxy the event stream at ``key``; the span ends with it. The hand-over is the last step."""
        inner = result.get(key)
        if inner is None:  # nothing streams: the call's answer is all there is
            self.finish(span, GenAIResponse())
            self.telemetry.end_span(span)
            return
        state = self.stream(span)
        result[key] = TracedAsyncEventStream(inner, state) if self.is_async else TracedEventStream(inner, state)
