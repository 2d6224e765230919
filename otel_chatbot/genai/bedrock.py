"""Bedrock Runtime calls (Converse, InvokeModel, ApplyGuardrail) as GenAI telemetry.

Every function takes what boto3 hands the caller (parameter dicts, response dicts,
raw bodies, HTTP headers) and returns frozen values; none of them raises on malformed
input - they report what could be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import families, names
from ._builder import ResponseBuilder
from ._coerce import as_dict, as_float, as_int, as_list, as_str, dig, parse_json_object, str_tuple
from .types import GenAIRequest, GenAIResponse

__all__ = [
    "apply_guardrail_request",
    "apply_guardrail_response",
    "converse_request",
    "converse_response",
    "invoke_model_request",
    "invoke_model_response",
    "is_throttling",
]


def converse_request(params: Mapping[str, Any], *, stream: bool | None = None) -> GenAIRequest:
    """Request facts from the keyword arguments of ``converse`` / ``converse_stream``.

    ``stream`` is not visible in the parameters, so the wiring passes it (True for
    ``converse_stream``) when it wants ``gen_ai.request.stream`` recorded.
    """
    params = as_dict(params)
    config = as_dict(params.get("inferenceConfig"))
    guardrail = as_dict(params.get("guardrailConfig"))
    extra = as_dict(params.get("additionalModelRequestFields"))
    return GenAIRequest(
        operation_name=names.OPERATION_CHAT,
        provider_name=names.PROVIDER_AWS_BEDROCK,
        model=as_str(params.get("modelId")),
        max_tokens=as_int(config.get("maxTokens")),
        temperature=as_float(config.get("temperature")),
        top_p=as_float(config.get("topP")),
        # top_k has no Converse field; Anthropic and Nova accept it as an extra field.
        top_k=as_float(extra.get("top_k") if "top_k" in extra else dig(extra, "inferenceConfig", "topK")),
        stop_sequences=str_tuple(config.get("stopSequences")),
        stream=stream,
        guardrail_id=as_str(guardrail.get("guardrailIdentifier")),
        guardrail_version=as_str(guardrail.get("guardrailVersion")),
    )


def converse_response(response: Mapping[str, Any], *, guardrail_configured: bool = False) -> GenAIResponse:
    """Response facts from a ``converse`` result dict.

    Token counts follow :class:`~.types.TokenUsage`: ``usage.inputTokens`` excludes the
    cache read/write counts, and ``gen_ai.usage.input_tokens`` adds them back.
    Converse returns no completion id; the model is only known when a prompt router
    picked it (``trace.promptRouter.invokedModelId``).

    ``guardrail_intervened`` is True for ``stopReason == "guardrail_intervened"``; it is
    False only when a guardrail was in play (``guardrail_configured`` or a guardrail
    trace), so calls without guardrails carry no such attribute.
    """
    response = as_dict(response)
    b = ResponseBuilder()
    read_converse_usage(response, b)
    read_converse_stop(response.get("stopReason"), b, guardrail_configured=guardrail_configured)
    return b.build()


def read_converse_stop(stop_reason: object, b: ResponseBuilder, *, guardrail_configured: bool) -> None:
    """Finish reason and guardrail verdict from a Converse ``stopReason``."""
    reason = as_str(stop_reason)
    if reason is None:
        return
    b.add_finish_reason(reason)
    if reason == "guardrail_intervened":
        b.note_guardrail(True)
    elif guardrail_configured:
        b.note_guardrail(False)


def read_converse_usage(payload: Mapping[str, Any], b: ResponseBuilder) -> None:
    """Usage, metrics and router model shared by Converse results and stream metadata."""
    usage = as_dict(payload.get("usage"))
    b.set_usage(
        uncached_input=usage.get("inputTokens"),
        output=usage.get("outputTokens"),
        cache_read=usage.get("cacheReadInputTokens"),
        cache_write=usage.get("cacheWriteInputTokens"),
    )
    latency = as_int(dig(payload, "metrics", "latencyMs"))
    if latency is not None:
        b.server_latency_ms = latency
    b.set_model(dig(payload, "trace", "promptRouter", "invokedModelId"))
    if as_dict(dig(payload, "trace", "guardrail")) and b.guardrail_intervened is None:
        b.note_guardrail(False)


def invoke_model_request(
    model_id: str,
    body: bytes | str | Mapping[str, Any] | None,
    *,
    stream: bool | None = None,
    guardrail_id: str | None = None,
    guardrail_version: str | None = None,
) -> GenAIRequest:
    """Request facts from an ``invoke_model`` / ``invoke_model_with_response_stream`` call.

    ``body`` is the request body as passed to boto3. Guardrails travel as separate
    call parameters (``guardrailIdentifier`` / ``guardrailVersion``), so pass them on.
    """
    return families.parse_request(
        model_id if isinstance(model_id, str) else "",
        parse_json_object(body),
        stream=stream,
        guardrail_id=guardrail_id,
        guardrail_version=guardrail_version,
    )


def invoke_model_response(
    model_id: str,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
) -> GenAIResponse:
    """Response facts from an ``invoke_model`` result.

    ``body`` is the bytes read from the response ``StreamingBody``; ``headers`` the HTTP
    response headers (``ResponseMetadata.HTTPHeaders``). Token counts come from the body
    when the family reports them, else from the ``X-Amzn-Bedrock-*-Token-Count``
    headers (matched case-insensitively), never from an estimate.
    """
    b = read_invoke_model_response(model_id, body, headers)
    return b.build()


def read_invoke_model_response(
    model_id: str,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
) -> ResponseBuilder:
    """Like :func:`invoke_model_response` but keeps the builder (and its text) for content capture."""
    b = ResponseBuilder()
    families.read_response(model_id if isinstance(model_id, str) else "", parse_json_object(body), b)
    b.apply_headers(headers)
    return b


def apply_guardrail_request(params: Mapping[str, Any]) -> GenAIRequest:
    """Request facts from ``apply_guardrail`` keyword arguments."""
    params = as_dict(params)
    return GenAIRequest(
        operation_name=names.OPERATION_APPLY_GUARDRAIL,
        provider_name=names.PROVIDER_AWS_BEDROCK,
        guardrail_id=as_str(params.get("guardrailIdentifier")),
        guardrail_version=as_str(params.get("guardrailVersion")),
    )


def apply_guardrail_response(response: Mapping[str, Any]) -> GenAIResponse:
    """Response facts from an ``apply_guardrail`` result: did the guardrail intervene."""
    action = as_str(as_dict(response).get("action"))
    b = ResponseBuilder()
    if action is not None:
        b.note_guardrail(action == "GUARDRAIL_INTERVENED")
    for output in as_list(as_dict(response).get("outputs")):
        b.add_text(as_dict(output).get("text"))
    return b.build()


_THROTTLING_CODES = frozenset(
    {
        # Bedrock's error codes
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        # HTTP providers: 429 Too Many Requests, and Anthropic's 529 overloaded
        "429",
        "529",
        # the same rejections reported inside a stream (Anthropic's error event types, OpenAI's code)
        "rate_limit_error",
        "overloaded_error",
        "rate_limit_exceeded",
    }
)


def is_throttling(error_type: str | None) -> bool:
    """True for error types that mean the provider throttled the call (for ``gen_ai.client.throttles``).

    Bedrock's throttling codes, HTTP 429 and Anthropic's 529 ``overloaded``, and their
    in-stream forms.
    """
    return error_type in _THROTTLING_CODES
