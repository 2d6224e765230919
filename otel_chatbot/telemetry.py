"""``configure()``: settings → resource → pipelines → instrumentations, once per process.

Both entry paths end here: ``configure(app)`` in code, and the ``opentelemetry_distro`` /
``opentelemetry_configurator`` entry points that ``opentelemetry-instrument`` loads.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import wrapt
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from otel_chatbot.config import ConfigError, Settings, load_settings
from otel_chatbot.guard import guarded, set_raise_internal_errors
from otel_chatbot.pipelines import Pipelines, build_pipelines
from otel_chatbot.resource import build_resource

_log = logging.getLogger("otel_chatbot")


def _attr(module: str, name: str) -> Any:
    return getattr(sys.modules[module], name)


def load_price_table(settings: Settings) -> Any:
    """The Bedrock price table; a bad user file is a start-up error naming the setting."""
    from otel_chatbot.genai import PriceTable

    if not settings.pricing_file:
        return PriceTable.default()
    try:
        return PriceTable.from_file(settings.pricing_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"OTEL_CHATBOT_PRICING_FILE: {exc}") from None


class Instrumentations:
    """The patches one configuration applied, so shutdown can revert them."""

    def __init__(self, settings: Settings, pipelines: Pipelines, on_shutdown: Any) -> None:
        from otel_chatbot.instrumentation.asgi import ServerTelemetry

        self.settings = settings
        self.pipelines = pipelines
        self.server = ServerTelemetry(
            settings, pipelines.tracer_provider, pipelines.meter_provider, pipelines.propagator
        )
        self.server.on_shutdown = on_shutdown
        self.apps: list[Any] = []
        self.reverts: list[Any] = []
        self.log_handler: logging.Handler | None = None
        self.diagnostics: logging.Handler | None = None
        self.patched_all_apps = False
        self.active = True
        self._aws_patch: Any = None
        self._class_patch: Any = None
        self._prices: Any = load_price_table(settings) if settings.pricing_file else None

    def apply_libraries(self, patch_all_apps: bool) -> None:
        """Instrument each library when the app imports it, not before.

        Importing botocore, aiobotocore, aiohttp or httpx ourselves would add ~50,000
        long-lived objects to an app that may not use them, and every full garbage
        collection of the app would have to walk them (tens of ms of pause, measured).
        """
        p = self.pipelines
        self.patched_all_apps = patch_all_apps
        if patch_all_apps and self.settings.instrumentation_enabled("fastapi"):
            # Each hook runs when its module is fully loaded: fastapi imports starlette first.
            self._when_imported(
                "starlette.applications",
                lambda: self._app_classes().apply(_attr("starlette.applications", "Starlette")),
            )
            self._when_imported(
                "fastapi.applications", lambda: self._app_classes().apply(_attr("fastapi.applications", "FastAPI"))
            )
        if self.settings.instrumentation_enabled("httpx"):
            self._when_imported("httpx", self._apply_httpx)
        if self.settings.instrumentation_enabled("aiohttp-client"):
            self._when_imported("aiohttp", self._apply_aiohttp)
        if self.settings.instrumentation_enabled("botocore"):
            self._when_imported("botocore.client", self._apply_botocore)
            self._when_imported("aiobotocore.client", self._apply_aiobotocore)
        self.diagnostics = _diagnostics_handler()
        if self.settings.instrumentation_enabled("logging"):
            from otel_chatbot.logs import OtlpLogHandler

            self.log_handler = OtlpLogHandler(p.logger_provider, logging.getLevelName(self.settings.log_level.upper()))
            logging.getLogger().addHandler(self.log_handler)

    def _when_imported(self, module: str, apply: Callable[[], None]) -> None:
        """Run ``apply`` now if ``module`` is loaded, else right after the app imports it."""

        def run(_module: object = None) -> None:
            if self.active:
                with guarded(f"instrumenting {module}"):
                    apply()

        if module in sys.modules:
            run()
        elif importlib.util.find_spec(module.partition(".")[0]) is not None:
            wrapt.register_post_import_hook(run, module)

    def _app_classes(self) -> Any:
        """One class patch for Starlette and FastAPI, reverted at shutdown."""
        if self._class_patch is None:
            from otel_chatbot.instrumentation.fastapi import ClassPatch

            self._class_patch = ClassPatch(self.server)
            self.reverts.append(self._class_patch.revert)
        return self._class_patch

    def _client_telemetry(self, name: str) -> Any:
        from otel_chatbot.instrumentation.http_client import ClientTelemetry

        p = self.pipelines
        return ClientTelemetry(name, p.tracer_provider, p.meter_provider, p.propagator)

    def _apply_httpx(self) -> None:
        from otel_chatbot.instrumentation.httpx_client import HttpxInstrumentation

        patch = HttpxInstrumentation(self._client_telemetry("httpx"))
        patch.apply()
        self.reverts.append(patch.revert)

    def _apply_aiohttp(self) -> None:
        from otel_chatbot.instrumentation.aiohttp_client import AiohttpInstrumentation

        patch = AiohttpInstrumentation(self._client_telemetry("aiohttp"))
        patch.apply()
        self.reverts.append(patch.revert)

    def _aws(self) -> Any:
        """The AWS SDK instrumentation, built once for botocore and aiobotocore."""
        if self._aws_patch is None:
            from otel_chatbot.instrumentation.bedrock.extension import BedrockExtension, ContentCapture
            from otel_chatbot.instrumentation.bedrock.metrics import GenAIMetrics
            from otel_chatbot.instrumentation.botocore import BotocoreInstrumentation, BotocoreTelemetry

            s, p = self.settings, self.pipelines
            capture = ContentCapture(s.capture_message_content, s.content_max_bytes, s.redact_patterns)
            bedrock = BedrockExtension(p.tracer_provider, GenAIMetrics(p.meter_provider, self.prices()), capture)
            services: dict[str, Any] = {"bedrock-runtime": bedrock, "bedrock-agent-runtime": bedrock}
            self._aws_patch = BotocoreInstrumentation(BotocoreTelemetry(p.tracer_provider, services))
            self.reverts.append(self._aws_patch.revert)
        return self._aws_patch

    def prices(self) -> Any:
        """Loaded at start-up when the user names a file (so a bad one fails early), else on first use."""
        if self._prices is None:
            self._prices = load_price_table(self.settings)
        return self._prices

    def _apply_botocore(self) -> None:
        self._aws().apply_sync()

    def _apply_aiobotocore(self) -> None:
        self._aws().apply_async()

    def instrument_app(self, app: Any) -> None:
        from otel_chatbot.instrumentation.fastapi import instrument_app

        if self.settings.instrumentation_enabled("fastapi") and instrument_app(app, self.server):
            self.apps.append(app)

    def revert(self) -> None:
        from otel_chatbot.instrumentation.fastapi import uninstrument_app

        for app in self.apps:
            uninstrument_app(app)
        self.active = False
        for revert in reversed(self.reverts):
            revert()
        if self.log_handler is not None:
            logging.getLogger().removeHandler(self.log_handler)
        if self.diagnostics is not None:
            logging.getLogger("otel_chatbot").removeHandler(self.diagnostics)
            self.diagnostics = None
        self.apps, self.reverts, self.log_handler = [], [], None


def _diagnostics_handler() -> logging.Handler | None:
    """Make the distro's own warnings (outage, unknown model, internal error) visible.

    Our OTLP log handler on the root logger would otherwise silence Python's last-resort
    stderr output, and it skips our own records so an export failure cannot feed on
    itself. When the app has set up no logging of its own, print ours to stderr.
    """
    ours = logging.getLogger("otel_chatbot")
    if ours.handlers or logging.getLogger().handlers:
        return None
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    ours.addHandler(handler)
    return handler


class Telemetry:
    """The handle ``configure()`` returns: flush and shut down what it set up."""

    def __init__(self, settings: Settings, pipelines: Pipelines | None) -> None:
        self.settings = settings
        self.pipelines = pipelines
        self.instrumentations: Instrumentations | None = None
        self._lock = threading.Lock()
        self._shut = False

    @property
    def enabled(self) -> bool:
        return self.pipelines is not None

    @property
    def tracer_provider(self) -> Any:
        return self.pipelines.tracer_provider if self.pipelines else None

    @property
    def meter_provider(self) -> Any:
        return self.pipelines.meter_provider if self.pipelines else None

    @property
    def logger_provider(self) -> Any:
        return self.pipelines.logger_provider if self.pipelines else None

    @property
    def prometheus_port(self) -> int | None:
        return self.pipelines.prometheus.port if self.pipelines and self.pipelines.prometheus else None

    def instrument_app(self, app: Any) -> None:
        if self.instrumentations is not None and app is not None:
            self.instrumentations.instrument_app(app)

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        """Export everything recorded so far; True when every pipeline finished in time."""
        if self.pipelines is None:
            return True
        return self.pipelines.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Flush, stop exporting and undo the instrumentation; safe to call twice."""
        with self._lock:
            if self._shut:
                return
            self._shut = True
        if self.instrumentations is not None:
            self.instrumentations.revert()
        if self.pipelines is not None:
            self.pipelines.shutdown()
        _forget(self)


