"""CLIENT spans and ``http.client.request.duration`` for outgoing HTTP calls.

Library-neutral: the httpx, httpx2 and aiohttp adapters call :meth:`ClientTelemetry.start`,
:meth:`OutgoingCall.respond` when the response headers arrive and :meth:`OutgoingCall.end`.
A call to a GenAI API (see :mod:`otel_chatbot.genai.endpoints`) is the same one span, named
and attributed as the GenAI convention says; its end waits for the body, which
``respond`` hands back an observer for (the adapter wraps the body's byte stream with it).
Upstream's suppression is honoured through its public functions:
no span, metric or propagation inside ``suppress_instrumentation()`` or
``suppress_http_instrumentation()`` (the AWS SDK instrumentation runs its calls inside the
latter, so their HTTP requests are not traced twice; OTLP exporters inside the former).
"""

from __future__ import annotations

import functools
import time
import urllib.parse
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, NamedTuple

from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled
from opentelemetry.metrics import MeterProvider
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from otel_chatbot.cardinality import FirstSeen
from otel_chatbot.compat import plain_span_starter, span_ender
from otel_chatbot.instrumentation import http_semconv as sc
from otel_chatbot.instrumentation.prebound import Bindings
from otel_chatbot.version import __version__

if TYPE_CHECKING:
    from otel_chatbot.instrumentation.genai.body import BodyObserver
    from otel_chatbot.instrumentation.genai.http import HttpGenAI, HttpGenAICall, PendingGenAICall


HOSTS_LIMIT = 100
"""Distinct hosts kept as ``server.address`` of the duration metric, per client library; later ones are ``_OTHER``.

The hosts an app calls are usually a handful; an app that fetches URLs its users give (a
browsing tool) would otherwise open a series per host. Spans keep the host.
"""


def sanitize_url(url: str) -> str:
    """Drop user:password and redact credential query parameters, as url.full requires."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "REDACTED:REDACTED@" + netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, sc.redact_query(parts.query), ""))


class UrlFacts(NamedTuple):
    """What a request's URL gives its span: the split URL, scheme, host, port and ``url.full``."""

    parts: urllib.parse.SplitResult
    scheme: str
    host: str
    port: int
    full: str


_CACHED_URL_CHARS = 512


def url_facts(url: str) -> UrlFacts:
    """The facts of ``url``; a client calls the same few endpoints, so short URLs are cached (bounded)."""
    return _cached_url_facts(url) if len(url) <= _CACHED_URL_CHARS else _url_facts(url)


def _url_facts(url: str) -> UrlFacts:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else 80)
    return UrlFacts(parts, scheme, parts.hostname or "", port, sanitize_url(url))


_cached_url_facts = functools.lru_cache(maxsize=256)(_url_facts)


class ClientTelemetry:
    def __init__(
        self,
        name: str,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        propagator: TextMapPropagator,
        genai: HttpGenAI | None = None,
    ) -> None:
        self.tracer = tracer_provider.get_tracer(f"otel_chatbot.{name}", __version__)
        self.start_span = plain_span_starter(self.tracer)
        self.end_span = span_ender(self.tracer)
        meter = meter_provider.get_meter(f"otel_chatbot.{name}", __version__)
        # Bound per (method, host, port, scheme, status, version, error type).
        self.durations = Bindings(
            meter.create_histogram(
                "http.client.request.duration",
                unit="s",
                description="Duration of HTTP client requests.",
                explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
            ),
            client_duration_attributes,
        )
        self.propagator = propagator
        self.genai = genai
        self.hosts = FirstSeen("server.address (http.client.request.duration)", HOSTS_LIMIT)

    def start(
        self,
        method: str,
        url: str,
        headers: MutableMapping[str, str],
        request_headers: Mapping[str, str] | None = None,
        body_of: Callable[[], bytes | None] | None = None,
        *,
        is_async: bool = False,
    ) -> OutgoingCall | None:
        """Open the span and inject trace context into ``headers``; None when suppressed.

        ``request_headers`` are the request's, for recognising a GenAI call, and
        ``body_of`` gives its body, asked only for a recognised call (no other request's
        body is touched). A client that sends the body after this (aiohttp) passes None
        and hands it to :meth:`OutgoingCall.request_body` later.
        """
        if not is_http_instrumentation_enabled():
            return None
        start = time.perf_counter()
        verb, original = sc.normalize_method(method)
        parts, scheme, host, port, full = url_facts(url)
        attributes: dict[str, Any] = {
            sc.METHOD: verb,
            sc.URL_FULL: full,
            sc.SERVER_ADDRESS: host,
            sc.SERVER_PORT: port,
        }
        if original:
            attributes[sc.METHOD_ORIGINAL] = original
        name = sc.span_name(verb, None)
        genai: HttpGenAICall | None = None
        pending: PendingGenAICall | None = None
        if self.genai is not None:
            pending = self.genai.recognise(verb, url, parts, request_headers or {}, start, is_async=is_async)
            body = body_of() if pending is not None and body_of is not None else None
            if pending is not None and body is not None:
                genai, pending = pending.begin(body), None
                if genai is not None:
                    name = genai.span_name
                    attributes.update(genai.start_attributes(host, port))
        span = self.start_span(name, None, SpanKind.CLIENT, attributes)
        self.propagator.inject(headers, context=trace.set_span_in_context(span))
        label = self.hosts(host)  # a host past the budget: _OTHER, and no port (it would split the series again)
        return OutgoingCall(self, span, (verb, label, port if label == host else 0, scheme), start, genai, pending)


