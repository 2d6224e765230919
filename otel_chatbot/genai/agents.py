"""Bedrock Agent Runtime: InvokeAgent, its trace events, Retrieve and RetrieveAndGenerate.

InvokeAgent runs a whole plan server-side; with ``enableTrace=True`` the completion
stream interleaves ``trace`` events describing each model call, action-group call and
knowledge-base lookup. :class:`AgentTraceAccumulator` turns those into descriptions of
child spans the wiring can emit under the ``invoke_agent`` span.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from opentelemetry.semconv._incubating.attributes import aws_attributes as aws
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from . import names
from ._builder import ResponseBuilder
from ._coerce import as_dict, as_float, as_int, as_list, as_str, dig, first, str_tuple
from .messages import Message
from .streams import exception_type
from .types import Attributes, AttributeValue, GenAIRequest, GenAIResponse, TokenUsage


def _model_from_arn(model_arn: object) -> str | None:
    """``anthropic.claude-...`` from a foundation-model ARN; other ids pass through."""
    value = as_str(model_arn)
    if value is None:
        return None
    if value.startswith("arn:") and "/" in value:
        return value.split("/", 1)[1] or None
    return value


def invoke_agent_request(params: Mapping[str, Any]) -> GenAIRequest:
    """Request facts from ``invoke_agent`` keyword arguments."""
    params = as_dict(params)
    return GenAIRequest(
        operation_name=names.OPERATION_INVOKE_AGENT,
        provider_name=names.PROVIDER_AWS_BEDROCK,
        agent_id=as_str(params.get("agentId")),
        agent_alias_id=as_str(params.get("agentAliasId")),
        conversation_id=as_str(params.get("sessionId")),
        stream=True,
    )


def retrieve_request(params: Mapping[str, Any]) -> GenAIRequest:
    """Request facts from ``retrieve`` keyword arguments (operation ``retrieval``)."""
    params = as_dict(params)
    guardrail = as_dict(params.get("guardrailConfiguration"))
    return GenAIRequest(
        operation_name=names.OPERATION_RETRIEVAL,
        provider_name=names.PROVIDER_AWS_BEDROCK,
        knowledge_base_id=as_str(params.get("knowledgeBaseId")),
        guardrail_id=as_str(guardrail.get("guardrailId")),
        guardrail_version=as_str(guardrail.get("guardrailVersion")),
    )


def retrieve_response(response: Mapping[str, Any]) -> GenAIResponse:
    """Response facts from a ``retrieve`` result: result count and guardrail verdict."""
    response = as_dict(response)
    b = ResponseBuilder(keep_text=False)
    if "retrievalResults" in response:
        b.result_count = len(as_list(response.get("retrievalResults")))
    _guardrail_action(response.get("guardrailAction"), b)
    return b.build()


def retrieve_and_generate_request(params: Mapping[str, Any]) -> GenAIRequest:
    """Request facts from ``retrieve_and_generate`` keyword arguments.

    The operation is our ``retrieve_and_generate`` (see :mod:`.names`); the model comes
    from ``modelArn`` of the knowledge-base or external-sources configuration.
    """
    params = as_dict(params)
    config = as_dict(params.get("retrieveAndGenerateConfiguration"))
    kb = as_dict(config.get("knowledgeBaseConfiguration"))
    external = as_dict(config.get("externalSourcesConfiguration"))
    generation = as_dict(first(kb.get("generationConfiguration"), external.get("generationConfiguration")))
    text_config = as_dict(dig(generation, "inferenceConfig", "textInferenceConfig"))
    guardrail = as_dict(generation.get("guardrailConfiguration"))
    return GenAIRequest(
        operation_name=names.OPERATION_RETRIEVE_AND_GENERATE,
        provider_name=names.PROVIDER_AWS_BEDROCK,
        model=_model_from_arn(first(kb.get("modelArn"), external.get("modelArn"))),
        max_tokens=as_int(text_config.get("maxTokens")),
        temperature=as_float(text_config.get("temperature")),
        top_p=as_float(text_config.get("topP")),
        stop_sequences=str_tuple(text_config.get("stopSequences")),
        knowledge_base_id=as_str(kb.get("knowledgeBaseId")),
        conversation_id=as_str(params.get("sessionId")),
        guardrail_id=as_str(guardrail.get("guardrailId")),
        guardrail_version=as_str(guardrail.get("guardrailVersion")),
    )


def retrieve_and_generate_response(response: Mapping[str, Any]) -> GenAIResponse:
    """Response facts from a ``retrieve_and_generate`` result.

    The service creates the session on the first call, so ``sessionId`` becomes
    ``gen_ai.conversation.id`` here even when the request had none.
    """
    response = as_dict(response)
    b = ResponseBuilder(keep_text=False)
    b.conversation_id = as_str(response.get("sessionId"))
    if "citations" in response:
        b.citation_count = len(as_list(response.get("citations")))
    _guardrail_action(response.get("guardrailAction"), b)
    return b.build()


def _guardrail_action(action: object, b: ResponseBuilder) -> None:
    value = as_str(action)
    if value is not None:
        b.note_guardrail(value == "INTERVENED")


@dataclass(frozen=True)
class AgentStep:
    """One child span the wiring emits for an InvokeAgent trace step.

    ``start_ns``/``end_ns`` (Unix epoch nanoseconds) are Bedrock's own times for the step:
    the ``startTime``/``endTime`` of its output's ``metadata``, else derived from
    ``totalTimeMs``, else the ``eventTime`` of the trace events that opened and closed it
    (or, without one, when the event was read). ``end_ns`` is None for a step whose closing
    event never arrived (``complete`` False: stream cut short, or Bedrock sent none).
    :func:`step_window` places a step inside its parent span.
    """

    name: str
    operation: str
    attributes: Attributes
    start_ns: int | None = None
    end_ns: int | None = None
    complete: bool = True


def step_window(step: AgentStep, parent_start_ns: int, parent_end_ns: int) -> tuple[int, int]:
    """Where a step's child span goes: its own times, kept inside the parent, never ending before it starts.

    A time missing falls back to the parent's edge (an unclosed step runs to the parent's
    end); a time outside the parent (clock skew between Bedrock and this host) is clamped.
    """
    start = step.start_ns if step.start_ns is not None else parent_start_ns
    end = step.end_ns if step.end_ns is not None else parent_end_ns
    start = min(max(start, parent_start_ns), parent_end_ns)
    end = min(max(end, start), parent_end_ns)
    return start, end


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = 1_000_000


def time_ns(value: object) -> int | None:
    """Epoch nanoseconds of a trace timestamp: a ``datetime`` as botocore parses it, or ISO 8601 text."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class _StepBuilder:
    def __init__(self, operation: str, target: str | None, opened_ns: int | None) -> None:
        self.operation = operation
        self.target = target
        self.attributes: Attributes = {
            gen_ai.GEN_AI_OPERATION_NAME: operation,
            gen_ai.GEN_AI_PROVIDER_NAME: names.PROVIDER_AWS_BEDROCK,
        }
        self.opened_ns = opened_ns
        self.closed_ns: int | None = None
        self.start_ns: int | None = None
        self.end_ns: int | None = None
        self.total_ms: int | None = None
        self.complete = False
        self.usage = TokenUsage()

    def put(self, key: str, value: AttributeValue | None) -> None:
        if value is not None:
            self.attributes[key] = value

    def finish(self, metadata: object, closed_ns: int | None) -> None:
        data = as_dict(metadata)
        self.closed_ns = closed_ns
        self.start_ns = time_ns(data.get("startTime"))
        self.end_ns = time_ns(data.get("endTime"))
        self.total_ms = as_int(first(data.get("totalTimeMs"), data.get("operationTotalTimeMs")))
        usage = as_dict(data.get("usage"))
        self.usage = TokenUsage(
            uncached_input_tokens=as_int(usage.get("inputTokens")),
            output_tokens=as_int(usage.get("outputTokens")),
        )
        self.attributes.update(self.usage.attributes())
        self.complete = True

    def window(self) -> tuple[int | None, int | None]:
        """Bedrock's start and end of the step, each from the best source the trace had."""
        total_ns = self.total_ms * _MS if self.total_ms is not None else None
        start, end = self.start_ns, self.end_ns
        if start is None and end is not None and total_ns is not None:
            start = end - total_ns
        if start is None:
            start = self.opened_ns
        if end is None and start is not None and total_ns is not None:
            end = start + total_ns
        if end is None:
            end = self.closed_ns
        return start, end

    def build(self) -> AgentStep:
        start, end = self.window()
        return AgentStep(
            name=f"{self.operation} {self.target}" if self.target else self.operation,
            operation=self.operation,
            attributes=dict(self.attributes),
            start_ns=start,
            end_ns=end,
            complete=self.complete,
        )


