"""The few facts of a finished span the demo's summary needs, and an exporter that keeps them.

Reducing each span to a small frozen record at export time keeps the summary a pure
function of plain data (easy to test with a table) and the memory per span small.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes
from opentelemetry.semconv.attributes import http_attributes as http
from opentelemetry.trace import StatusCode

from otel_chatbot.helpers import names as helpers
from otel_chatbot.instrumentation.asgi import names as chat

BEDROCK_PROVIDER = "aws.bedrock"
TTFC_ATTRIBUTE = gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
MAX_KEPT = 200_000
"""Spans kept for the summary; a demo left running keeps memory bounded."""


@dataclass(frozen=True)
class SpanFacts:
    name: str
    kind: str
    """``SERVER``, ``CLIENT``, ``INTERNAL`` ..."""
    duration_s: float
    error: bool
    status_code: int | None = None
    bedrock: bool = False
    """A call to Bedrock (a CLIENT span of the Bedrock runtime or agent runtime)."""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    ttfc_s: float | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    route: str | None = None
    """``http.route`` of a SERVER span."""
    stream_outcome: str | None = None
    """A streamed response's ``chatbot.stream.outcome``; ``None``: not a stream."""
    stream_ttfb_s: float | None = None
    ws_received: int | None = None
    """Messages a WebSocket connection received; ``None``: not a WebSocket."""
    ws_sent: int | None = None
    provider: str | None = None
    """``gen_ai.provider.name`` of a call to a provider (a CLIENT span); ``aws.bedrock`` for Bedrock's."""
    error_type: str | None = None
    cache_result: str | None = None
    """``hit`` / ``miss`` / ``error`` of a ``cache_lookup`` span; ``None``: not one."""
    cache_similarity: float | None = None
    cache_saved_input: int = 0
    cache_saved_output: int = 0
    cache_saved_cost: float = 0.0
    failover_outcome: str | None = None
    """``served`` / ``exhausted`` of a ``failover`` chain span; ``None``: not one (attempts are ``attempt ...``)."""
    failover_attempts: int = 0
    failover_overhead_s: float | None = None


def _int(attributes: Mapping[str, Any], key: str) -> int | None:
    value = _number(attributes, key)
    return None if value is None else int(value)


def _number(attributes: Mapping[str, Any], key: str) -> float | None:
    value = attributes.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def facts_from_span(span: ReadableSpan) -> SpanFacts:
    attributes: Mapping[str, Any] = span.attributes or {}
    start = span.start_time or 0
    status = _number(attributes, http.HTTP_RESPONSE_STATUS_CODE)
    bedrock = span.kind.name == "CLIENT" and (
        attributes.get(gen_ai.GEN_AI_PROVIDER_NAME) == BEDROCK_PROVIDER
        or str(attributes.get("rpc.service", "")).startswith("Bedrock")
    )
    route = attributes.get(http.HTTP_ROUTE)
    outcome = attributes.get(chat.STREAM_OUTCOME)
    provider = attributes.get(gen_ai.GEN_AI_PROVIDER_NAME) if span.kind.name == "CLIENT" else None
    chain = span.name.startswith("failover ") and span.kind.name == "INTERNAL"
    return SpanFacts(
        name=span.name,
        kind=span.kind.name,
        duration_s=((span.end_time or start) - start) / 1e9,
        error=span.status.status_code is StatusCode.ERROR or (status is not None and status >= 500),
        status_code=int(status) if status is not None else None,
        bedrock=bedrock,
        input_tokens=_int(attributes, gen_ai.GEN_AI_USAGE_INPUT_TOKENS) or 0,
        output_tokens=_int(attributes, gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS) or 0,
        cost_usd=_number(attributes, "gen_ai.usage.cost"),
        ttfc_s=_number(attributes, TTFC_ATTRIBUTE),
        cache_read_tokens=_int(attributes, gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS) or 0,
        cache_write_tokens=_int(attributes, gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS) or 0,
        route=route if isinstance(route, str) else None,
        stream_outcome=outcome if isinstance(outcome, str) else None,
        stream_ttfb_s=_number(attributes, chat.STREAM_TIME_TO_FIRST_BYTE),
        ws_received=_int(attributes, chat.WEBSOCKET_MESSAGES_RECEIVED),
        ws_sent=_int(attributes, chat.WEBSOCKET_MESSAGES_SENT),
        provider=BEDROCK_PROVIDER if bedrock else _str(provider),
        error_type=_str(attributes.get(error_attributes.ERROR_TYPE)),
        cache_result=_str(attributes.get(helpers.CACHE_RESULT)),
        cache_similarity=_number(attributes, helpers.CACHE_SIMILARITY),
        cache_saved_input=_int(attributes, helpers.CACHE_SAVED_INPUT_TOKENS) or 0,
        cache_saved_output=_int(attributes, helpers.CACHE_SAVED_OUTPUT_TOKENS) or 0,
        cache_saved_cost=_number(attributes, helpers.CACHE_SAVED_COST_ATTRIBUTE) or 0.0,
        failover_outcome=_str(attributes.get(helpers.FAILOVER_OUTCOME)) if chain else None,
        failover_attempts=(_int(attributes, helpers.FAILOVER_ATTEMPT_COUNT) or 0) if chain else 0,
        failover_overhead_s=_number(attributes, helpers.FAILOVER_OVERHEAD_ATTRIBUTE) if chain else None,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class SpanCollector(SpanExporter):
    """Keeps :class:`SpanFacts` of every exported span (up to :data:`MAX_KEPT`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._facts: list[SpanFacts] = []
        self.dropped = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        facts = [facts_from_span(span) for span in spans]
        with self._lock:
            room = MAX_KEPT - len(self._facts)
            self._facts.extend(facts[:room])
            self.dropped += max(0, len(facts) - room)
        return SpanExportResult.SUCCESS

    def facts(self) -> list[SpanFacts]:
        with self._lock:
            return list(self._facts)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        pass
