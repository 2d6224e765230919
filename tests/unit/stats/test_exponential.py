"""Exponential histogram arithmetic, checked against the SDK's own aggregation and exact percentiles."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation

from otel_chatbot.stats.exponential import (
    EMPTY,
    MAX_SIZE,
    ExpHistogram,
    downscale,
    lower_boundary,
    merge,
    quantile,
    relative_error,
    subtract,
    window_max,
)

QUANTILES = (0.5, 0.9, 0.95, 0.99, 1.0)


def sdk_histogram(values: Sequence[float]) -> ExpHistogram:
    """What the SDK's exponential aggregation (max_size 160) makes of ``values``."""
    reader = InMemoryMetricReader(
        preferred_aggregation={Histogram: ExponentialBucketHistogramAggregation(max_size=MAX_SIZE)}
    )
    provider = MeterProvider(metric_readers=[reader])
    histogram = provider.get_meter("test").create_histogram("values")
    for value in values:
        histogram.record(value)
    data = reader.get_metrics_data()
    provider.shutdown()
    assert data is not None
    (point,) = data.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points
    return ExpHistogram.of_point(point)


def exact(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: the ceil(q * n)-th smallest value."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def log_uniform(rng: random.Random, low: float, high: float, count: int) -> list[float]:
    return [10 ** rng.uniform(math.log10(low), math.log10(high)) for _ in range(count)]


def test_the_relative_error_is_half_the_bucket_growth_relative_to_its_midpoint() -> None:
    assert relative_error(0) == pytest.approx(1 / 3)  # buckets (1, 2]: the estimate 4/3 is 1/3 off at both ends
    assert relative_error(3) == pytest.approx(0.04329, abs=1e-5)
    assert relative_error(4) == pytest.approx(0.02166, abs=1e-5)
    assert relative_error(5) == pytest.approx(0.01083, abs=1e-5)


@pytest.mark.parametrize(
    ("low", "high", "scale"),
    [(0.1, 1.0, 5), (0.01, 2.0, 4), (0.001, 10.0, 3), (1, 100_000, 3), (1e-6, 1000.0, 2)],
)
def test_the_scale_the_sdk_settles_on_matches_the_documented_table(low: float, high: float, scale: int) -> None:
    histogram = sdk_histogram([low, high, math.sqrt(low * high)])
    assert histogram.scale == scale


@pytest.mark.parametrize(
    ("low", "high", "seed"),
    [(0.001, 10.0, 1), (0.01, 2.0, 2), (0.1, 1.0, 3), (1, 100_000, 4)],
)
def test_percentiles_are_within_the_stated_bound_of_the_exact_ones(low: float, high: float, seed: int) -> None:
    values = log_uniform(random.Random(seed), low, high, 5000)
    histogram = sdk_histogram(values)
    bound = relative_error(histogram.scale)
    for q in QUANTILES:
        estimate = quantile(histogram, q)
        assert estimate is not None
        truth = exact(values, q)
        assert abs(estimate - truth) / truth <= bound * (1 + 1e-9), (q, estimate, truth, bound)


def test_a_tight_cluster_is_estimated_far_better_than_the_bound() -> None:
    values = [0.250 + i * 1e-5 for i in range(1000)]
    histogram = sdk_histogram(values)
    estimate = quantile(histogram, 0.5)
    assert estimate is not None
    assert abs(estimate - exact(values, 0.5)) / exact(values, 0.5) < 0.001


def test_zeros_sit_below_every_bucket() -> None:
    histogram = sdk_histogram([0.0] * 30 + [1.0] * 70)
    assert (histogram.zero_count, histogram.count) == (30, 100)
    assert quantile(histogram, 0.3) == 0.0
    assert quantile(histogram, 0.31) == pytest.approx(1.0)


def test_an_empty_histogram_has_no_percentile_and_q_is_checked() -> None:
    assert quantile(EMPTY, 0.5) is None
    with pytest.raises(ValueError, match="0 < q <= 1"):
        quantile(sdk_histogram([1.0]), 0.0)


def test_downscaling_folds_pairs_of_buckets_and_keeps_the_totals() -> None:
    fine = ExpHistogram(6, 9.0, 1.0, 3.0, 2, 0, offset=-3, counts=(1, 2, 0, 3))
    coarse = downscale(fine, 1)
    # indexes -3..0 at scale 2 -> -2, -1, -1, 0 at scale 1
    assert (coarse.scale, coarse.offset, coarse.counts) == (1, -2, (1, 2, 3))
    assert (coarse.count, coarse.sum) == (fine.count, fine.sum)
    assert downscale(fine, 2) is fine
    with pytest.raises(ValueError, match="cannot upscale"):
        downscale(fine, 3)


def test_a_bucket_covers_the_values_the_sdk_puts_in_it() -> None:
    for value in (0.003, 0.2, 1.5, 7.0, 1234.5):
        histogram = sdk_histogram([value])
        (index,) = [histogram.offset + i for i, c in enumerate(histogram.counts) if c]
        assert lower_boundary(index, histogram.scale) <= value <= lower_boundary(index + 1, histogram.scale)


def test_subtracting_two_cumulative_snapshots_leaves_what_was_recorded_between() -> None:
    rng = random.Random(7)
    first = log_uniform(rng, 0.01, 1.0, 500)
    second = log_uniform(rng, 0.5, 30.0, 500)  # a wider range: the later snapshot has a lower scale
    earlier, later = sdk_histogram(first), sdk_histogram(first + second)
    assert later.scale < earlier.scale
    between = subtract(later, earlier)
    alone = downscale(sdk_histogram(second), between.scale)
    assert between.count == 500
    assert between.sum == pytest.approx(sum(second))
    nonzero = {between.offset + i: c for i, c in enumerate(between.counts) if c}
    assert nonzero == {alone.offset + i: c for i, c in enumerate(alone.counts) if c}
    assert subtract(later, EMPTY) is later


def test_merging_series_keeps_every_value_at_the_coarsest_scale() -> None:
    rng = random.Random(11)
    fast, slow = log_uniform(rng, 0.005, 0.05, 400), log_uniform(rng, 0.5, 20.0, 100)
    merged = merge([sdk_histogram(fast), sdk_histogram(slow), EMPTY])
    everything = fast + slow
    assert merged.count == 500
    assert merged.sum == pytest.approx(sum(everything))
    assert (merged.min, merged.max) == (min(everything), max(everything))
    for q in QUANTILES:
        estimate = quantile(merged, q)
        assert estimate is not None
        assert abs(estimate - exact(everything, q)) / exact(everything, q) <= relative_error(merged.scale) * (1 + 1e-9)
    assert merge([]) is EMPTY


def test_the_window_max_is_exact_when_it_is_the_max_since_start_and_bounded_otherwise() -> None:
    earlier = sdk_histogram([0.1, 5.0])
    grew = sdk_histogram([0.1, 5.0, 0.2, 9.0])
    assert window_max(grew, earlier, subtract(grew, earlier)) == 9.0
    smaller = sdk_histogram([0.1, 5.0, 0.2, 0.3])
    estimate = window_max(smaller, earlier, subtract(smaller, earlier))
    assert estimate is not None
    assert abs(estimate - 0.3) / 0.3 <= relative_error(smaller.scale)
    unchanged = subtract(earlier, earlier)
    assert unchanged.count == 0
    assert window_max(earlier, earlier, unchanged) is None


def test_merging_far_apart_single_values_downscales_to_fit_the_bucket_budget() -> None:
    # Each series alone stays at scale 20 (one value); at that scale 0.1 and 2.0 are millions of buckets apart.
    one, other = sdk_histogram([0.1] * 5), sdk_histogram([2.0] * 5)
    assert (one.scale, other.scale) == (20, 20)
    merged = merge([one, other])
    assert len(merged.counts) <= MAX_SIZE
    assert merged.count == 10
    bound = relative_error(merged.scale) * (1 + 1e-9)  # 2.0 sits on a bucket's upper edge: the bound is reached
    assert quantile(merged, 0.5) == pytest.approx(0.1, rel=bound)
    assert quantile(merged, 0.6) == pytest.approx(2.0, rel=bound)
