"""Mutable collector behind every response parser and stream accumulator.

One place decides precedence (exact body counts over header/metric fallbacks) so the
one-shot parsers and the stream accumulators cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ._coerce import as_dict, as_int, as_str, header
from .types import GenAIResponse, TokenUsage

INPUT_TOKENS_HEADER = "X-Amzn-Bedrock-Input-Token-Count"
OUTPUT_TOKENS_HEADER = "X-Amzn-Bedrock-Output-Token-Count"
CACHE_READ_HEADER = "X-Amzn-Bedrock-Cache-Read-Input-Token-Count"
CACHE_WRITE_HEADER = "X-Amzn-Bedrock-Cache-Write-Input-Token-Count"
INVOCATION_LATENCY_HEADER = "X-Amzn-Bedrock-Invocation-Latency"

INVOCATION_METRICS_KEY = "amazon-bedrock-invocationMetrics"
KEPT_TEXT_LIMIT = 256 * 1024
"""Characters of generated text (and tool arguments) kept for content capture, per call: the
captured attribute is bounded far below this, so a longer answer only costs memory."""
GUARDRAIL_ACTION_KEY = "amazon-bedrock-guardrailAction"


def _counts(uncached_input: object, output: object, cache_read: object, cache_write: object) -> dict[str, int]:
    """The readable counts among the four token fields, keyed by builder attribute name."""
    raw = {
        "uncached_input": uncached_input,
        "output": output,
        "cache_read": cache_read,
        "cache_write": cache_write,
    }
    return {name: value for name, value in ((n, as_int(v)) for n, v in raw.items()) if value is not None}


class ToolCalls:
    """Tool calls of one answer, whole or assembled from streamed pieces, keyed by their position.

    Names and ids are always kept (they are few and short); arguments only for content
    capture, and at most :data:`KEPT_TEXT_LIMIT` characters of them in all.
    """

    def __init__(self, *, keep_arguments: bool) -> None:
        self.keep_arguments = keep_arguments
        self._calls: dict[object, dict[str, object]] = {}
        self._kept = 0

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, key: object, call_id: object = None, name: object = None, arguments: object = None) -> None:
        """Start (or complete) call ``key``; ``arguments`` replace any pieces (a whole object or string)."""
        call = self._calls.setdefault(_position(key), {"id": None, "name": None, "arguments": None})
        if as_str(call_id) is not None:
            call["id"] = call_id
        if as_str(name) is not None:
            call["name"] = name
        if arguments is not None and self.keep_arguments:
            call["arguments"] = arguments

    def extend_arguments(self, key: object, piece: object) -> None:
        """Append a streamed piece of call ``key``'s JSON arguments."""
        if not self.keep_arguments or not isinstance(piece, str) or not piece or self._kept >= KEPT_TEXT_LIMIT:
            return
        call = self._calls.setdefault(_position(key), {"id": None, "name": None, "arguments": None})
        previous = call["arguments"]
        call["arguments"] = (previous if isinstance(previous, str) else "") + piece
        self._kept += len(piece)

    def parts(self) -> list[dict[str, object]]:
        """The convention's ``tool_call`` message parts, in the order the calls began.

        Arguments streamed as JSON text are decoded when they are complete JSON, as the
        convention shows them (an object), and kept as text otherwise.
        """
        return [
            {"type": "tool_call", "id": call["id"], "name": call["name"], "arguments": _decoded(call["arguments"])}
            for call in self._calls.values()
        ]


def _position(key: object) -> object:
    """A call's position as a dict key: an answer's index field may be anything, a list included."""
    return key if key is None or isinstance(key, str | int | float) else repr(key)


def _decoded(arguments: object) -> object:
    if not isinstance(arguments, str):
        return arguments
    try:
        return json.loads(arguments)
    except (ValueError, RecursionError):
        return arguments


