"""Names this distro emits that no semantic convention defines (yet), plus fixed values.

Attribute names that *do* exist in the installed ``opentelemetry-semantic-conventions``
package (``gen_ai.*``, ``aws.bedrock.guardrail.id``, ``aws.bedrock.knowledge_base.id``,
``error.type``, ``server.*``) are imported from there where they are used; only our own
names live here, so a future convention can replace them in one place.

The enum values (operation and provider names) are written out as plain strings
because the installed semconv package marks its GenAI enum classes deprecated (the
GenAI conventions moved to the ``semantic-conventions-genai`` repository); the string
values themselves are unchanged there.
"""

from __future__ import annotations

from typing import Final

# --- Well-known values of convention attributes -------------------------------------

PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
"""``gen_ai.provider.name`` value the AWS Bedrock convention says MUST be used."""

OPERATION_CHAT: Final = "chat"
"""Well-known ``gen_ai.operation.name``: Converse and messages-style InvokeModel bodies."""

OPERATION_TEXT_COMPLETION: Final = "text_completion"
"""Well-known ``gen_ai.operation.name``: prompt-style bodies (Titan, Llama, Mistral/Cohere prompts)."""

OPERATION_EMBEDDINGS: Final = "embeddings"
"""Well-known ``gen_ai.operation.name``: embedding models (Titan Embed, Cohere Embed)."""

OPERATION_INVOKE_AGENT: Final = "invoke_agent"
"""Well-known ``gen_ai.operation.name``: Bedrock Agent Runtime InvokeAgent."""

OPERATION_EXECUTE_TOOL: Final = "execute_tool"
"""Well-known ``gen_ai.operation.name``: an agent action group / code interpreter call."""

OPERATION_RETRIEVAL: Final = "retrieval"
"""Well-known ``gen_ai.operation.name``: knowledge-base Retrieve and agent KB lookups."""

OPERATION_RETRIEVE_AND_GENERATE: Final = "retrieve_and_generate"
"""Our ``gen_ai.operation.name`` for RetrieveAndGenerate: a managed retrieval+generation
pipeline that is neither a single ``chat`` call nor a pure ``retrieval``."""

OPERATION_APPLY_GUARDRAIL: Final = "apply_guardrail"
"""Our ``gen_ai.operation.name`` for the standalone ApplyGuardrail call (no model involved)."""

TOOL_TYPE_EXTENSION: Final = "extension"
"""``gen_ai.tool.type`` for agent-side tools (action groups backed by Lambda)."""

TOOL_TYPE_FUNCTION: Final = "function"
"""``gen_ai.tool.type`` for client-side tools (action groups using RETURN_CONTROL)."""

# --- Our attribute names ------------------------------------------------------------

AWS_BEDROCK_GUARDRAIL_VERSION: Final = "aws.bedrock.guardrail.version"
"""Version of the guardrail applied (``DRAFT`` or a number); the id alone is ambiguous."""

AWS_BEDROCK_GUARDRAIL_INTERVENED: Final = "aws.bedrock.guardrail.intervened"
"""True when a guardrail blocked or masked input/output of this call."""

AWS_BEDROCK_SERVER_LATENCY_MS: Final = "aws.bedrock.server.latency_ms"
"""Converse ``metrics.latencyMs``: time Bedrock spent on the call, excluding the network."""

AWS_BEDROCK_INVOCATION_LATENCY_MS: Final = "aws.bedrock.invocation.latency_ms"
"""InvokeModel invocation latency (``X-Amzn-Bedrock-Invocation-Latency`` / stream metrics)."""

AWS_BEDROCK_INVOCATION_FIRST_BYTE_LATENCY_MS: Final = "aws.bedrock.invocation.first_byte_latency_ms"
"""InvokeModelWithResponseStream ``firstByteLatency`` as Bedrock measured it."""

AWS_BEDROCK_AGENT_ALIAS_ID: Final = "aws.bedrock.agent.alias.id"
"""Agent alias invoked; ``gen_ai.agent.id`` names the agent, the alias names the deployment."""

AWS_BEDROCK_AGENT_TRACE_TYPE: Final = "aws.bedrock.agent.trace.type"
"""Agent trace step kind (``PRE_PROCESSING``, ``ORCHESTRATION``, ``KNOWLEDGE_BASE`` ...)."""

AWS_BEDROCK_RETRIEVAL_RESULT_COUNT: Final = "aws.bedrock.retrieval.result_count"
"""Number of documents/references a knowledge-base lookup returned."""

AWS_BEDROCK_CITATION_COUNT: Final = "aws.bedrock.retrieve_and_generate.citation_count"
"""Number of citations RetrieveAndGenerate attached to its answer."""

GEN_AI_USAGE_COST: Final = "gen_ai.usage.cost"
"""Estimated USD cost of the call from the price table (never set when the model is unknown)."""

# --- Our metric names ---------------------------------------------------------------

METRIC_GEN_AI_CLIENT_COST: Final = "gen_ai.client.cost"
"""Counter of estimated spend in USD, one point per ``gen_ai.token.type`` the price applies to
(``input``, ``output``, ``cache_read``, ``cache_write``), so cost and token panels share a label."""

METRIC_GEN_AI_CLIENT_COST_UNIT: Final = "USD"
"""Unit of ``gen_ai.client.cost``."""

METRIC_GEN_AI_CLIENT_THROTTLES: Final = "gen_ai.client.throttles"
"""Counter of calls the provider rejected by throttling (Bedrock's ``ThrottlingException``, HTTP 429,
Anthropic's 529 ``overloaded``)."""

METRIC_GEN_AI_CLIENT_THROTTLES_UNIT: Final = "{throttle}"
"""Unit of ``gen_ai.client.throttles``."""

METRIC_GEN_AI_EXECUTE_TOOL_DURATION: Final = "gen_ai.execute_tool.duration"
"""Histogram (s) of the app's tool executions (``otel_chatbot.execute_tool``), by ``gen_ai.tool.name``,
``gen_ai.tool.type`` and ``error.type``. The convention's ``gen_ai.client.operation.duration`` is for
calls to a provider (it requires ``gen_ai.provider.name``); tool runs there would skew model latency."""

# --- Histogram bucket boundaries the GenAI metric conventions specify ------------------
# Source: semantic-conventions-genai docs/gen-ai/gen-ai-metrics.md ("This metric SHOULD be
# specified with ExplicitBucketBoundaries of ...").

TOKEN_USAGE_BUCKETS: Final[tuple[float, ...]] = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
"""Buckets for ``gen_ai.client.token.usage`` (``{token}``)."""

_SECONDS_BUCKETS: Final[tuple[float, ...]] = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)

OPERATION_DURATION_BUCKETS: Final = _SECONDS_BUCKETS
"""Buckets for ``gen_ai.client.operation.duration`` (seconds)."""

TIME_TO_FIRST_CHUNK_BUCKETS: Final = _SECONDS_BUCKETS
"""Buckets for ``gen_ai.client.operation.time_to_first_chunk`` (seconds)."""

TIME_PER_OUTPUT_CHUNK_BUCKETS: Final = _SECONDS_BUCKETS
"""Buckets for ``gen_ai.client.operation.time_per_output_chunk`` (seconds)."""
