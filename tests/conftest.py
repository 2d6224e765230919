"""Shared fixtures: fresh SDK pipelines with in-memory exporters, never global providers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_chatbot.telemetry as telemetry_module
from otel_chatbot.config import load_settings
from otel_chatbot.guard import set_raise_internal_errors
from otel_chatbot.pipelines import build_pipelines
from otel_chatbot.resource import build_resource
from otel_chatbot.telemetry import Telemetry, build
from otel_chatbot.wiring import Instrumentations
from tests.configured import metric_points
from tests.unit.helpers.helper_kit import Configured


@dataclass
class Kit:
    """One configuration under test: its instrumentations and what they recorded."""

    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    logs: InMemoryLogRecordExporter
    instrumentations: Instrumentations

    def finished(self, name: str | None = None) -> list[Any]:
        return [s for s in self.spans.get_finished_spans() if name is None or s.name == name]

    def points(self, metric: str) -> list[Any]:
        return metric_points(self.metrics, metric)


def make_kit(**overrides: Any) -> tuple[Kit, Any]:
    settings = load_settings(
        {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none", **overrides}, environ={}
    )
    spans, reader, logs = InMemorySpanExporter(), InMemoryMetricReader(), InMemoryLogRecordExporter()
    pipelines = build_pipelines(
        settings,
        build_resource(settings, environ={}),
        extra_span_processors=[SimpleSpanProcessor(spans)],
        extra_metric_readers=[reader],
    )
    pipelines.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    instrumentations = Instrumentations(settings, pipelines, on_shutdown=pipelines.force_flush)
    return Kit(spans, reader, logs, instrumentations), pipelines


@pytest.fixture
def kit_factory() -> Iterator[Any]:
    """Build kits; every one is reverted and shut down after the test."""
    made: list[tuple[Kit, Any]] = []
    set_raise_internal_errors(True)

    def factory(**overrides: Any) -> Kit:
        kit, pipelines = make_kit(**overrides)
        made.append((kit, pipelines))
        return kit

    yield factory
    set_raise_internal_errors(False)
    for kit, pipelines in made:
        kit.instrumentations.revert()
        pipelines.shutdown()


@pytest.fixture
def configure_helpers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Configured]]:
    """Make a configuration (settings as keywords) the active one, as ``configure()`` does, patching no library."""
    made: list[Telemetry] = []
    set_raise_internal_errors(True)

    def make(**overrides: Any) -> Configured:
        settings = load_settings(
            {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none", **overrides}, environ={}
        )
        spans, reader, logs = InMemorySpanExporter(), InMemoryMetricReader(), InMemoryLogRecordExporter()
        telemetry = build(settings, span_processors=[SimpleSpanProcessor(spans)], metric_readers=[reader])
        assert telemetry._pipelines is not None
        telemetry._pipelines.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
        telemetry._instrumentations = Instrumentations(settings, telemetry._pipelines, on_shutdown=lambda: None)
        monkeypatch.setattr(telemetry_module, "_ACTIVE", telemetry)
        made.append(telemetry)
        return Configured(telemetry, spans, reader, logs)

    yield make
    set_raise_internal_errors(False)
    for telemetry in made:
        telemetry.shutdown()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under tests/e2e start servers: mark them ``e2e``."""
    for item in items:
        parts = item.path.parts
        if "e2e" in parts:
            item.add_marker(pytest.mark.e2e)


# Property-based tests (Hypothesis): seeded and bounded by default, as CI runs them; a longer,
# randomised run with OTEL_CHATBOT_HYPOTHESIS=long (examples per test: OTEL_CHATBOT_HYPOTHESIS_EXAMPLES,
# default 5,000). No example database is written into the tree.
def _hypothesis_profiles() -> None:
    import os

    from hypothesis import settings

    settings.register_profile("ci", max_examples=40, derandomize=True, database=None, deadline=None)
    examples = int(os.environ.get("OTEL_CHATBOT_HYPOTHESIS_EXAMPLES", "5000"))
    settings.register_profile("long", max_examples=examples, database=None, deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("OTEL_CHATBOT_HYPOTHESIS", "ci"))


_hypothesis_profiles()
