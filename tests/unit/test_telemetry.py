"""The public API: typed without Any, and a misuse fails at the call site before anything is set up."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator
from typing import Any, get_args, get_type_hints

import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette

import otel_chatbot
from otel_chatbot import ConfigError, Telemetry, configure
from otel_chatbot.config import load_settings
from otel_chatbot.telemetry import StarletteApp, active, build

QUIET = {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none"}


@pytest.fixture(autouse=True)
def nothing_left_configured() -> Iterator[None]:
    assert active() is None
    yield
    left = active()
    if left is not None:
        left.shutdown()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider), "a test set the global provider"


def test_the_provider_properties_are_the_sdk_providers() -> None:
    telemetry = build(load_settings(QUIET, environ={}))
    try:
        assert telemetry.enabled
        assert isinstance(telemetry.tracer_provider, TracerProvider)
        assert isinstance(telemetry.meter_provider, MeterProvider)
        assert isinstance(telemetry.logger_provider, LoggerProvider)
        assert telemetry.prometheus_port is None
    finally:
        telemetry.shutdown()


def test_a_disabled_sdk_has_no_providers_and_flushes_trivially() -> None:
    telemetry = configure(FastAPI(), sdk_disabled=True)
    assert not telemetry.enabled
    assert (telemetry.tracer_provider, telemetry.meter_provider, telemetry.logger_provider) == (None, None, None)
    assert telemetry.force_flush()
    telemetry.shutdown()
    assert active() is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: configure(42), r"configure\(app=...\) expects a Starlette or FastAPI application, got int 42"),  # type: ignore[arg-type]
        (lambda: configure(FastAPI), "expects an application instance, got the class FastAPI"),  # type: ignore[arg-type]
        (
            lambda: configure(lambda scope, receive, send: None),
            "expects a Starlette or FastAPI application, got function",
        ),  # type: ignore[arg-type]
        (
            lambda: configure(span_exporters=InMemorySpanExporter()),  # type: ignore[arg-type]
            r"configure\(span_exporters=...\) expects a sequence of SpanExporter: pass \[InMemorySpanExporter\(...\)\]",
        ),
        (lambda: configure(metric_readers=[InMemorySpanExporter()]), "expects a sequence of MetricReader, got"),  # type: ignore[list-item]
        (lambda: configure(span_processors="batch"), "expects a sequence of SpanProcessor, got 'batch'"),  # type: ignore[arg-type]
        (lambda: configure(gc_freeze=1), r"configure\(gc_freeze=...\) expects bool"),  # type: ignore[typeddict-item]
    ],
)
def test_a_misused_configure_raises_type_error_before_setting_anything_up(call: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        call()
    assert active() is None


def test_a_bad_value_or_unknown_keyword_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER"):
        configure(traces_exporter="jaeger")  # type: ignore[typeddict-item]
    with pytest.raises(ConfigError, match="unknown setting 'servce_name'"):
        configure(servce_name="x")  # type: ignore[call-arg]
    assert active() is None


def test_instrument_app_refuses_what_it_cannot_instrument() -> None:
    telemetry = build(load_settings(QUIET, environ={}))
    try:
        with pytest.raises(TypeError, match="got str"):
            telemetry.instrument_app("app:main")  # type: ignore[arg-type]
        telemetry.instrument_app(None)
    finally:
        telemetry.shutdown()


def test_starlette_and_fastapi_apps_are_starlette_apps() -> None:
    assert isinstance(FastAPI(), StarletteApp)
    assert isinstance(Starlette(), StarletteApp)
    assert not isinstance(object(), StarletteApp)


def mentions_any(form: object) -> bool:
    if form is Any:
        return True
    args = get_args(form)
    if any(mentions_any(arg) for arg in args):
        return True
    # Unpack[SomeTypedDict] and the like: a TypedDict's own fields are part of the surface.
    return isinstance(form, type) and hasattr(form, "__required_keys__") and has_any_hint(form)


def has_any_hint(obj: object) -> bool:
    return any(mentions_any(hint) for hint in get_type_hints(obj).values())


def public_signatures() -> dict[str, object]:
    """Every function, method, property and field reachable from ``otel_chatbot.__all__``."""
    found: dict[str, object] = {}
    for name in otel_chatbot.__all__:
        obj = getattr(otel_chatbot, name)
        if inspect.isfunction(obj) or (isinstance(obj, type) and hasattr(obj, "__required_keys__")):
            found[name] = obj
        elif isinstance(obj, type) and not issubclass(obj, Exception):
            if dataclasses.is_dataclass(obj):
                found[name] = obj
            for member_name, member in vars(obj).items():
                if member_name.startswith("_") and member_name != "__init__":
                    continue
                if isinstance(member, property):
                    found[f"{name}.{member_name}"] = member.fget
                elif inspect.isfunction(member):
                    found[f"{name}.{member_name}"] = member
    return found


def test_no_any_in_the_public_surface() -> None:
    surface = public_signatures()
    assert {
        "configure",
        "Telemetry.tracer_provider",
        "Telemetry.instrument_app",
        "Settings",
        "SettingsKeywords",
    } <= set(surface)
    assert [name for name, obj in surface.items() if has_any_hint(obj)] == []
    assert get_type_hints(Telemetry.tracer_provider.fget)["return"] == TracerProvider | None


def test_everything_in_all_is_typed() -> None:
    untyped = [
        name
        for name, obj in public_signatures().items()
        if inspect.isfunction(obj) and "return" not in get_type_hints(obj) and not name.endswith("__init__")
    ]
    assert untyped == []


def test_the_any_detector_sees_an_any() -> None:
    from otel_chatbot.config import Setting

    assert has_any_hint(Setting.parse_default)