class ResponseBuilder:
    """Accumulates response facts; :meth:`build` freezes them into a ``GenAIResponse``."""

    def __init__(self, *, keep_text: bool = True) -> None:
        self.response_id: str | None = None
        self.response_model: str | None = None
        self.finish_reasons: list[str] = []
        self.uncached_input: int | None = None
        self.output: int | None = None
        self.cache_read: int | None = None
        self.cache_write: int | None = None
        self.guardrail_intervened: bool | None = None
        self.server_latency_ms: int | None = None
        self.invocation_latency_ms: int | None = None
        self.first_byte_latency_ms: int | None = None
        self.error_type: str | None = None
        self.conversation_id: str | None = None
        self.result_count: int | None = None
        self.citation_count: int | None = None
        self.keep_text = keep_text
        self.text_parts: list[str] = []
        self._kept = 0
        self.tool_calls = ToolCalls(keep_arguments=keep_text)
        # Fallback counts (headers, invocation metrics) used only where the body had none.
        self._fallback: dict[str, int] = {}

    # -- body facts -------------------------------------------------------------------

    def set_usage(
        self,
        *,
        uncached_input: object = None,
        output: object = None,
        cache_read: object = None,
        cache_write: object = None,
    ) -> None:
        """Record exact counts from the body; later reports of a field replace earlier ones."""
        for name, value in _counts(uncached_input, output, cache_read, cache_write).items():
            setattr(self, name, value)

    def add_finish_reason(self, reason: object) -> None:
        value = as_str(reason)
        if value is not None:
            self.finish_reasons.append(value)

    def set_id(self, value: object) -> None:
        self.response_id = as_str(value) or self.response_id

    def set_model(self, value: object) -> None:
        self.response_model = as_str(value) or self.response_model

    def add_text(self, text: object) -> None:
        if self.keep_text and isinstance(text, str) and text and self._kept < KEPT_TEXT_LIMIT:
            self.text_parts.append(text)
            self._kept += len(text)

    def note_guardrail(self, intervened: bool) -> None:
        # Once any part of the response says "intervened" it stays intervened.
        self.guardrail_intervened = bool(self.guardrail_intervened) or intervened

    # -- fallbacks ----------------------------------------------------------------------

    def _fallback_counts(self, uncached_input: object, output: object, cache_read: object, cache_write: object) -> None:
        self._fallback.update(_counts(uncached_input, output, cache_read, cache_write))

    def apply_headers(self, headers: Mapping[str, object] | None) -> None:
        """Token counts and latency from InvokeModel response headers (fallback only)."""
        self._fallback_counts(
            header(headers, INPUT_TOKENS_HEADER),
            header(headers, OUTPUT_TOKENS_HEADER),
            header(headers, CACHE_READ_HEADER),
            header(headers, CACHE_WRITE_HEADER),
        )
        latency = as_int(header(headers, INVOCATION_LATENCY_HEADER))
        if latency is not None:
            self.invocation_latency_ms = latency

    def apply_invocation_metrics(self, metrics: object) -> None:
        """The ``amazon-bedrock-invocationMetrics`` object of a final stream chunk."""
        data = as_dict(metrics)
        if not data:
            return
        self._fallback_counts(
            data.get("inputTokenCount"),
            data.get("outputTokenCount"),
            data.get("cacheReadInputTokenCount"),
            data.get("cacheWriteInputTokenCount"),
        )
        latency = as_int(data.get("invocationLatency"))
        if latency is not None:
            self.invocation_latency_ms = latency
        first_byte = as_int(data.get("firstByteLatency"))
        if first_byte is not None:
            self.first_byte_latency_ms = first_byte

    def apply_bedrock_extras(self, body: Mapping[str, object]) -> None:
        """Fields Bedrock itself adds to any family's body or chunk."""
        self.apply_invocation_metrics(body.get(INVOCATION_METRICS_KEY))
        action = as_str(body.get(GUARDRAIL_ACTION_KEY))
        if action is not None:
            self.note_guardrail(action.upper() in ("INTERVENED", "GUARDRAIL_INTERVENED"))

    # -- result -----------------------------------------------------------------------

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def usage(self) -> TokenUsage:
        """Per field: the body's exact count, else the fallback, else ``None``.

        When the body reported the uncached input count but no cache counts, a header or
        metric cache count still fills in; both come from Bedrock's own accounting.
        """

        def pick(name: str) -> int | None:
            value: int | None = getattr(self, name)
            return value if value is not None else self._fallback.get(name)

        return TokenUsage(
            uncached_input_tokens=pick("uncached_input"),
            output_tokens=pick("output"),
            cache_read_input_tokens=pick("cache_read"),
            cache_creation_input_tokens=pick("cache_write"),
        )

    def build(self) -> GenAIResponse:
        return GenAIResponse(
            response_id=self.response_id,
            response_model=self.response_model,
            finish_reasons=tuple(self.finish_reasons),
            usage=self.usage(),
            guardrail_intervened=self.guardrail_intervened,
            server_latency_ms=self.server_latency_ms,
            invocation_latency_ms=self.invocation_latency_ms,
            first_byte_latency_ms=self.first_byte_latency_ms,
            error_type=self.error_type,
            conversation_id=self.conversation_id,
            result_count=self.result_count,
            citation_count=self.citation_count,
        )
