"""GenAI calls made over HTTP (any SDK, or plain httpx / httpx2 / aiohttp): the HTTP client side of the API table.

Thin wiring between :mod:`otel_chatbot.instrumentation.http_client` and the pure rows of
:mod:`otel_chatbot.genai.http_apis`. Recognition (:meth:`HttpGenAI.recognise`) is a method
and path test that every request pays and that reads no body; the request body is parsed
only for a recognised call (:meth:`PendingGenAICall.begin`). The answer is read from the
body the app reads, through an observer (:mod:`.body`): a whole JSON answer when the body
ends, a stream event by event. The call's one span is the HTTP CLIENT span; each HTTP
attempt (an SDK's retry included) is one call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import SplitResult

from opentelemetry.trace import Span

from otel_chatbot.genai import GenAIResponse
from otel_chatbot.genai._coerce import parse_json_object
from otel_chatbot.genai.endpoints import Endpoints, Match
from otel_chatbot.genai.http_apis import HttpApi, HttpParams
from otel_chatbot.genai.operations import Operation
from otel_chatbot.guard import BoundedOnce
from otel_chatbot.instrumentation.genai.body import BodyObserver, BufferedAnswer, StreamedAnswer, decompressor
from otel_chatbot.instrumentation.genai.call import GenAICall, GenAITelemetry
from otel_chatbot.instrumentation.genai.stream_state import StreamState

if TYPE_CHECKING:
    from otel_chatbot.instrumentation.http_client import OutgoingCall

_log = logging.getLogger("otel_chatbot.genai")

RETRY_AFTER_HEADERS = ("retry-after", "retry-after-ms")
"""Response headers recorded on a rejected call, the way the HTTP convention records headers
(``http.response.header.<name>``, a string array): how long the provider asked to wait."""

REQUEST_BODY_LIMIT = 4 << 20
"""A request body larger than this (4 MiB: base64 images, say) is not parsed; the call keeps its URL facts."""


class HttpGenAI:
    """The GenAI side of the HTTP clients of one configuration: recognition rules and telemetry."""

    def __init__(self, telemetry: GenAITelemetry, endpoints: Endpoints) -> None:
        self.telemetry = telemetry
        self.endpoints = endpoints
        self._usage_hints = BoundedOnce(_log, "streams without usage")

    def recognise(
        self, method: str, url: str, parts: SplitResult, headers: Mapping[str, str], start: float, *, is_async: bool
    ) -> PendingGenAICall | None:
        match = self.endpoints.match(method, url, parts, headers)
        return None if match is None else PendingGenAICall(self, match, start, is_async)

    def hint_usage(self, api: HttpApi, provider: str) -> None:
        """Once per API and provider: a stream came without usage, and which request option adds it."""
        self._usage_hints.warning(
            (api.name, provider),
            "otel_chatbot: a streamed %s call to %s reported no token usage, so it has no token counts or cost; "
            "send %s with streamed requests to have them (logged once)",
            api.name,
            provider,
            api.usage_hint,
        )


class PendingGenAICall:
    """A request recognised by its method and URL, until its body says what it asks for."""

    __slots__ = ("http", "is_async", "match", "start")

    def __init__(self, http: HttpGenAI, match: Match, start: float, is_async: bool) -> None:
        self.http = http
        self.match = match
        self.start = start
        self.is_async = is_async

    def begin(self, body: bytes) -> HttpGenAICall | None:
        """The call, or None when the body is not a request of the API (no JSON object naming a model)."""
        match = self.match
        request = parse_json_object(body) if len(body) <= REQUEST_BODY_LIMIT else {}
        if not isinstance(request.get("model"), str) and match.path_model is None:
            return None
        params: HttpParams = {"body": request, "provider": match.provider, "model": match.path_model}
        operation = match.api.operation(request)
        return HttpGenAICall(self.http, match.api, operation, params, is_async=self.is_async, start=self.start)


class HttpGenAICall(GenAICall):
    """One GenAI call over HTTP; reads its answer from the response the app reads."""

    __slots__ = ("api", "failure", "http", "outgoing")

    def __init__(
        self, http: HttpGenAI, api: HttpApi, operation: Operation, params: HttpParams, *, is_async: bool, start: float
    ) -> None:
        super().__init__(http.telemetry, operation, params, is_async=is_async, start=start)
        self.http = http
        self.api = api
        self.outgoing: OutgoingCall | None = None
        self.failure: BaseException | None = None  # what broke the body, for the HTTP span's exception

    def answer(self, outgoing: OutgoingCall, headers: Mapping[str, str], encoding: str | None) -> BodyObserver | None:
        """Response headers: an observer of a 2xx body; for anything else the call is over (None)."""
        self.outgoing = outgoing
        span = outgoing.span
        status = outgoing.status or 0
        if not 200 <= status < 300:
            for name in RETRY_AFTER_HEADERS:
                value = headers.get(name)
                if value is not None:
                    span.set_attribute(f"http.response.header.{name}", (value,))
            if outgoing.error_type:
                self.fail(outgoing.error_type)
            else:  # a redirect: this request has no answer
                self.finish(span, GenAIResponse())
            return None
        decompress = decompressor(encoding)
        if decompress is None:  # an encoding we cannot read: the call is recorded without its answer
            self.finish(span, GenAIResponse())
            return None
        if self.operation.stream is not None:
            return StreamedAnswer(self, self.stream(span), self.api, decompress)
        return BufferedAnswer(self, decompress)

    def span_of(self) -> Span:
        assert self.outgoing is not None  # set by answer(), before any observer exists
        return self.outgoing.span

    def end_http(self, error: BaseException | None) -> None:
        """End the one span and record the HTTP duration (the GenAI facts are already on it)."""
        if self.outgoing is not None:
            self.outgoing.end(error)

    def end_stream(self, state: StreamState, error_type: str | None) -> None:
        """The stream ended: record it, then end the span once, with the HTTP duration."""
        self.finish_stream(state, error_type)
        if error_type is None and self.api.usage_hint and not state.accumulator.response().usage.known:
            self.http.hint_usage(self.api, str(self.params["provider"]))
        self.end_http(self.failure)
