"""The row type of an operation table: how to read one kind of GenAI call, as pure functions.

A table maps a call's key (for Bedrock, the SDK operation name: ``BEDROCK_OPERATIONS``) to
an :class:`Operation`. The wiring looks the call up once and never switches on the
operation itself: it builds the request facts before the span starts, the response facts
when the call returns, or feeds a stream's events to the row's accumulator until the stream
ends. Adding an operation is adding a row and its pure functions; nothing in the wiring
changes. Every function here receives what the caller passed (``params``) and what the SDK
returned (``result``), and never raises on malformed input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .agents import AgentStep
from .messages import Message
from .types import GenAIRequest, GenAIResponse

Params = Mapping[str, Any]
"""The call's parameters as the app passed them (boto3 keyword arguments, a JSON request body)."""

Result = Mapping[str, Any]
"""What the call returned (a boto3 result dict, with a buffered body in place: see ``buffered_body``)."""


class StreamAccumulator(Protocol):
    """Folds the events of one streamed response; feeding never raises."""

    chunks: int
    """Events so far that carried generated content (time to first chunk, time per chunk)."""

    def feed(self, event: Any) -> None: ...

    def response(self) -> GenAIResponse:
        """Everything seen so far, frozen; also called when the stream broke off."""
        ...

    def output_messages(self) -> list[Message]:
        """``gen_ai.output.messages`` of the text kept so far; empty unless content was kept."""
        ...

    @property
    def steps(self) -> Sequence[AgentStep]:
        """Child spans the stream described (an agent's trace steps); empty for a model's stream."""
        ...


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """A streamed answer: which result field holds the stream, and what folds its events."""

    result_key: str
    accumulator: Callable[[Params, bool], StreamAccumulator]
    """``(params, capture_content)`` → a fresh accumulator for one call's stream."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One row: the pure functions that read one kind of call.

    Exactly one of ``response`` (the answer is complete when the call returns) and
    ``stream`` (the answer streams after it: the span ends when the stream does, so
    :attr:`ends_span_later`) is set. ``buffered_body`` names a result field holding a
    streamed body that the wiring reads whole (handing the app an identical fresh one)
    and puts in ``result`` as bytes before ``response`` and ``output_messages`` see it;
    where it cannot be read without blocking (async clients) they see it unread.
    """

    request: Callable[[Params], GenAIRequest]
    response: Callable[[Params, Result], GenAIResponse] | None = None
    stream: StreamSpec | None = None
    input_messages: Callable[[Params], list[Message]] | None = None
    output_messages: Callable[[Params, Result], list[Message]] | None = None
    buffered_body: str | None = None

    def __post_init__(self) -> None:
        if (self.response is None) == (self.stream is None):
            raise ValueError("an Operation needs exactly one of response= and stream=")
        if self.stream is not None and (self.output_messages is not None or self.buffered_body is not None):
            raise ValueError("a streamed Operation takes its output from the stream's accumulator")

    @property
    def ends_span_later(self) -> bool:
        """True when the call returns before its answer does (a stream): its span ends with the stream."""
        return self.stream is not None


OperationTable = Mapping[str, Operation]
"""Rows by the key the wiring looks calls up with."""
