"""Snapshots keep only the metrics the view reads, and share what did not change."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider

from otel_chatbot.stats import names as n
from otel_chatbot.stats.reader import StatsReader


def test_unchanged_series_share_their_object_and_unread_metrics_are_dropped() -> None:
    reader = StatsReader()
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("test")
    busy, idle = meter.create_histogram(n.HTTP_DURATION), meter.create_histogram(n.LOOP_LAG)
    meter.create_histogram("some.other.metric").record(1.0)
    busy.record(0.1, {n.ROUTE: "/a"})
    idle.record(0.001)
    first = reader.sample()
    busy.record(0.2, {n.ROUTE: "/a"})
    second = reader.sample()
    provider.shutdown()
    assert first is not None and second is not None
    assert {key[0] for key in second.histograms} == {n.HTTP_DURATION, n.LOOP_LAG}
    lag = (n.LOOP_LAG, ())
    assert second.histograms[lag] is first.histograms[lag]
    route = (n.HTTP_DURATION, ((n.ROUTE, "/a"),))
    assert second.histograms[route] is not first.histograms[route]
    assert second.histograms[route].count == 2
    assert reader.series == 2