def client_duration_attributes(
    method: str, host: str, port: int, scheme: str, status: int | None, version: str | None, error: str | None
) -> dict[str, Any]:
    """The attributes ``http.client.request.duration`` records, as the convention lists them."""
    attrs: dict[str, Any] = {sc.METHOD: method, sc.SERVER_ADDRESS: host, sc.URL_SCHEME: scheme}
    if port:
        attrs[sc.SERVER_PORT] = port
    if status:
        attrs[sc.STATUS] = status
    if version:
        attrs[sc.PROTOCOL_VERSION] = version
    if error:
        attrs[sc.ERROR_TYPE] = error
    return attrs


class OutgoingCall:
    """One request in flight: its span, and (for a GenAI call) what reads its answer."""

    __slots__ = (
        "done",
        "endpoint",
        "error_type",
        "genai",
        "pending",
        "span",
        "start",
        "status",
        "telemetry",
        "version",
    )

    def __init__(
        self,
        telemetry: ClientTelemetry,
        span: Span,
        endpoint: tuple[str, str, int, str],
        start: float,
        genai: HttpGenAICall | None = None,
        pending: PendingGenAICall | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.span = span
        self.endpoint = endpoint  # method, host, port, scheme: the metric attributes known at the start
        self.start = start
        self.genai = genai
        self.pending = pending  # a recognised call whose body the client has not handed over yet
        self.status: int | None = None
        self.version: str | None = None
        self.error_type: str | None = None
        self.done = False

    def request_body(self, body: bytes) -> None:
        """The body of a recognised call, sent after the span started: the span becomes the GenAI span."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        genai = pending.begin(body)
        if genai is not None:
            self.genai = genai
            self.span.update_name(genai.span_name)
            self.span.set_attributes(genai.start_attributes(self.endpoint[1], self.endpoint[2]))

    def respond(
        self, status: int, version: str | None, headers: Mapping[str, str], content_encoding: str | None = None
    ) -> BodyObserver | None:
        """The response headers arrived. For a GenAI answer, the observer of its body; else the call has ended.

        ``content_encoding`` is the body's encoding as the observer will see it (None when
        the client hands over decoded bytes).
        """
        self.status, self.version = status, version
        span = self.span
        span.set_attribute(sc.STATUS, status)
        if version:
            span.set_attribute(sc.PROTOCOL_VERSION, version)
        if sc.status_is_error(status, server=False):
            self.error_type = str(status)
            span.set_attribute(sc.ERROR_TYPE, self.error_type)
            span.set_status(Status(StatusCode.ERROR))
        if self.pending is not None:  # the body never came: read what the request says it is
            self.request_body(b"")
        genai = self.genai
        if genai is not None:
            observer = genai.answer(self, headers, content_encoding)
            if observer is not None:
                return observer
        self.end()
        return None

    def end(self, error: BaseException | None = None) -> None:
        """End the span and record the duration, once; ``error`` when the request (or its body) failed."""
        if self.done:
            return
        self.done = True
        if error is not None:
            self.error_type = type(error).__qualname__
            self.span.record_exception(error)
            self.span.set_attribute(sc.ERROR_TYPE, self.error_type)
            self.span.set_status(Status(StatusCode.ERROR))
        self.telemetry.end_span(self.span)
        bound = self.telemetry.durations.get(*self.endpoint, self.status, self.version, self.error_type)
        bound.record(time.perf_counter() - self.start)

    def fail(self, error: BaseException) -> None:
        """The request raised before a response: the GenAI call (if any) failed with it too."""
        if self.pending is not None:
            self.request_body(b"")
        if self.genai is not None:
            self.genai.fail(type(error).__qualname__)
        self.end(error)


def http_version(raw: str | None) -> str | None:
    """``HTTP/1.1`` → ``1.1``, as network.protocol.version wants."""
    if not raw:
        return None
    return raw.split("/", 1)[-1] if "/" in raw else raw