_TRACE_KINDS = (
    "preProcessingTrace",
    "orchestrationTrace",
    "postProcessingTrace",
    "routingClassifierTrace",
    "customOrchestrationTrace",
)


class AgentTraceAccumulator:
    """Folds InvokeAgent ``completion`` stream events into child-span descriptions.

    Feed every event of ``response["completion"]``. ``trace`` events become
    :class:`AgentStep` entries (``chat`` for model invocations, ``execute_tool`` for
    action groups and code interpreter, ``retrieval`` for knowledge-base lookups,
    ``invoke_agent`` for collaborator agents); ``chunk`` events count as output
    content; exception events set ``error_type``. Never raises. ``clock`` (epoch ns)
    times a trace event that carries no ``eventTime``.
    """

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._event_ns: int | None = None
        self._steps: list[_StepBuilder] = []
        self._open: dict[tuple[str, str], _StepBuilder] = {}
        self.chunks = 0
        self.error_type: str | None = None
        self.guardrail_intervened: bool | None = None

    @property
    def steps(self) -> list[AgentStep]:
        """Steps in the order they started, including any still open."""
        return [step.build() for step in self._steps]

    @property
    def usage(self) -> TokenUsage:
        """Tokens of all completed model invocations, for the ``invoke_agent`` span.

        A count is ``None`` unless every completed model step reported it, so a partial
        sum is never presented as the total.
        """
        model_steps = [s for s in self._steps if s.operation == names.OPERATION_CHAT and s.complete]

        def total(values: list[int | None]) -> int | None:
            return sum(v for v in values if v is not None) if values and None not in values else None

        return TokenUsage(
            uncached_input_tokens=total([s.usage.uncached_input_tokens for s in model_steps]),
            output_tokens=total([s.usage.output_tokens for s in model_steps]),
        )

    def output_messages(self) -> list[Message]:
        """Nothing: the agent's answer is not captured (its chunks are raw text of any size)."""
        return []

    def response(self) -> GenAIResponse:
        """Facts for the ``invoke_agent`` span itself."""
        b = ResponseBuilder(keep_text=False)
        b.error_type = self.error_type
        if self.guardrail_intervened is not None:
            b.note_guardrail(self.guardrail_intervened)
        b.set_usage(
            uncached_input=self.usage.uncached_input_tokens,
            output=self.usage.output_tokens,
        )
        return b.build()

    def feed(self, event: Mapping[str, Any]) -> None:
        """Account for one ``completion`` stream event."""
        event = as_dict(event)
        error = exception_type(event)
        if error is not None:
            self.error_type = error
            return
        if "chunk" in event:
            if dig(event, "chunk", "bytes"):
                self.chunks += 1
            return
        part = as_dict(event.get("trace"))
        if part:
            event_ns = time_ns(part.get("eventTime"))
            self._event_ns = event_ns if event_ns is not None else self._clock()
            self._trace(as_dict(part.get("trace")), as_str(part.get("collaboratorName")))

    def _trace(self, trace: Mapping[str, Any], collaborator: str | None) -> None:
        guardrail = as_dict(trace.get("guardrailTrace"))
        if guardrail:
            action = as_str(guardrail.get("action"))
            if action is not None:
                self.guardrail_intervened = bool(self.guardrail_intervened) or action == "INTERVENED"
        failure = as_dict(trace.get("failureTrace"))
        if failure:
            code = as_int(failure.get("failureCode"))
            self.error_type = str(code) if code is not None else "AgentFailure"
        for kind in _TRACE_KINDS:
            step = as_dict(trace.get(kind))
            if step:
                self._step(step, collaborator)

    def _step(self, step: Mapping[str, Any], collaborator: str | None) -> None:
        model_input = as_dict(step.get("modelInvocationInput"))
        if model_input:
            self._model_input(model_input, collaborator)
        model_output = as_dict(step.get("modelInvocationOutput"))
        if model_output:
            self._close("model", model_output.get("traceId"), model_output.get("metadata"))
        invocation = as_dict(step.get("invocationInput"))
        if invocation:
            self._invocation(invocation)
        observation = as_dict(step.get("observation"))
        if observation:
            self._observation(observation)

    def _open_step(self, kind: str, trace_id: str | None, operation: str, target: str | None) -> _StepBuilder:
        builder = _StepBuilder(operation, target, self._event_ns)
        self._steps.append(builder)
        self._open[(kind, trace_id or "")] = builder
        return builder

    def _close(self, kind: str, trace_id: object, metadata: object) -> None:
        builder = self._open.pop((kind, as_str(trace_id) or ""), None)
        if builder is not None:
            builder.finish(metadata, self._event_ns)

    def _model_input(self, data: Mapping[str, Any], collaborator: str | None) -> None:
        model = as_str(data.get("foundationModel"))
        config = as_dict(data.get("inferenceConfiguration"))
        step = self._open_step("model", as_str(data.get("traceId")), names.OPERATION_CHAT, model)
        step.put(gen_ai.GEN_AI_REQUEST_MODEL, model)
        step.put(gen_ai.GEN_AI_REQUEST_MAX_TOKENS, as_int(config.get("maximumLength")))
        step.put(gen_ai.GEN_AI_REQUEST_TEMPERATURE, as_float(config.get("temperature")))
        step.put(gen_ai.GEN_AI_REQUEST_TOP_P, as_float(config.get("topP")))
        step.put(gen_ai.GEN_AI_REQUEST_TOP_K, as_float(config.get("topK")))
        step.put(gen_ai.GEN_AI_REQUEST_STOP_SEQUENCES, str_tuple(config.get("stopSequences")))
        step.put(names.AWS_BEDROCK_AGENT_TRACE_TYPE, as_str(data.get("type")))
        step.put(gen_ai.GEN_AI_AGENT_NAME, collaborator)

    def _invocation(self, data: Mapping[str, Any]) -> None:
        trace_id = as_str(data.get("traceId"))
        kind = as_str(data.get("invocationType"))
        if kind == "ACTION_GROUP":
            group = as_dict(data.get("actionGroupInvocationInput"))
            name = as_str(group.get("actionGroupName"))
            step = self._open_step("ACTION_GROUP", trace_id, names.OPERATION_EXECUTE_TOOL, name)
            step.put(gen_ai.GEN_AI_TOOL_NAME, name)
            step.put(gen_ai.GEN_AI_TOOL_CALL_ID, as_str(group.get("invocationId")))
            step.put(gen_ai.GEN_AI_TOOL_DESCRIPTION, as_str(first(group.get("function"), group.get("apiPath"))))
            client_side = group.get("executionType") == "RETURN_CONTROL"
            step.put(
                gen_ai.GEN_AI_TOOL_TYPE,
                names.TOOL_TYPE_FUNCTION if client_side else names.TOOL_TYPE_EXTENSION,
            )
        elif kind == "ACTION_GROUP_CODE_INTERPRETER":
            step = self._open_step(kind, trace_id, names.OPERATION_EXECUTE_TOOL, "CodeInterpreter")
            step.put(gen_ai.GEN_AI_TOOL_NAME, "CodeInterpreter")
            step.put(gen_ai.GEN_AI_TOOL_TYPE, names.TOOL_TYPE_EXTENSION)
        elif kind == "KNOWLEDGE_BASE":
            kb_id = as_str(dig(data, "knowledgeBaseLookupInput", "knowledgeBaseId"))
            step = self._open_step(kind, trace_id, names.OPERATION_RETRIEVAL, kb_id)
            step.put(aws.AWS_BEDROCK_KNOWLEDGE_BASE_ID, kb_id)
            step.put(gen_ai.GEN_AI_DATA_SOURCE_ID, kb_id)
        elif kind == "AGENT_COLLABORATOR":
            collab = as_dict(data.get("agentCollaboratorInvocationInput"))
            name = as_str(collab.get("agentCollaboratorName"))
            step = self._open_step(kind, trace_id, names.OPERATION_INVOKE_AGENT, name)
            step.put(gen_ai.GEN_AI_AGENT_NAME, name)
        else:
            return
        step.put(names.AWS_BEDROCK_AGENT_TRACE_TYPE, kind)

    def _observation(self, data: Mapping[str, Any]) -> None:
        trace_id = data.get("traceId")
        kind = as_str(data.get("type"))
        if kind == "ACTION_GROUP":
            self._close(kind, trace_id, dig(data, "actionGroupInvocationOutput", "metadata"))
        elif kind == "KNOWLEDGE_BASE":
            output = as_dict(data.get("knowledgeBaseLookupOutput"))
            builder = self._open.get((kind, as_str(trace_id) or ""))
            if builder is not None and "retrievedReferences" in output:
                builder.put(names.AWS_BEDROCK_RETRIEVAL_RESULT_COUNT, len(as_list(output.get("retrievedReferences"))))
            self._close(kind, trace_id, output.get("metadata"))
        elif kind == "ACTION_GROUP_CODE_INTERPRETER":
            self._close(kind, trace_id, dig(data, "codeInterpreterInvocationOutput", "metadata"))
        elif kind == "AGENT_COLLABORATOR":
            self._close(kind, trace_id, dig(data, "agentCollaboratorInvocationOutput", "metadata"))
