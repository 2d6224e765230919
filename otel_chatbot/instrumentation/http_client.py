"""CLIENT spans and ``http.client.request.duration`` for outgoing HTTP calls.

Library-neutral: the httpx and aiohttp adapters call :meth:`ClientTelemetry.start` and
:meth:`OutgoingCall.end`. Upstream's suppression is honoured through its public functions:
no span, metric or propagation inside ``suppress_instrumentation()`` or
``suppress_http_instrumentation()`` (the AWS SDK instrumentation runs its calls inside the
latter, so their HTTP requests are not traced twice; OTLP exporters inside the former).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import MutableMapping
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled
from opentelemetry.metrics import MeterProvider
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from otel_chatbot.instrumentation import http_semconv as sc
from otel_chatbot.instrumentation.prebound import Bindings
from otel_chatbot.version import __version__


def sanitize_url(url: str) -> str:
    """Drop user:password and redact credential query parameters, as url.full requires."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "REDACTED:REDACTED@" + netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, sc.redact_query(parts.query), ""))


class ClientTelemetry:
    def __init__(
        self,
        name: str,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        propagator: TextMapPropagator,
    ) -> None:
        self.tracer = tracer_provider.get_tracer(f"otel_chatbot.{name}", __version__)
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

    def start(self, method: str, url: str, headers: MutableMapping[str, str]) -> OutgoingCall | None:
        """Open the span and inject trace context into ``headers``; None when suppressed."""
        if not is_http_instrumentation_enabled():
            return None
        verb, original = sc.normalize_method(method)
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme or "http"
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        attributes: dict[str, Any] = {
            sc.METHOD: verb,
            sc.URL_FULL: sanitize_url(url),
            sc.SERVER_ADDRESS: host,
            sc.SERVER_PORT: port,
        }
        if original:
            attributes[sc.METHOD_ORIGINAL] = original
        span = self.tracer.start_span(sc.span_name(verb, None), kind=SpanKind.CLIENT, attributes=attributes)
        self.propagator.inject(headers, context=trace.set_span_in_context(span))
        return OutgoingCall(self, span, (verb, host, port, scheme))


def client_duration_attributes(
    method: str, host: str, port: int, scheme: str, status: int | None, version: str | None, error: str | None
) -> dict[str, Any]:
    """The attributes ``http.client.request.duration`` records, as the convention lists them."""
    attrs: dict[str, Any] = {sc.METHOD: method, sc.SERVER_ADDRESS: host, sc.SERVER_PORT: port, sc.URL_SCHEME: scheme}
    if status:
        attrs[sc.STATUS] = status
    if version:
        attrs[sc.PROTOCOL_VERSION] = version
    if error:
        attrs[sc.ERROR_TYPE] = error
    return attrs


class OutgoingCall:
    __slots__ = ("done", "endpoint", "span", "start", "telemetry")

    def __init__(self, telemetry: ClientTelemetry, span: Span, endpoint: tuple[str, str, int, str]) -> None:
        self.telemetry = telemetry
        self.span = span
        self.endpoint = endpoint  # method, host, port, scheme: the metric attributes known at the start
        self.start = time.perf_counter()
        self.done = False

    def end(self, status: int | None = None, version: str | None = None, error: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        error_type: str | None = None
        if status:
            self.span.set_attribute(sc.STATUS, status)
            if sc.status_is_error(status, server=False):
                error_type = str(status)
        if version:
            self.span.set_attribute(sc.PROTOCOL_VERSION, version)
        if error is not None:
            error_type = type(error).__qualname__
            self.span.record_exception(error)
        if error_type:
            self.span.set_attribute(sc.ERROR_TYPE, error_type)
            self.span.set_status(Status(StatusCode.ERROR))
        self.span.end()
        bound = self.telemetry.durations.get(*self.endpoint, status, version, error_type)
        bound.record(time.perf_counter() - self.start)


def http_version(raw: str | None) -> str | None:
    """``HTTP/1.1`` → ``1.1``, as network.protocol.version wants."""
    if not raw:
        return None
    return raw.split("/", 1)[-1] if "/" in raw else raw
