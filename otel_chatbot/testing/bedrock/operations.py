"""Operation handlers: a routed request with its JSON body in, a response object out.

This is the only place that knows which body shape, generator and headers belong to which
Bedrock operation; it never touches sockets, so it is cheap to reason about and to test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from otel_chatbot.testing.bedrock import agents, converse, families, guardrails
from otel_chatbot.testing.bedrock.errors import ApiError, validation
from otel_chatbot.testing.bedrock.eventstream import JSON_CONTENT_TYPE, bytes_payload, event_frame
from otel_chatbot.testing.bedrock.profiles import InferenceProfiles
from otel_chatbot.testing.bedrock.prompts import converse_prompt
from otel_chatbot.testing.bedrock.routes import (
    APPLY_GUARDRAIL,
    CONVERSE,
    CONVERSE_STREAM,
    INVOKE_AGENT,
    INVOKE_MODEL,
    INVOKE_MODEL_STREAM,
    RETRIEVE,
    RETRIEVE_AND_GENERATE,
    Route,
)
from otel_chatbot.testing.standin.cache import PromptCache
from otel_chatbot.testing.standin.generation import Completion, complete
from otel_chatbot.testing.standin.responses import (
    Clock,
    JsonResponse,
    Response,
    StreamEvent,
    StreamResponse,
)

JsonObject = dict[str, Any]

# Any resource id containing this marker answers ResourceNotFoundException (a 404 on cue).
NOT_FOUND_MARKER = "notfound"
INVALID_MODEL = "The provided model identifier is invalid."


@dataclass(frozen=True)
class Call:
    """Everything a handler may use about one request."""

    route: Route
    body: JsonObject
    request_id: str
    clock: Clock
    cache: PromptCache
    profiles: InferenceProfiles


def ledger_key(route: Route, body: JsonObject) -> str:
    """The ledger's "model" for a request: the model id, or the agent / KB / guardrail resource."""
    params = route.params
    if "modelId" in params:
        return params["modelId"]
    if route.operation == INVOKE_AGENT:
        return f"agent/{params['agentId']}/{params['agentAliasId']}"
    if route.operation == RETRIEVE:
        return f"knowledge-base/{params['knowledgeBaseId']}"
    if route.operation == APPLY_GUARDRAIL:
        return f"guardrail/{params['guardrailIdentifier']}/{params['guardrailVersion']}"
    model, knowledge_base = agents.rag_model_and_kb(body)
    return str(model) if model else f"knowledge-base/{knowledge_base}"


def _check_found(*identifiers: str) -> None:
    for identifier in identifiers:
        if NOT_FOUND_MARKER in identifier.lower():
            raise ApiError("ResourceNotFoundException", f"Resource {identifier} was not found.")


def _model(call: Call) -> families.ModelRef:
    model_id = call.route.params["modelId"]
    _check_found(model_id)
    if ":application-inference-profile/" in model_id:
        behind = call.profiles.model_behind(model_id)
        if behind is None:
            raise ApiError("ResourceNotFoundException", f"Inference profile {model_id} not found.")
        model_id = behind
    model = families.parse_model_id(model_id)
    if model is None:
        raise validation(INVALID_MODEL)
    return model


def _scope(model: families.ModelRef) -> str:
    return f"{model.provider}.{model.name}"


def _converse_completion(call: Call) -> Completion:
    model = _model(call)
    return complete(converse_prompt(call.body), call.cache, _scope(model))


def _converse(call: Call) -> Response:
    completion = _converse_completion(call)
    body = converse.converse_body(completion, call.clock.elapsed_ms())
    return JsonResponse(body, usage=completion.usage)


def _converse_stream(call: Call) -> Response:
    completion = _converse_completion(call)
    return StreamResponse(converse.converse_stream_events(completion, call.clock.elapsed_ms))


