"""Percentiles: within HdrHistogram's 0.1 % of the exact nearest-rank value, over many shapes."""

from __future__ import annotations

import math
import random

import pytest

pytest.importorskip("hdrh", reason="hdrhistogram is in the loadtest dependencies")

from bench.loadtest.histogram import HIGHEST_US, LatencyHistogram, decode_percentile


def exact(samples: list[float], percent: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least ``percent`` % at or below it."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(round(percent * len(ordered) / 100.0, 9)))  # round: 99.9 % of 10000 is 9990
    return ordered[rank - 1]


def _lognormal(n: int, median_ms: float) -> list[float]:
    rng = random.Random(20261122)
    return [rng.lognormvariate(math.log(median_ms), 0.6) for _ in range(n)]


SHAPES: dict[str, list[float]] = {
    "1..100 ms": [float(v) for v in range(1, 101)],
    "constant 7.25 ms": [7.25] * 500,
    "sub-millisecond": [0.05 + i * 0.001 for i in range(1000)],
    "bimodal 3 ms / 180 ms": [3.0] * 900 + [180.0] * 100,
    "lognormal around 12 ms": _lognormal(20000, 12.0),
    "long tail to 4 s": [5.0] * 9800 + [float(v) for v in range(200, 4200, 20)],
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("percent", [50.0, 90.0, 95.0, 99.0, 99.9])
def test_percentile_is_within_a_tenth_of_a_percent(shape: str, percent: float) -> None:
    samples = SHAPES[shape]
    hist = LatencyHistogram()
    for value in samples:
        hist.record(value)
    want = exact(samples, percent)
    # 3 significant digits: bucket width <= 0.1 % of the value, plus microsecond rounding.
    assert hist.percentile(percent) == pytest.approx(want, rel=1e-3, abs=1e-3)


def test_summary_is_ordered_and_exact_at_the_ends() -> None:
    hist = LatencyHistogram()
    for value in (1.5, 2.0, 2.5, 40.0):
        hist.record(value)
    summary = hist.summary()
    assert summary is not None
    assert (summary.count, summary.min, summary.max, summary.mean) == (4, 1.5, 40.0, 11.5)
    assert summary.min <= summary.p50 <= summary.p90 <= summary.p95 <= summary.p99 <= summary.max
    assert summary.p99 == 40.0  # a bucket's upper edge is never reported past the largest sample


def test_empty_histogram() -> None:
    hist = LatencyHistogram()
    assert hist.count == 0 and hist.summary() is None and hist.encode() is None and hist.percentile(99) == 0.0


def test_out_of_range_samples_are_clamped_and_still_counted() -> None:
    hist = LatencyHistogram()
    hist.record(-3.0)
    hist.record(HIGHEST_US / 1000.0 * 10)
    assert hist.count == 2
    assert hist.percentile(100.0) == pytest.approx(HIGHEST_US / 1000.0, rel=1e-3)


def test_stored_encoding_decodes_to_the_same_percentiles() -> None:
    hist = LatencyHistogram()
    for value in SHAPES["lognormal around 12 ms"]:
        hist.record(value)
    encoded = hist.encode()
    assert encoded is not None
    for percent in (50.0, 95.0, 99.0):
        assert decode_percentile(encoded, percent) == pytest.approx(hist.percentile(percent), rel=1e-3)
