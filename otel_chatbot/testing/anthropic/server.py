"""The Anthropic stand-in: ``POST /v1/messages`` (JSON and server-sent events) and ``GET /v1/models``.

Like the real API it wants an ``x-api-key`` (any value; or an OAuth bearer token) and an
``anthropic-version`` header, answers with a ``request-id`` header, and reports the model it
resolved an alias to (``claude-sonnet-4-5`` answers as ``claude-sonnet-4-5-20250929``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TypedDict

from otel_chatbot.testing.anthropic import messages
from otel_chatbot.testing.anthropic.dialect import AnthropicDialect
from otel_chatbot.testing.standin.api import (
    ApiHandler,
    ApiServer,
    Dialect,
    Endpoint,
    InvalidRequest,
    Request,
    when_true,
)
from otel_chatbot.testing.standin.frames import sse_frame
from otel_chatbot.testing.standin.generation import Completion, complete
from otel_chatbot.testing.standin.responses import JsonResponse, Response, StreamEvent, StreamResponse
from otel_chatbot.testing.standin.usage import Usage

MESSAGES = "messages"
# Aliases the API resolves to a dated model, reported as the answer's model.
SNAPSHOTS: dict[str, str] = {
    "claude-opus-4-1": "claude-opus-4-1-20250805",
    "claude-opus-4-0": "claude-opus-4-20250514",
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-sonnet-4-0": "claude-sonnet-4-20250514",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
    "claude-3-7-sonnet-latest": "claude-3-7-sonnet-20250219",
    "claude-3-5-haiku-latest": "claude-3-5-haiku-20241022",
}
_MODEL_CREATED_AT = "2025-02-19T00:00:00Z"


def api_key(request: Request, dialect: Dialect) -> None:
    """A check: an ``x-api-key`` header (or ``Authorization: Bearer``)."""
    if not (request.headers.get("x-api-key") or request.headers.get("Authorization", "").startswith("Bearer ")):
        raise dialect.error(401, "x-api-key header is required")


def api_version(request: Request, dialect: Dialect) -> None:
    """A check: the ``anthropic-version`` header."""
    if not request.headers.get("anthropic-version"):
        raise dialect.error(400, "anthropic-version: header is required")


def model_given(request: Request, dialect: Dialect) -> None:
    if not request.model:
        raise InvalidRequest("model: Field required")


def _stream(completion: Completion, message_id: str, model: str) -> Iterator[StreamEvent]:
    """Frames of the stream; input and cache tokens are reported by ``message_start``, output by ``message_delta``."""
    usage = completion.usage
    for event in messages.stream_events(completion, messages.ANTHROPIC, message_id, model):
        reported = None
        if event["type"] == "message_start":
            reported = Usage(usage.input_tokens, 0, usage.cache_read_input_tokens, usage.cache_write_input_tokens)
        elif event["type"] == "message_delta":
            reported = Usage(output_tokens=usage.output_tokens)
        yield StreamEvent(sse_frame(event, event=event["type"]), usage=reported)


class AnthropicClientKwargs(TypedDict):
    """Keywords for ``anthropic.Anthropic(**kwargs)`` / ``AsyncAnthropic`` aimed at an :class:`AnthropicServer`."""

    base_url: str
    api_key: str


class _Handler(ApiHandler):
    server_version = "anthropic-standin/1.0"
    request_id_header = "request-id"
    request_id_prefix = "req_011C"
    request_id_digits = 22


class AnthropicServer(ApiServer):
    """A local Anthropic Messages API for ``anthropic.Anthropic(**server.client_kwargs())``.

    What it answered is in ``ledger``, keyed by the model as requested and ``messages``:
    ``input_tokens``, ``output_tokens``, ``cache_read_input_tokens`` and
    ``cache_write_input_tokens`` (the wire's ``cache_creation_input_tokens``), each added when
    the body or stream event reporting it is written.
    """

    handler = _Handler
    fallback_dialect = AnthropicDialect()

    def endpoints(self) -> list[tuple[str, str, Endpoint]]:
        dialect = self.fallback_dialect
        checks = (api_key, api_version)
        return [
            (
                "POST",
                "/v1/messages",
                Endpoint(MESSAGES, self._messages, dialect, when_true, checks=(*checks, model_given)),
            ),
            ("GET", "/v1/models", Endpoint("models", self._models, dialect, checks=checks, counted=False)),
        ]

    def _messages(self, request: Request) -> Response:
        stream = request.body.get("stream", False)
        if not isinstance(stream, bool):
            raise InvalidRequest("stream: Input should be a valid boolean")
        completion = complete(messages.messages_prompt(request.body), self.cache, request.model)
        message_id = "msg_01" + uuid.uuid4().hex[:22]
        model = SNAPSHOTS.get(request.model, request.model)
        if stream:
            return StreamResponse(_stream(completion, message_id, model))
        body = messages.message_body(completion, messages.ANTHROPIC, message_id, model)
        return JsonResponse(body, usage=completion.usage)

    def _models(self, request: Request) -> Response:
        data = [
            {"type": "model", "id": model, "display_name": model, "created_at": _MODEL_CREATED_AT}
            for model in SNAPSHOTS.values()
        ]
        return JsonResponse({"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]})

    def client_kwargs(self) -> AnthropicClientKwargs:
        """``base_url`` (the SDK adds ``/v1/messages``) and a throw-away key."""
        return AnthropicClientKwargs(base_url=self.url, api_key="testing")
