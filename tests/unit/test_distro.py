"""Upstream instrumentors that duplicate ours are undone after another distro loaded them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points

import pytest
from botocore.client import BaseClient
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

from otel_chatbot.distro import retire_instrumentors


def _installed(name: str) -> EntryPoint:
    (found,) = [ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == name]
    return found


ORIGINAL = BaseClient._make_api_call


@pytest.fixture
def upstream_botocore() -> Iterator[BotocoreInstrumentor]:
    assert BaseClient._make_api_call is ORIGINAL
    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


def test_an_active_upstream_duplicate_is_uninstrumented(upstream_botocore: BotocoreInstrumentor) -> None:
    assert BaseClient._make_api_call is not ORIGINAL  # upstream's patch is on
    assert retire_instrumentors([_installed("botocore")]) == ["botocore"]
    assert not upstream_botocore.is_instrumented_by_opentelemetry
    assert BaseClient._make_api_call is ORIGINAL


def test_inactive_or_unrelated_instrumentors_are_left_alone(upstream_botocore: BotocoreInstrumentor) -> None:
    upstream_botocore.uninstrument()
    assert retire_instrumentors([_installed("botocore")]) == []
    # Not one we replace (a made-up entry point of a module nobody imported): never even loaded.
    other = EntryPoint("redis", "opentelemetry.instrumentation.redis:RedisInstrumentor", "opentelemetry_instrumentor")
    assert retire_instrumentors([other]) == []


def test_every_upstream_instrumentor_for_a_library_we_instrument_is_replaced() -> None:
    from otel_chatbot.distro import _REPLACED

    ours = {"fastapi", "asgi", "starlette", "httpx", "aiohttp-client", "botocore", "aiobotocore", "logging"}
    installed = {ep.name for ep in entry_points(group="opentelemetry_instrumentor")}
    assert installed & ours <= _REPLACED
    assert {"botocore", "aiobotocore"} <= installed  # the dev install has upstream's botocore package


def test_an_instrumentor_nobody_instantiated_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from collections.abc import Collection
    from types import ModuleType

    from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

    class Fresh(BaseInstrumentor):  # imported by another distro, never loaded by it
        def instrumentation_dependencies(self) -> Collection[str]:
            return ()

        def _uninstrument(self, **kwargs: object) -> None:
            raise AssertionError("never instrumented, so never undone")

    module = ModuleType("fresh_instrumentation")
    module.Fresh = Fresh  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    entry_point = EntryPoint("botocore", f"{module.__name__}:Fresh", "opentelemetry_instrumentor")
    assert retire_instrumentors([entry_point]) == []


def test_the_configurator_keeps_opentelemetry_instruments_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_chatbot import distro

    calls: list[int] = []
    monkeypatch.setattr(distro, "_configure_from_entry_point", lambda: calls.append(1))
    (ours,) = [ep for ep in entry_points(group="opentelemetry_configurator") if ep.name == "otel_chatbot"]
    ours.load()().configure(auto_instrumentation_version="0.66b2")  # what _load_configurators does
    assert calls == [1]


def test_our_distro_starts_process_metrics_itself_and_never_undoes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under our distro the upstream system-metrics entry point is skipped (configure() starts it with the
    settings' choice); under another distro it is not retired: its singleton refuses a second start."""
    from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
    from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor

    from otel_chatbot.distro import ChatbotDistro

    loaded: list[str] = []
    monkeypatch.setattr(
        BaseDistro, "load_instrumentor", lambda self, entry_point, **kw: loaded.append(entry_point.name)
    )
    system_metrics = _installed("system_metrics")
    ChatbotDistro().load_instrumentor(system_metrics, skip_dep_check=True)
    ChatbotDistro().load_instrumentor(EntryPoint("redis", "x:Y", "opentelemetry_instrumentor"))
    assert loaded == ["redis"]
    instance = SystemMetricsInstrumentor()
    instance.instrument()
    try:
        assert retire_instrumentors([system_metrics]) == []
        assert instance.is_instrumented_by_opentelemetry
    finally:
        instance.uninstrument()
