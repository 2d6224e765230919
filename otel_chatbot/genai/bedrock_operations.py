"""The Bedrock operation table: one row per Bedrock Runtime / Agent Runtime operation we read.

Keyed by the SDK operation name (``BaseClient._make_api_call``'s ``operation_name``). The
rows adapt the parsers of :mod:`.bedrock`, :mod:`.agents`, :mod:`.streams` and
:mod:`.content` to the row signatures of :class:`~.operations.Operation`; an operation
that is not here (``CountTokens``, the async invocations ...) keeps the plain AWS span.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from . import content
from .agents import (
    AgentTraceAccumulator,
    invoke_agent_request,
    retrieve_and_generate_request,
    retrieve_and_generate_response,
    retrieve_request,
    retrieve_response,
)
from .bedrock import (
    apply_guardrail_request,
    apply_guardrail_response,
    converse_request,
    converse_response,
    invoke_model_request,
    invoke_model_response,
)
from .messages import Message
from .operations import Operation, OperationTable, Params, Result, StreamSpec
from .streams import ConverseStreamAccumulator, InvokeStreamAccumulator
from .types import GenAIRequest, GenAIResponse


def _model_id(params: Params) -> str:
    return str(params.get("modelId", ""))


def _headers(result: Result) -> Mapping[str, str]:
    """The HTTP response headers boto3 keeps in ``ResponseMetadata``."""
    meta = result.get("ResponseMetadata")
    headers = meta.get("HTTPHeaders") if isinstance(meta, Mapping) else None
    return headers if isinstance(headers, Mapping) else {}


def _of_result(parse: Callable[[Mapping[str, Any]], GenAIResponse]) -> Callable[[Params, Result], GenAIResponse]:
    """A response parser that needs only the result, in the row's ``(params, result)`` shape."""

    def response(params: Params, result: Result) -> GenAIResponse:
        return parse(result)

    return response


def _invoke_model_request(params: Params, *, stream: bool) -> GenAIRequest:
    return invoke_model_request(
        _model_id(params),
        params.get("body"),
        stream=stream,
        guardrail_id=params.get("guardrailIdentifier"),
        guardrail_version=params.get("guardrailVersion"),
    )


def _invoke_model_response(params: Params, result: Result) -> GenAIResponse:
    return invoke_model_response(_model_id(params), result.get("body"), _headers(result))


def _invoke_model_input(params: Params) -> list[Message]:
    return content.invoke_input_messages(_model_id(params), params.get("body"))


def _invoke_model_output(params: Params, result: Result) -> list[Message]:
    return content.invoke_output_messages(_model_id(params), result.get("body"), _headers(result))


def _converse_output(params: Params, result: Result) -> list[Message]:
    return content.converse_output_messages(result)


def _converse_stream(params: Params, capture_content: bool) -> ConverseStreamAccumulator:
    return ConverseStreamAccumulator(capture_content=capture_content)


def _invoke_stream(params: Params, capture_content: bool) -> InvokeStreamAccumulator:
    return InvokeStreamAccumulator(_model_id(params), capture_content=capture_content)


def _agent_trace(params: Params, capture_content: bool) -> AgentTraceAccumulator:
    return AgentTraceAccumulator()


BEDROCK_OPERATIONS: OperationTable = {
    "Converse": Operation(
        request=partial(converse_request, stream=False),
        response=_of_result(converse_response),
        input_messages=content.converse_input_messages,
        output_messages=_converse_output,
    ),
    "ConverseStream": Operation(
        request=partial(converse_request, stream=True),
        stream=StreamSpec("stream", _converse_stream),
        input_messages=content.converse_input_messages,
    ),
    "InvokeModel": Operation(
        request=partial(_invoke_model_request, stream=False),
        response=_invoke_model_response,
        input_messages=_invoke_model_input,
        output_messages=_invoke_model_output,
        buffered_body="body",
    ),
    "InvokeModelWithResponseStream": Operation(
        request=partial(_invoke_model_request, stream=True),
        stream=StreamSpec("body", _invoke_stream),
        input_messages=_invoke_model_input,
    ),
    "ApplyGuardrail": Operation(request=apply_guardrail_request, response=_of_result(apply_guardrail_response)),
    "InvokeAgent": Operation(request=invoke_agent_request, stream=StreamSpec("completion", _agent_trace)),
    "Retrieve": Operation(request=retrieve_request, response=_of_result(retrieve_response)),
    "RetrieveAndGenerate": Operation(
        request=retrieve_and_generate_request, response=_of_result(retrieve_and_generate_response)
    ),
}
"""Bedrock Runtime and Bedrock Agent Runtime operations by SDK operation name."""
