"""Pure domain logic for GenAI telemetry of AWS Bedrock calls.

Functions here take what boto3 gives the caller (parameter dicts, response dicts, raw
bodies, headers, stream events) and return frozen values with ``attributes()`` dicts
named by the OpenTelemetry GenAI semantic conventions. No OpenTelemetry SDK objects, no
I/O at import; the botocore wiring decides what to record and when.
"""

from __future__ import annotations

from .agents import (
    AgentStep,
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
    apply_guardrail_source,
    client_error_type,
    converse_request,
    converse_response,
    invoke_model_request,
    invoke_model_response,
    is_throttling,
)
from .models import base_model_id, model_family
from .pricing import Cost, ModelPrice, PriceTable
from .redaction import Redactor
from .streams import ConverseStreamAccumulator, InvokeStreamAccumulator
from .types import (
    Attributes,
    AttributeValue,
    GenAIRequest,
    GenAIResponse,
    TokenUsage,
    normalize_finish_reason,
)

__all__ = [
    "AgentStep",
    "AgentTraceAccumulator",
    "AttributeValue",
    "Attributes",
    "ConverseStreamAccumulator",
    "Cost",
    "GenAIRequest",
    "GenAIResponse",
    "InvokeStreamAccumulator",
    "ModelPrice",
    "PriceTable",
    "Redactor",
    "TokenUsage",
    "apply_guardrail_request",
    "apply_guardrail_response",
    "apply_guardrail_source",
    "base_model_id",
    "client_error_type",
    "converse_request",
    "converse_response",
    "invoke_agent_request",
    "invoke_model_request",
    "invoke_model_response",
    "is_throttling",
    "model_family",
    "normalize_finish_reason",
    "retrieve_and_generate_request",
    "retrieve_and_generate_response",
    "retrieve_request",
    "retrieve_response",
]
