"""A configuration the helpers find as the active one, with in-memory exporters for each signal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_chatbot.telemetry as telemetry_module
from otel_chatbot.config import load_settings
from otel_chatbot.guard import set_raise_internal_errors
from otel_chatbot.telemetry import Telemetry, build
from otel_chatbot.wiring import Instrumentations
from tests.unit.helpers.helper_kit import Configured


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
