"""Frozen value types the GenAI parsers return, and their span attributes.

Kept free of OpenTelemetry SDK objects: ``attributes()`` returns a plain dict the wiring
passes to ``span.set_attributes`` or a metric instrument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from opentelemetry.semconv._incubating.attributes import aws_attributes as aws
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes

from . import names

AttributeValue: TypeAlias = str | int | float | bool | tuple[str, ...]
Attributes: TypeAlias = dict[str, AttributeValue]


def _put(attrs: Attributes, key: str, value: AttributeValue | None) -> None:
    if value is not None:
        attrs[key] = value


@dataclass(frozen=True)
class TokenUsage:
    """Token counts of one call, split the way Bedrock bills them.

    Bedrock (Converse ``usage.inputTokens``, the ``X-Amzn-Bedrock-Input-Token-Count``
    header, stream ``inputTokenCount``) and Anthropic (``input_tokens``) report input
    tokens *excluding* tokens read from or written to the prompt cache; those come in
    separate fields. We keep that split (pricing needs it) in ``uncached_input_tokens``.

    The GenAI convention says ``gen_ai.usage.input_tokens`` "SHOULD include all types of
    input tokens, including cached tokens", and that ``gen_ai.usage.cache_read.input_tokens``
    and ``gen_ai.usage.cache_creation.input_tokens`` "SHOULD be included in
    ``gen_ai.usage.input_tokens``". So :attr:`input_tokens` is::

        uncached_input_tokens + cache_read_input_tokens + cache_creation_input_tokens

    with a missing cache count treated as 0 (Bedrock omits the fields when nothing was
    cached) and ``None`` when the uncached count itself is unknown - never an estimate.
    """

    uncached_input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None

    @property
    def input_tokens(self) -> int | None:
        """Total input tokens as the convention defines them (cached ones included)."""
        if self.uncached_input_tokens is None:
            return None
        return (
            self.uncached_input_tokens + (self.cache_read_input_tokens or 0) + (self.cache_creation_input_tokens or 0)
        )

    @property
    def known(self) -> bool:
        """True when at least one count was reported."""
        return any(
            v is not None
            for v in (
                self.uncached_input_tokens,
                self.output_tokens,
                self.cache_read_input_tokens,
                self.cache_creation_input_tokens,
            )
        )

    def attributes(self) -> Attributes:
        """``gen_ai.usage.*`` attributes for the counts that are known."""
        attrs: Attributes = {}
        _put(attrs, gen_ai.GEN_AI_USAGE_INPUT_TOKENS, self.input_tokens)
        _put(attrs, gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS, self.output_tokens)
        _put(attrs, gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, self.cache_read_input_tokens)
        _put(attrs, gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, self.cache_creation_input_tokens)
        return attrs


@dataclass(frozen=True)
class GenAIRequest:
    """What a GenAI call asked for, as far as the parameters could be read.

    ``provider_name`` is the convention's ``gen_ai.provider.name`` (``aws.bedrock`` for
    every Bedrock operation); spans and metrics take it from here, never from a constant.
    """

    operation_name: str
    provider_name: str
    model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: float | None = None
    stop_sequences: tuple[str, ...] | None = None
    seed: int | None = None
    choice_count: int | None = None
    stream: bool | None = None
    guardrail_id: str | None = None
    guardrail_version: str | None = None
    agent_id: str | None = None
    agent_alias_id: str | None = None
    conversation_id: str | None = None
    knowledge_base_id: str | None = None
    encoding_formats: tuple[str, ...] | None = None

    @property
    def span_name(self) -> str:
        """Span name the GenAI convention recommends: ``{operation} {model}``."""
        target = self.model or self.agent_id or self.knowledge_base_id or self.guardrail_id
        return f"{self.operation_name} {target}" if target else self.operation_name

    def attributes(self) -> Attributes:
        """Request-side span attributes (convention names first, then ours)."""
        attrs: Attributes = {
            gen_ai.GEN_AI_OPERATION_NAME: self.operation_name,
            gen_ai.GEN_AI_PROVIDER_NAME: self.provider_name,
        }
        _put(attrs, gen_ai.GEN_AI_REQUEST_MODEL, self.model)
        _put(attrs, gen_ai.GEN_AI_REQUEST_MAX_TOKENS, self.max_tokens)
        _put(attrs, gen_ai.GEN_AI_REQUEST_TEMPERATURE, self.temperature)
        _put(attrs, gen_ai.GEN_AI_REQUEST_TOP_P, self.top_p)
        _put(attrs, gen_ai.GEN_AI_REQUEST_TOP_K, self.top_k)
        _put(attrs, gen_ai.GEN_AI_REQUEST_STOP_SEQUENCES, self.stop_sequences)
        _put(attrs, gen_ai.GEN_AI_REQUEST_SEED, self.seed)
        if self.choice_count is not None and self.choice_count != 1:
            attrs[gen_ai.GEN_AI_REQUEST_CHOICE_COUNT] = self.choice_count
        _put(attrs, gen_ai.GEN_AI_REQUEST_STREAM, self.stream)
        _put(attrs, gen_ai.GEN_AI_REQUEST_ENCODING_FORMATS, self.encoding_formats)
        _put(attrs, aws.AWS_BEDROCK_GUARDRAIL_ID, self.guardrail_id)
        _put(attrs, names.AWS_BEDROCK_GUARDRAIL_VERSION, self.guardrail_version)
        _put(attrs, gen_ai.GEN_AI_AGENT_ID, self.agent_id)
        _put(attrs, names.AWS_BEDROCK_AGENT_ALIAS_ID, self.agent_alias_id)
        _put(attrs, gen_ai.GEN_AI_CONVERSATION_ID, self.conversation_id)
        _put(attrs, aws.AWS_BEDROCK_KNOWLEDGE_BASE_ID, self.knowledge_base_id)
        _put(attrs, gen_ai.GEN_AI_DATA_SOURCE_ID, self.knowledge_base_id)
        return attrs


@dataclass(frozen=True)
class GenAIResponse:
    """What a GenAI call returned, as far as the payload could be read.

    ``finish_reasons`` keeps the provider's own values (``end_turn``, ``max_tokens``,
    ``FINISH`` ...): the convention defines ``gen_ai.response.finish_reasons`` as the
    reasons the model reported and lists no enum for it. Use
    :func:`normalize_finish_reason` where the convention's ``FinishReason`` enum applies
    (the ``finish_reason`` of ``gen_ai.output.messages``).
    """

    response_id: str | None = None
    response_model: str | None = None
    finish_reasons: tuple[str, ...] = ()
    usage: TokenUsage = field(default_factory=TokenUsage)
    guardrail_intervened: bool | None = None
    server_latency_ms: int | None = None
    invocation_latency_ms: int | None = None
    first_byte_latency_ms: int | None = None
    error_type: str | None = None
    conversation_id: str | None = None
    result_count: int | None = None
    citation_count: int | None = None

    def attributes(self) -> Attributes:
        """Response-side span attributes (convention names first, then ours)."""
        attrs: Attributes = {}
        _put(attrs, gen_ai.GEN_AI_RESPONSE_ID, self.response_id)
        _put(attrs, gen_ai.GEN_AI_RESPONSE_MODEL, self.response_model)
        if self.finish_reasons:
            attrs[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] = self.finish_reasons
        attrs.update(self.usage.attributes())
        _put(attrs, gen_ai.GEN_AI_CONVERSATION_ID, self.conversation_id)
        _put(attrs, error_attributes.ERROR_TYPE, self.error_type)
        _put(attrs, names.AWS_BEDROCK_GUARDRAIL_INTERVENED, self.guardrail_intervened)
        _put(attrs, names.AWS_BEDROCK_SERVER_LATENCY_MS, self.server_latency_ms)
        _put(attrs, names.AWS_BEDROCK_INVOCATION_LATENCY_MS, self.invocation_latency_ms)
        _put(attrs, names.AWS_BEDROCK_INVOCATION_FIRST_BYTE_LATENCY_MS, self.first_byte_latency_ms)
        _put(attrs, names.AWS_BEDROCK_RETRIEVAL_RESULT_COUNT, self.result_count)
        _put(attrs, names.AWS_BEDROCK_CITATION_COUNT, self.citation_count)
        return attrs


_FINISH_REASONS: dict[str, str] = {
    # stop: natural end or a stop sequence
    "end_turn": "stop",
    "stop_sequence": "stop",
    "stop": "stop",
    "complete": "stop",
    "finish": "stop",
    "endoftext": "stop",
    "eos": "stop",
    # length: a token limit was hit
    "max_tokens": "length",
    "length": "length",
    "model_context_window_exceeded": "length",
    # content_filter: a guardrail or the model's own safety filter
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "error_toxic": "content_filter",
    # tool_call: the model wants a tool run
    "tool_use": "tool_call",
    "tool_calls": "tool_call",
    "tool_call": "tool_call",
    # error
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
    "error": "error",
}


def normalize_finish_reason(reason: str) -> str:
    """Map a provider stop reason onto the convention's ``FinishReason`` enum.

    The enum (``stop``, ``length``, ``content_filter``, ``tool_call``, ``error``) comes
    from the ``gen_ai.output.messages`` JSON schema, which also allows other strings, so
    reasons without a clear counterpart (e.g. Anthropic ``pause_turn``) pass through.
    """
    return _FINISH_REASONS.get(reason.lower(), reason)
