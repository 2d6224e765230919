"""The stats reader: exponential histograms on its own aggregation only, pulled, its cost kept."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_chatbot.instrumentation.prebound import Bound
from otel_chatbot.stats import names as n
from otel_chatbot.stats.reader import StatsReader


def test_one_record_reaches_both_readers_each_with_its_own_aggregation() -> None:
    stats, exported = StatsReader(), InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[exported, stats])
    histogram = provider.get_meter("test").create_histogram(
        n.HTTP_DURATION, explicit_bucket_boundaries_advisory=[0.1, 1.0]
    )
    bound = Bound(histogram, {n.ROUTE: "/chat"})  # the distro's pre-bound path feeds every reader too
    for value in (0.05, 0.5, 5.0, 0.07):
        bound.record(value)
    snapshot = stats.sample()
    data = exported.get_metrics_data()
    provider.shutdown()
    assert snapshot is not None and data is not None
    (point,) = data.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points
    assert list(point.explicit_bounds) == [0.1, 1.0] and list(point.bucket_counts) == [2, 1, 1]
    (mine,) = snapshot.histograms.values()
    assert (mine.count, mine.sum, mine.min, mine.max) == (4, pytest.approx(5.62), 0.05, 5.0)
    assert sum(mine.counts) == 4 and mine.scale < 20  # exponential buckets, downscaled to fit the range


def test_a_flush_adds_no_snapshot_and_each_sample_records_its_cost() -> None:
    stats = StatsReader()
    provider = MeterProvider(metric_readers=[stats])
    stats.sample()
    assert provider.force_flush()
    stats.sample()
    provider.shutdown()
    assert (stats.samples, len(stats.ring), len(stats.collect_cpu_s)) == (2, 2, 2)
    assert all(cost >= 0 for cost in stats.collect_cpu_s)


def test_peaks_since_start_track_the_sampled_levels() -> None:
    stats = StatsReader()
    provider = MeterProvider(metric_readers=[stats])
    active = provider.get_meter("test").create_up_down_counter(n.HTTP_ACTIVE)
    stats.sample()
    assert stats.peaks == {}  # nothing reports in-flight requests yet
    active.add(4, {n.METHOD: "POST"})
    stats.sample()
    active.add(-3, {n.METHOD: "POST"})
    stats.sample()
    provider.shutdown()
    assert stats.peaks == {n.HTTP_ACTIVE: 4}