def _invoke_setup(call: Call) -> tuple[families.Family, Completion, families.CallInfo]:
    model = _model(call)
    family = families.family_for(model, call.body)
    if family is None:
        raise validation(f"The fake server does not support InvokeModel for {call.route.params['modelId']}.")
    completion = complete(family.parse(call.body), call.cache, _scope(model))
    info = families.CallInfo(call.request_id, model, call.clock.elapsed_ms())
    return family, completion, info


def _invoke_model(call: Call) -> Response:
    family, completion, info = _invoke_setup(call)
    usage = completion.usage
    headers = {
        "Content-Type": JSON_CONTENT_TYPE,
        "X-Amzn-Bedrock-Input-Token-Count": str(usage.input_tokens),
        "X-Amzn-Bedrock-Output-Token-Count": str(usage.output_tokens),
        "X-Amzn-Bedrock-Invocation-Latency": str(info.latency_ms),
    }
    if family.reports_cache:
        headers["X-Amzn-Bedrock-Cache-Read-Input-Token-Count"] = str(usage.cache_read_input_tokens)
        headers["X-Amzn-Bedrock-Cache-Write-Input-Token-Count"] = str(usage.cache_write_input_tokens)
    return JsonResponse(family.body(completion, info), headers=headers, usage=usage)


def _model_chunks(
    family: families.Family, completion: Completion, info: families.CallInfo, elapsed_ms: Callable[[], int]
) -> Iterator[StreamEvent]:
    chunks = family.chunks(completion, info)
    first_byte_ms = elapsed_ms()
    for index, chunk in enumerate(chunks):
        usage = None
        if index == len(chunks) - 1:
            metrics = families.invocation_metrics(completion.usage, elapsed_ms(), first_byte_ms, family.reports_cache)
            chunk = {**chunk, "amazon-bedrock-invocationMetrics": metrics}
            usage = completion.usage
        yield StreamEvent(event_frame("chunk", bytes_payload(chunk, index)), usage=usage)


def _invoke_model_stream(call: Call) -> Response:
    family, completion, info = _invoke_setup(call)
    events = _model_chunks(family, completion, info, call.clock.elapsed_ms)
    return StreamResponse(events, headers={"X-Amzn-Bedrock-Content-Type": JSON_CONTENT_TYPE})


def _apply_guardrail(call: Call) -> Response:
    _check_found(call.route.params["guardrailIdentifier"])
    return JsonResponse(guardrails.apply_guardrail_body(call.body))


def _invoke_agent(call: Call) -> Response:
    params = call.route.params
    _check_found(params["agentId"], params["agentAliasId"])
    run = agents.AgentRun(params, call.body, call.request_id)
    headers = {
        "x-amzn-bedrock-agent-content-type": JSON_CONTENT_TYPE,
        "x-amz-bedrock-agent-session-id": params["sessionId"],
    }
    return StreamResponse(run.events(), headers=headers)


def _retrieve(call: Call) -> Response:
    knowledge_base_id = call.route.params["knowledgeBaseId"]
    _check_found(knowledge_base_id)
    return JsonResponse(agents.retrieve_body(knowledge_base_id, call.body))


def _retrieve_and_generate(call: Call) -> Response:
    model, knowledge_base_id = agents.rag_model_and_kb(call.body)
    _check_found(knowledge_base_id, model or "")
    return JsonResponse(agents.retrieve_and_generate_body(call.body, str(uuid.uuid4())))


_HANDLERS: dict[str, Callable[[Call], Response]] = {
    CONVERSE: _converse,
    CONVERSE_STREAM: _converse_stream,
    INVOKE_MODEL: _invoke_model,
    INVOKE_MODEL_STREAM: _invoke_model_stream,
    APPLY_GUARDRAIL: _apply_guardrail,
    INVOKE_AGENT: _invoke_agent,
    RETRIEVE: _retrieve,
    RETRIEVE_AND_GENERATE: _retrieve_and_generate,
}


def handle(call: Call) -> Response:
    """Run the operation; body shapes the parsers did not foresee become ValidationException."""
    try:
        return _HANDLERS[call.route.operation](call)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise validation() from exc
