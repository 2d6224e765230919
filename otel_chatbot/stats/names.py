"""The metrics and attributes the live view reads, named once.

Convention names come from ``opentelemetry.semconv``; the chat-experience, GenAI cost and
operator helpers' names (``cache_lookup()``, ``failover()``) from the modules that emit
them. The view shows the cache and failover sections when those metrics exist and leaves
them out (``null``) when nothing records them.
"""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv._incubating.attributes import cpu_attributes, gen_ai_attributes
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics, http_metrics, process_metrics
from opentelemetry.semconv.attributes import error_attributes, http_attributes
from opentelemetry.semconv.metrics import http_metrics as stable_http_metrics

from otel_chatbot.genai import names as genai_names
from otel_chatbot.helpers import names as helper_names
from otel_chatbot.instrumentation.asgi import names as asgi_names

# --- HTTP server ------------------------------------------------------------------------
HTTP_DURATION: Final = stable_http_metrics.HTTP_SERVER_REQUEST_DURATION
HTTP_ACTIVE: Final = http_metrics.HTTP_SERVER_ACTIVE_REQUESTS
ROUTE: Final = http_attributes.HTTP_ROUTE
METHOD: Final = http_attributes.HTTP_REQUEST_METHOD
STATUS: Final = http_attributes.HTTP_RESPONSE_STATUS_CODE
ERROR_TYPE: Final = error_attributes.ERROR_TYPE

# --- GenAI client -----------------------------------------------------------------------
GENAI_DURATION: Final = gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION
GENAI_TOKENS: Final = gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE
GENAI_TTFT: Final = gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK
GENAI_COST: Final = genai_names.METRIC_GEN_AI_CLIENT_COST
GENAI_THROTTLES: Final = genai_names.METRIC_GEN_AI_CLIENT_THROTTLES
PROVIDER: Final = gen_ai_attributes.GEN_AI_PROVIDER_NAME
REQUEST_MODEL: Final = gen_ai_attributes.GEN_AI_REQUEST_MODEL
RESPONSE_MODEL: Final = gen_ai_attributes.GEN_AI_RESPONSE_MODEL
TOKEN_TYPE: Final = gen_ai_attributes.GEN_AI_TOKEN_TYPE

# --- Streams, WebSockets, the event loop (the chat-experience names) ------------------------
STREAM_DURATION: Final = asgi_names.STREAM_DURATION
STREAM_TTFB: Final = asgi_names.STREAM_TIME_TO_FIRST_BYTE
STREAM_OUTCOME: Final = asgi_names.STREAM_OUTCOME
WS_ACTIVE: Final = asgi_names.WEBSOCKET_ACTIVE_CONNECTIONS
WS_MESSAGES: Final = asgi_names.WEBSOCKET_MESSAGES
WS_DIRECTION: Final = asgi_names.WEBSOCKET_DIRECTION
WS_CONNECTION_DURATION: Final = asgi_names.WEBSOCKET_CONNECTION_DURATION
WS_TURN: Final = asgi_names.WEBSOCKET_TURN_TIME_TO_FIRST_MESSAGE
LOOP_LAG: Final = asgi_names.ASYNCIO_LOOP_LAG

# --- Semantic cache and provider failover: the operator helpers' names --------------------
CACHE_LOOKUPS: Final = helper_names.CACHE_LOOKUPS
CACHE_DURATION: Final = helper_names.CACHE_LOOKUP_DURATION
CACHE_SAVED_TOKENS: Final = helper_names.CACHE_SAVED_TOKENS
CACHE_SAVED_COST: Final = helper_names.CACHE_SAVED_COST
CACHE_NAME: Final = helper_names.CACHE_NAME
CACHE_RESULT: Final = helper_names.CACHE_RESULT
FAILOVER_CHAINS: Final = helper_names.FAILOVER_CHAINS
FAILOVER_ATTEMPTS: Final = helper_names.FAILOVER_ATTEMPTS
FAILOVER_SWITCHES: Final = helper_names.FAILOVER_SWITCHES
FAILOVER_OVERHEAD: Final = helper_names.FAILOVER_OVERHEAD
FAILOVER_OUTCOME: Final = helper_names.FAILOVER_OUTCOME
CHAIN_EXHAUSTED: Final = helper_names.OUTCOME_EXHAUSTED
"""The chains' outcome for a chain no attempt served (the other is ``served``)."""

# --- The process --------------------------------------------------------------------------
CPU_TIME: Final = process_metrics.PROCESS_CPU_TIME
CPU_MODE: Final = cpu_attributes.CPU_MODE
MEMORY_USAGE: Final = process_metrics.PROCESS_MEMORY_USAGE
THREADS: Final = process_metrics.PROCESS_THREAD_COUNT

READ: Final = frozenset(
    {
        HTTP_DURATION,
        HTTP_ACTIVE,
        GENAI_DURATION,
        GENAI_TOKENS,
        GENAI_TTFT,
        GENAI_COST,
        GENAI_THROTTLES,
        STREAM_DURATION,
        STREAM_TTFB,
        WS_ACTIVE,
        WS_MESSAGES,
        WS_CONNECTION_DURATION,
        WS_TURN,
        LOOP_LAG,
        CACHE_LOOKUPS,
        CACHE_DURATION,
        CACHE_SAVED_TOKENS,
        CACHE_SAVED_COST,
        FAILOVER_CHAINS,
        FAILOVER_ATTEMPTS,
        FAILOVER_SWITCHES,
        FAILOVER_OVERHEAD,
        CPU_TIME,
        MEMORY_USAGE,
        THREADS,
    }
)
"""Every metric a snapshot keeps; the rest of the reader's collection is dropped at once."""
