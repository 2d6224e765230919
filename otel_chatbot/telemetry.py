"""``configure()``: settings → resource → pipelines → instrumentations, once per process.

Both entry paths end here: ``configure(app)`` in code, and the ``opentelemetry_distro`` /
``opentelemetry_configurator`` entry points that ``opentelemetry-instrument`` loads.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from typing_extensions import Unpack

from otel_chatbot.config import Settings, SettingsKeywords, load_settings
from otel_chatbot.guard import set_raise_internal_errors
from otel_chatbot.pipelines import Pipelines, build_pipelines
from otel_chatbot.resource import build_resource
from otel_chatbot.wiring import Instrumentations

_log = logging.getLogger("otel_chatbot")


@runtime_checkable
class StarletteApp(Protocol):
    """An app ``configure(app)`` can instrument: a Starlette or FastAPI application.

    Described by the one method the instrumentation wraps, so that the type needs no
    import of starlette (an optional dependency).
    """

    def build_middleware_stack(self) -> object: ...


class Telemetry:
    """The handle ``configure()`` returns: flush and shut down what it set up.

    The provider properties are the SDK's own providers (None when ``OTEL_SDK_DISABLED``
    turned telemetry off), for instrumenting what the distro does not.
    """

    def __init__(self, settings: Settings, pipelines: Pipelines | None) -> None:
        self.settings = settings
        self._pipelines = pipelines
        self._instrumentations: Instrumentations | None = None
        self._lock = threading.Lock()
        self._shut = False

    @property
    def enabled(self) -> bool:
        return self._pipelines is not None

    @property
    def tracer_provider(self) -> TracerProvider | None:
        return self._pipelines.tracer_provider if self._pipelines else None

    @property
    def meter_provider(self) -> MeterProvider | None:
        return self._pipelines.meter_provider if self._pipelines else None

    @property
    def logger_provider(self) -> LoggerProvider | None:
        return self._pipelines.logger_provider if self._pipelines else None

    @property
    def prometheus_port(self) -> int | None:
        """The port of the in-process ``/metrics`` endpoint, when ``metrics_exporter`` includes prometheus."""
        return self._pipelines.prometheus.port if self._pipelines and self._pipelines.prometheus else None

    @property
    def stats_url(self) -> str | None:
        """The live page's URL (``/stats`` beside it) when ``stats_port`` is set and the port was bound."""
        return self._pipelines.stats.url if self._pipelines and self._pipelines.stats else None

    def instrument_app(self, app: StarletteApp | None) -> None:
        """Instrument one more app with this configuration (a no-op for an app already instrumented)."""
        _check_app(app)
        if self._instrumentations is not None and app is not None:
            self._instrumentations.instrument_app(app)

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        """Export everything recorded so far; True when every pipeline finished in time."""
        if self._pipelines is None:
            return True
        return self._pipelines.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Flush, stop exporting and undo the instrumentation; safe to call twice."""
        with self._lock:
            if self._shut:
                return
            self._shut = True
        if self._instrumentations is not None:
            self._instrumentations.revert()
        if self._pipelines is not None:
            self._pipelines.shutdown()
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
    app: StarletteApp | None = None,
    *,
    span_exporters: Sequence[SpanExporter] = (),
    span_processors: Sequence[SpanProcessor] = (),
    metric_readers: Sequence[MetricReader] = (),
    log_exporters: Sequence[LogRecordExporter] = (),
    set_global_providers: bool = True,
    patch_all_apps: bool = False,
    **settings: Unpack[SettingsKeywords],
) -> Telemetry:
    """Set up traces, metrics and logs for this process and instrument ``app``.

    Idempotent: a second call returns the same handle (instrumenting ``app`` if it is a
    new one); settings passed to a later call are ignored with a warning. Keyword
    settings (one per row of the settings table, typed by
    :class:`~otel_chatbot.config.keywords.SettingsKeywords`) override environment
    variables, which override defaults. A bad value raises
    :class:`otel_chatbot.ConfigError` naming the variable; an argument of the wrong type
    raises TypeError before anything is set up.
    """
    _check_app(app)
    _check_items("span_exporters", span_exporters, SpanExporter)
    _check_items("span_processors", span_processors, SpanProcessor)
    _check_items("metric_readers", metric_readers, MetricReader)
    _check_items("log_exporters", log_exporters, LogRecordExporter)
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
        if telemetry._pipelines is None:
            _log.info("otel_chatbot: OTEL_SDK_DISABLED is set; no telemetry")
            _ACTIVE = telemetry
            return telemetry
        if set_global_providers:
            _set_globals(telemetry._pipelines)
        instrumentations = Instrumentations(resolved, telemetry._pipelines, on_shutdown=telemetry.force_flush)
        instrumentations.apply_libraries(patch_all_apps=patch_all_apps)
        telemetry._instrumentations = instrumentations
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
    if telemetry is None or telemetry._pipelines is None or telemetry._instrumentations is None:
        return
    try:
        old = telemetry._instrumentations
        apps = list(old.apps)
        patched_all = old.patched_all_apps
        old.revert()
        telemetry._pipelines = build(telemetry.settings)._pipelines
        assert telemetry._pipelines is not None
        fresh = Instrumentations(telemetry.settings, telemetry._pipelines, on_shutdown=telemetry.force_flush)
        fresh.apply_libraries(patch_all_apps=patched_all)
        telemetry._instrumentations = fresh
        for app in apps:
            telemetry.instrument_app(app)
    except Exception as exc:
        from otel_chatbot.guard import report

        report("re-initialising after fork", exc)


def _check_app(app: object) -> None:
    """Refuse, before anything is set up, an ``app`` the instrumentation could not wrap."""
    if app is None:
        return
    if isinstance(app, type):
        raise TypeError(f"configure(app=...) expects an application instance, got the class {app.__name__}")
    if not isinstance(app, StarletteApp):
        raise TypeError(
            f"configure(app=...) expects a Starlette or FastAPI application, got {type(app).__name__} {app!r}; "
            "other ASGI apps are instrumented by opentelemetry-instrument or by wrapping them in a Starlette app"
        )


def _check_items(name: str, value: object, kind: type) -> None:
    """Refuse a single object (or anything else) where a sequence of ``kind`` is expected."""
    if isinstance(value, Sequence) and not isinstance(value, str) and all(isinstance(v, kind) for v in value):
        return
    if isinstance(value, kind):
        single = type(value).__name__
        raise TypeError(f"configure({name}=...) expects a sequence of {kind.__name__}: pass [{single}(...)]")
    raise TypeError(f"configure({name}=...) expects a sequence of {kind.__name__}, got {value!r}")


def _set_globals(pipelines: Pipelines) -> None:
    from opentelemetry import _logs, metrics, propagate, trace

    trace.set_tracer_provider(pipelines.tracer_provider)
    metrics.set_meter_provider(pipelines.meter_provider)
    _logs.set_logger_provider(pipelines.logger_provider)
    propagate.set_global_textmap(pipelines.propagator)