_ACTIVE: Telemetry | None = None
_ACTIVE_LOCK = threading.Lock()


def _forget(telemetry: Telemetry) -> None:
    global _ACTIVE
    with _ACTIVE_LOCK:
        if _ACTIVE is telemetry:
            _ACTIVE = None


def active() -> Telemetry | None:
    """The configuration in force in this process, if any."""
    return _ACTIVE


def build(
    settings: Settings,
    *,
    span_exporters: Sequence[SpanExporter] = (),
    span_processors: Sequence[SpanProcessor] = (),
    metric_readers: Sequence[MetricReader] = (),
    log_exporters: Sequence[LogRecordExporter] = (),
) -> Telemetry:
    """A Telemetry with pipelines but no instrumentation and no globals (tests use this)."""
    if settings.sdk_disabled:
        return Telemetry(settings, None)
    resource = build_resource(settings)
    pipelines = build_pipelines(
        settings,
        resource,
        extra_span_exporters=span_exporters,
        extra_span_processors=span_processors,
        extra_metric_readers=metric_readers,
        extra_log_exporters=log_exporters,
    )
    return Telemetry(settings, pipelines)


def configure(
    app: Any = None,
    *,
    span_exporters: Sequence[SpanExporter] = (),
    span_processors: Sequence[SpanProcessor] = (),
    metric_readers: Sequence[MetricReader] = (),
    log_exporters: Sequence[LogRecordExporter] = (),
    set_global_providers: bool = True,
    patch_all_apps: bool = False,
    **settings: Any,
) -> Telemetry:
    """Set up traces, metrics and logs for this process and instrument ``app``.

    Idempotent: a second call returns the same handle (instrumenting ``app`` if it is a
    new one); settings passed to a later call are ignored with a warning. Keyword
    settings override environment variables, which override defaults. A bad value
    raises :class:`otel_chatbot.ConfigError` naming the variable.
    """
    global _ACTIVE
    with _ACTIVE_LOCK:
        if _ACTIVE is not None:
            if settings or span_exporters or metric_readers or log_exporters:
                _log.warning("otel_chatbot: already configured; the settings of this later configure() are ignored")
            _ACTIVE.instrument_app(app)
            return _ACTIVE
        resolved = load_settings(settings)
        set_raise_internal_errors(resolved.raise_internal_errors)
        telemetry = build(
            resolved,
            span_exporters=span_exporters,
            span_processors=span_processors,
            metric_readers=metric_readers,
            log_exporters=log_exporters,
        )
        if telemetry.pipelines is None:
            _log.info("otel_chatbot: OTEL_SDK_DISABLED is set; no telemetry")
            _ACTIVE = telemetry
            return telemetry
        if set_global_providers:
            _set_globals(telemetry.pipelines)
        instrumentations = Instrumentations(resolved, telemetry.pipelines, on_shutdown=telemetry.force_flush)
        instrumentations.apply_libraries(patch_all_apps=patch_all_apps)
        telemetry.instrumentations = instrumentations
        telemetry.instrument_app(app)
        atexit.register(telemetry.shutdown)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
        _ACTIVE = telemetry
        return telemetry


