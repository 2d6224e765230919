"""The server-side instruments and options of one configuration, built once.

Everything a request needs that does not change between requests lives here, so the
per-request object only reads attributes: the tracer, the bound duration histogram, the
in-flight gauges, the stream and WebSocket instruments, the compiled exclusion pattern
and the header switches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import TracerProvider

from otel_chatbot.compat import plain_span_starter, span_attribute_setter, span_ender
from otel_chatbot.config import Settings
from otel_chatbot.instrumentation import http_semconv as sc
from otel_chatbot.instrumentation.asgi import names as n
from otel_chatbot.instrumentation.asgi.lifecycle import ProcessLifecycle
from otel_chatbot.instrumentation.asgi.loop_lag import LoopLagMonitor
from otel_chatbot.instrumentation.asgi.stream_metrics import StreamInstruments
from otel_chatbot.instrumentation.asgi.websocket_metrics import WebSocketInstruments
from otel_chatbot.instrumentation.prebound import Bindings
from otel_chatbot.version import __version__

SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"


class ActiveCount:
    """In-flight requests per attribute set; changed on the event loop, read by the metric reader."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.attributes: dict[tuple[str, str], dict[str, str]] = {}

    def add(self, delta: int, key: tuple[str, str]) -> None:
        self.counts[key] = self.counts.get(key, 0) + delta

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value, self.attributes[key]) for key, value in list(self.counts.items())]


class ServerTelemetry:
    """Everything the middleware needs, built once per configuration.

    ``lifecycle`` is the process side (start-up and shutdown); the rest serves requests.
    """

    def __init__(
        self,
        settings: Settings,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        propagator: TextMapPropagator,
        on_shutdown: Callable[[], object] | None = None,
    ) -> None:
        self.tracer = tracer_provider.get_tracer("otel_chatbot.fastapi", __version__, schema_url=SCHEMA_URL)
        self.set_span_attributes = span_attribute_setter()
        self.start_span = plain_span_starter(self.tracer)
        self.end_span = span_ender(self.tracer)
        meter = meter_provider.get_meter("otel_chatbot.fastapi", __version__, schema_url=SCHEMA_URL)
        # Bound per (method, scheme, route, status, error, version); routes are templates, so few.
        self.durations = Bindings(
            meter.create_histogram(
                "http.server.request.duration",
                unit="s",
                description="Duration of HTTP server requests.",
                explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
            ),
            duration_attributes,
            limit=10_000,
        )
        # In-flight counts are kept in plain dicts and observed at collection time: the
        # asynchronous UpDownCounter reports the same non-monotonic sum as a synchronous one
        # without two SDK calls on every request.
        self.active = ActiveCount()
        self.websockets = ActiveCount()
        meter.create_observable_up_down_counter(
            "http.server.active_requests",
            callbacks=[self.active.observe],
            unit="{request}",
            description="Number of active HTTP server requests.",
        )
        meter.create_observable_up_down_counter(
            n.WEBSOCKET_ACTIVE_CONNECTIONS,
            callbacks=[self.websockets.observe],
            unit="{connection}",
            description="Number of open WebSocket connections.",
        )
        self.streams = StreamInstruments(meter)
        self.websocket = WebSocketInstruments(meter)
        self.propagator = propagator
        self.excluded = (
            re.compile("|".join(f"(?:{p})" for p in settings.excluded_urls)) if settings.excluded_urls else None
        )
        self.request_id_header = settings.request_id_header.lower().encode() if settings.request_id_header else b""
        self.request_id_name = settings.request_id_header.lower()
        self.add_request_id = bool(self.request_id_header) and "request-id" in settings.response_headers
        self.add_trace_id = "trace-id" in settings.response_headers
        self.add_response_time = "response-time" in settings.response_headers
        self.conversation_sources = settings.conversation_id_sources
        self.conversation_headers = {
            name.encode() for kind, name in settings.conversation_id_sources if kind == "header"
        }
        self.capture_body = any(kind == "body" for kind, _ in settings.conversation_id_sources)
        self.dup_semconv = "http/dup" in settings.semconv_opt_in
        interval_ms = settings.loop_lag_interval_ms
        loop_lag = LoopLagMonitor(meter, interval_ms / 1000) if interval_ms else None
        self.lifecycle = ProcessLifecycle(gc_freeze=settings.gc_freeze, flush=on_shutdown, loop_lag=loop_lag)

    def active_key(self, method: str, scheme: str) -> tuple[str, str]:
        key = (method, scheme)
        if key not in self.active.attributes:
            attrs = {sc.METHOD: method, sc.URL_SCHEME: scheme}
            self.active.attributes[key] = self.websockets.attributes[key] = attrs
        return key


def duration_attributes(
    method: str, scheme: str, route: str | None, status: int, error: str | None, version: str
) -> dict[str, Any]:
    """The attributes ``http.server.request.duration`` records, as the convention lists them."""
    attrs: dict[str, Any] = {sc.METHOD: method, sc.URL_SCHEME: scheme, sc.STATUS: status, sc.PROTOCOL_VERSION: version}
    if route:
        attrs[sc.ROUTE] = route
    if error:
        attrs[sc.ERROR_TYPE] = error
    return attrs
