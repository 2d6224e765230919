"""Accumulators for streamed Bedrock responses (``StreamAccumulator`` of :mod:`.operations`).

The wiring feeds every event it passes through to the application and reads
:meth:`response` when the stream ends (or breaks). ``chunks`` counts the events that
carried generated content, so the wiring can time
``gen_ai.client.operation.time_to_first_chunk`` and ``time_per_output_chunk``. Feeding
never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import families, models
from ._builder import ResponseBuilder
from ._coerce import as_dict, as_str, dig, parse_json_object
from .bedrock import read_converse_stop, read_converse_usage
from .messages import Message, assistant_output
from .types import GenAIResponse


def exception_type(event: Mapping[str, Any]) -> str | None:
    """``ThrottlingException`` for ``{"throttlingException": {...}}``, else ``None``."""
    for key in event:
        if isinstance(key, str) and key.endswith("Exception"):
            return key[0].upper() + key[1:]
    return None


class _Accumulator:
    def __init__(self, *, capture_content: bool) -> None:
        self._b = ResponseBuilder(keep_text=capture_content)
        self.chunks = 0
        """Number of events that carried generated content."""

    steps = ()
    """A model's stream describes no child steps."""

    def response(self) -> GenAIResponse:
        """Everything seen so far, frozen; safe to call before the stream ends."""
        return self._b.build()

    def output_messages(self) -> list[Message]:
        """One assistant message of the text and tool calls so far; empty unless ``capture_content`` was set."""
        b = self._b
        return assistant_output(b) if b.text_parts or len(b.tool_calls) else []

    def _content(self, has_content: bool) -> None:
        if has_content:
            self.chunks += 1

    def _error(self, event: Mapping[str, Any]) -> bool:
        error = exception_type(event)
        if error is not None:
            self._b.error_type = error
            return True
        return False


class ConverseStreamAccumulator(_Accumulator):
    """Folds the events of ``converse_stream(...)["stream"]`` into a response.

    Usage and metrics arrive in the final ``metadata`` event; the finish reason in
    ``messageStop``; exception events (``throttlingException`` ...) set ``error_type``.
    """

    def __init__(self, *, capture_content: bool = False, guardrail_configured: bool = False) -> None:
        super().__init__(capture_content=capture_content)
        self._guardrail_configured = guardrail_configured

    def feed(self, event: Mapping[str, Any]) -> None:
        """Account for one event as boto3 yields it, e.g. ``{"contentBlockDelta": {...}}``."""
        if _text_delta(event, self._b):
            self._content(True)
            return
        event = as_dict(event)
        if self._error(event):
            return
        delta = as_dict(dig(event, "contentBlockDelta", "delta"))
        if delta:
            text = as_str(delta.get("text"))
            self._b.add_text(text)
            tool_input = dig(delta, "toolUse", "input")
            if tool_input is not None:
                self._b.tool_calls.extend_arguments(dig(event, "contentBlockDelta", "contentBlockIndex"), tool_input)
            self._content(
                bool(
                    text
                    or as_str(dig(delta, "toolUse", "input"))
                    or as_str(dig(delta, "reasoningContent", "text"))
                    or delta.get("citation")
                )
            )
            return
        tool_use = as_dict(dig(event, "contentBlockStart", "start", "toolUse"))
        if tool_use:
            index = dig(event, "contentBlockStart", "contentBlockIndex")
            self._b.tool_calls.add(index, tool_use.get("toolUseId"), tool_use.get("name"))
            return
        if "messageStop" in event:
            read_converse_stop(
                dig(event, "messageStop", "stopReason"),
                self._b,
                guardrail_configured=self._guardrail_configured,
            )
            return
        metadata = as_dict(event.get("metadata"))
        if metadata:
            read_converse_usage(metadata, self._b)


def _text_delta(event: object, b: ResponseBuilder) -> bool:
    """Take the stream's most common event, a plain text delta, the short way; False for any other.

    ``{"contentBlockDelta": {"delta": {"text": "..."}, "contentBlockIndex": 0}}`` with non-empty
    text, exactly that shape: what :meth:`ConverseStreamAccumulator.feed`'s general path would
    do with it (no exception key, no tool input, one content chunk) at a third of the lookups.
    """
    if type(event) is not dict or len(event) != 1:
        return False
    block = event.get("contentBlockDelta")
    if type(block) is not dict:
        return False
    delta = block.get("delta")
    if type(delta) is not dict or len(delta) != 1:
        return False
    text = delta.get("text")
    if type(text) is not str or not text:
        return False
    b.add_text(text)
    return True


class InvokeStreamAccumulator(_Accumulator):
    """Folds ``invoke_model_with_response_stream`` chunks of one model into a response.

    Feed the decoded JSON of each ``event["chunk"]["bytes"]`` (or the raw bytes, or the
    whole event; all are accepted). Token counts come from the family's own chunk
    fields where it reports them, else from the final chunk's
    ``amazon-bedrock-invocationMetrics``.
    """

    def __init__(self, model_id: str, *, capture_content: bool = False) -> None:
        super().__init__(capture_content=capture_content)
        self._family = models.model_family(model_id)

    def feed(self, chunk_payload: Mapping[str, Any] | bytes | str) -> None:
        """Account for one chunk payload."""
        payload = parse_json_object(chunk_payload)
        if self._error(payload):
            return
        if "chunk" in payload and set(payload) == {"chunk"}:  # a whole stream event
            payload = parse_json_object(dig(payload, "chunk", "bytes"))
        self._content(families.read_chunk(self._family, payload, self._b))