def _after_fork_in_child() -> None:
    """Give a forked worker (gunicorn, multiprocessing) its own pipelines and instance id.

    The parent's providers hold the parent's ``service.instance.id`` and copies of its
    unexported data; a worker sharing them would merge its metrics with its siblings'.
    The instrumentation is re-applied on fresh pipelines; global providers stay set-once.
    """
    telemetry = _ACTIVE
    if telemetry is None or telemetry.pipelines is None or telemetry.instrumentations is None:
        return
    try:
        old = telemetry.instrumentations
        apps = list(old.apps)
        patched_all = old.patched_all_apps
        old.revert()
        telemetry.pipelines = build(telemetry.settings).pipelines
        assert telemetry.pipelines is not None
        fresh = Instrumentations(telemetry.settings, telemetry.pipelines, on_shutdown=telemetry.force_flush)
        fresh.apply_libraries(patch_all_apps=patched_all)
        telemetry.instrumentations = fresh
        for app in apps:
            telemetry.instrument_app(app)
    except Exception as exc:
        from otel_chatbot.guard import report

        report("re-initialising after fork", exc)


def _set_globals(pipelines: Pipelines) -> None:
    from opentelemetry import _logs, metrics, propagate, trace

    trace.set_tracer_provider(pipelines.tracer_provider)
    metrics.set_meter_provider(pipelines.meter_provider)
    _logs.set_logger_provider(pipelines.logger_provider)
    propagate.set_global_textmap(pipelines.propagator)
