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
from opentelemetry.trace import StatusCode

BEDROCK_PROVIDER = "aws.bedrock"
TTFC_ATTRIBUTE = "gen_ai.response.time_to_first_chunk"
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


def _number(attributes: Mapping[str, Any], key: str) -> float | None:
    value = attributes.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def facts_from_span(span: ReadableSpan) -> SpanFacts:
    attributes: Mapping[str, Any] = span.attributes or {}
    start = span.start_time or 0
    status = _number(attributes, "http.response.status_code")
    bedrock = span.kind.name == "CLIENT" and (
        attributes.get("gen_ai.provider.name") == BEDROCK_PROVIDER
        or str(attributes.get("rpc.service", "")).startswith("Bedrock")
    )
    return SpanFacts(
        name=span.name,
        kind=span.kind.name,
        duration_s=((span.end_time or start) - start) / 1e9,
        error=span.status.status_code is StatusCode.ERROR or (status is not None and status >= 500),
        status_code=int(status) if status is not None else None,
        bedrock=bedrock,
        input_tokens=int(_number(attributes, "gen_ai.usage.input_tokens") or 0),
        output_tokens=int(_number(attributes, "gen_ai.usage.output_tokens") or 0),
        cost_usd=_number(attributes, "gen_ai.usage.cost"),
        ttfc_s=_number(attributes, TTFC_ATTRIBUTE),
    )


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
