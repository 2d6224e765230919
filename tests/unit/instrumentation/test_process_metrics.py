"""Process metrics from the upstream system-metrics instrumentor, as the settings table chooses them."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_chatbot.config import ConfigError, load_settings
from otel_chatbot.guard import STATE
from otel_chatbot.instrumentation.process_metrics import instrumentor_config, start_process_metrics

CURATED = {
    "process.cpu.time",
    "process.memory.usage",
    "process.memory.virtual",
    "process.thread.count",
    "process.open_file_descriptor.count",
    "process.context_switches",
    "cpython.gc.collections",
    "cpython.gc.collected_objects",
    "cpython.gc.uncollectable_objects",
}


@pytest.fixture
def provider() -> Iterator[tuple[MeterProvider, InMemoryMetricReader]]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    yield provider, reader
    instance = SystemMetricsInstrumentor.__new__(SystemMetricsInstrumentor)
    if instance.is_instrumented_by_opentelemetry:
        instance.uninstrument()
    provider.shutdown()


def names(reader: InMemoryMetricReader) -> set[str]:
    data = reader.get_metrics_data()
    assert data is not None
    return {m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}


def test_the_default_is_the_curated_set_of_the_compose_image() -> None:
    assert set(load_settings(environ={}).process_metrics) == CURATED


def test_the_curated_set_is_recorded_and_nothing_else(provider: tuple[MeterProvider, InMemoryMetricReader]) -> None:
    meter_provider, reader = provider
    undo = start_process_metrics(load_settings(environ={}).process_metrics, meter_provider)
    assert undo is not None
    assert names(reader) == CURATED
    undo()
    assert not SystemMetricsInstrumentor.__new__(SystemMetricsInstrumentor).is_instrumented_by_opentelemetry


def test_cpu_time_is_split_by_state(provider: tuple[MeterProvider, InMemoryMetricReader]) -> None:
    meter_provider, reader = provider
    start_process_metrics(["process.cpu.time"], meter_provider)
    data = reader.get_metrics_data()
    assert data is not None
    (metric,) = [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]
    assert metric.unit == "s"
    assert {p.attributes["type"] for p in metric.data.data_points} == {"user", "system"}


def test_none_starts_nothing(provider: tuple[MeterProvider, InMemoryMetricReader]) -> None:
    meter_provider, reader = provider
    assert start_process_metrics(("none",), meter_provider) is None
    assert reader.get_metrics_data() is None or names(reader) == set()


def test_already_instrumented_elsewhere_is_left_as_it_is(
    provider: tuple[MeterProvider, InMemoryMetricReader], caplog: pytest.LogCaptureFixture
) -> None:
    meter_provider, reader = provider
    other = MeterProvider(metric_readers=[other_reader := InMemoryMetricReader()])
    try:
        SystemMetricsInstrumentor(config={"process.thread.count": None}).instrument(meter_provider=other)
        with caplog.at_level(logging.INFO, logger="otel_chatbot"):
            assert start_process_metrics(["process.cpu.time"], meter_provider) is None
        assert "already started" in caplog.text
        assert names(other_reader) == {"process.thread.count"}  # its configuration was not reset
        assert reader.get_metrics_data() is None or names(reader) == set()
    finally:
        SystemMetricsInstrumentor.__new__(SystemMetricsInstrumentor).uninstrument()
        other.shutdown()


def test_a_missing_package_logs_the_install_hint_once(
    provider: tuple[MeterProvider, InMemoryMetricReader],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.system_metrics", None)
    monkeypatch.setattr(STATE, "logged", set())
    with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
        assert start_process_metrics(["process.cpu.time"], provider[0]) is None
        assert start_process_metrics(["process.cpu.time"], provider[0]) is None
    hints = [r.getMessage() for r in caplog.records if "pip install" in r.getMessage()]
    assert len(hints) == 1
    assert "otel-chatbot[system-metrics]" in hints[0] and "OTEL_CHATBOT_PROCESS_METRICS=none" in hints[0]


def test_the_configured_instrumentations_start_them_and_undo_them(kit_factory: Any) -> None:
    kit = kit_factory(process_metrics="process.thread.count,cpython.gc.collections")
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    assert SystemMetricsInstrumentor.__new__(SystemMetricsInstrumentor).is_instrumented_by_opentelemetry
    assert [p.value > 0 for p in kit.points("process.thread.count")] == [True]
    assert kit.points("process.cpu.time") == []
    kit.instrumentations.revert()
    assert not SystemMetricsInstrumentor.__new__(SystemMetricsInstrumentor).is_instrumented_by_opentelemetry


def test_instrumentor_config_keeps_the_upstream_breakdowns() -> None:
    assert instrumentor_config(["process.cpu.time", "process.thread.count", "process.context_switches"]) == {
        "process.cpu.time": ["user", "system"],
        "process.thread.count": None,
        "process.context_switches": ["involuntary", "voluntary"],
    }


@pytest.mark.parametrize("raw", ["system.cpu.time", "process.cpu.time,none", "process.runtime.cpython.memory"])
def test_an_unknown_metric_fails_at_start_up_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="OTEL_CHATBOT_PROCESS_METRICS"):
        load_settings(environ={"OTEL_CHATBOT_PROCESS_METRICS": raw})
