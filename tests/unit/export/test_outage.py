"""An outage is logged when it starts and when it ends, never per failed batch."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation

from otel_chatbot import compat
from otel_chatbot.export.outage import ExporterMessages, OutageLog, OutageMetricExporter
from tests.unit.fallbacks import FAST, UNTESTED_SDK, fallback_notes, watching_fallbacks


def test_outage_logged_once_then_recovery_once(caplog: pytest.LogCaptureFixture) -> None:
    messages = ExporterMessages()
    messages.filter(logging.LogRecord("x", logging.WARNING, "", 0, "Failed to export batch code: 503", (), None))
    outage = OutageLog("traces", "http://collector:4318/v1/traces", messages)
    with caplog.at_level(logging.WARNING, logger="otel_chatbot.export"):
        outage.record(True, 10)
        for _ in range(50):
            outage.record(False, 512)
        outage.record(True, 10)
        outage.record(True, 10)
        outage.record(False, 1)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "is failing (Failed to export batch code: 503)" in lines[0]
    assert "spans are kept in the export queue and sent again" in lines[0]
    assert "recovered" in lines[1] and "50 failed attempts with 25600 items" in lines[1]
    assert "is failing" in lines[2]
    assert outage.outages == 2


def test_exporter_messages_are_kept_out_of_the_app_log() -> None:
    messages = ExporterMessages()
    warning = logging.LogRecord("x", logging.WARNING, "", 0, "Transient error %s", ("UNAVAILABLE",), None)
    critical = logging.LogRecord("x", logging.CRITICAL, "", 0, "boom", (), None)
    assert messages.filter(warning) is False
    assert messages.last_reason == "Transient error UNAVAILABLE"
    assert messages.filter(critical) is True


class DeltaExporter(MetricExporter):
    """Asks for delta sums and two-bucket histograms, like an OTLP exporter set up for a delta backend."""

    def __init__(self) -> None:
        super().__init__(
            preferred_temporality={Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA},
            preferred_aggregation={Histogram: ExplicitBucketHistogramAggregation(boundaries=[1.0])},
        )
        self.exported: list[MetricsData] = []

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        self.exported.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def _exported_through_the_wrapper(inner: DeltaExporter) -> tuple[OutageMetricExporter, list[tuple[str, Any, Any]]]:
    wrapper = OutageMetricExporter(inner, OutageLog("metrics", "test", ExporterMessages()))
    provider = MeterProvider(metric_readers=[PeriodicExportingMetricReader(wrapper, export_interval_millis=3_600_000)])
    meter = provider.get_meter("t")
    meter.create_counter("c").add(2)
    meter.create_histogram("h").record(0.5)
    provider.shutdown()  # exports once, through the wrapper
    seen = [
        (m.name, m.data.aggregation_temporality, getattr(m.data.data_points[0], "explicit_bounds", None))
        for data in inner.exported
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    ]
    return wrapper, sorted(seen, key=lambda item: item[0])


EXPECTED = [("c", AggregationTemporality.DELTA, None), ("h", AggregationTemporality.DELTA, (1.0,))]


def test_the_wrapper_asks_the_reader_for_what_its_exporter_asks(caplog: pytest.LogCaptureFixture) -> None:
    # On the tested SDK the preferences are copied (a silent fallback fails here); outside its
    # range the wrapper forwards them; either way the reader must honour them.
    with watching_fallbacks(caplog):
        wrapper, seen = _exported_through_the_wrapper(DeltaExporter())
        copied = "_preferred_temporality" in vars(wrapper)
    assert seen == EXPECTED
    assert copied is FAST
    assert len(fallback_notes(caplog)) == (0 if FAST else 1)


PREFERENCE_CHANGES: dict[str, Callable[[pytest.MonkeyPatch, DeltaExporter], None]] = {
    "outside the tested range": lambda mp, inner: mp.setattr(compat, "SDK_VERSION", UNTESTED_SDK),
    "kept in another shape": lambda mp, inner: mp.setattr(
        inner, "_preferred_temporality", MappingProxyType(inner._preferred_temporality or {})
    ),
}


@pytest.mark.parametrize("change", PREFERENCE_CHANGES.values(), ids=PREFERENCE_CHANGES.keys())
def test_preferences_that_cannot_be_copied_are_forwarded(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    change: Callable[[pytest.MonkeyPatch, DeltaExporter], None],
) -> None:
    inner = DeltaExporter()
    change(monkeypatch, inner)
    with watching_fallbacks(caplog):
        wrapper, seen = _exported_through_the_wrapper(inner)
    assert seen == EXPECTED
    assert "_preferred_temporality" not in vars(wrapper)  # read from the inner exporter
    (note,) = fallback_notes(caplog)
    assert f"{compat.METRIC_PREFERENCES} is off" in note
