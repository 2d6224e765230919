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
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from otel_chatbot.config import Settings, load_settings
from otel_chatbot.guard import set_raise_internal_errors
from otel_chatbot.pipelines import Pipelines, build_pipelines
from otel_chatbot.resource import build_resource
from otel_chatbot.wiring import Instrumentations

_log = logging.getLogger("otel_chatbot")


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
