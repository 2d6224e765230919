"""Base-2 exponential histograms as the SDK exports them: difference, merge, percentiles, error bound.

Pure functions over :class:`ExpHistogram`, a frozen copy of the positive and zero buckets
of an ``ExponentialHistogramDataPoint``. At scale ``s`` bucket ``i`` holds the values in
``(b**i, b**(i+1)]`` with ``b = 2 ** 2 ** -s`` (the OpenTelemetry data model). A
cumulative histogram only ever lowers its scale, so two snapshots of one series are
differenced, and several series merged, after bringing them to the lowest scale (a bucket
at scale ``s`` is exactly two buckets at ``s + 1``: downscaling loses nothing already lost).

**The error bound.** A percentile is the nearest-rank one (the ``ceil(q * n)``-th smallest
value), estimated by the point of its bucket that is closest, relatively, to both edges:
``2 * L * U / (L + U)``, then clamped to the histogram's min and max. Whatever the true
value in ``(L, U]``, the estimate is within ``(b - 1) / (b + 1)`` of it, relatively:
:func:`relative_error`. The scale depends on the data: the SDK starts at scale 20 and halves
the resolution until the occupied buckets fit in ``max_size`` (160 here), so values
spanning a ratio ``R = max / min`` end at the largest ``s`` with ``2**s * log2(R) <= ~160``:

=====================================  ========  =============  ==================
values                                 ``R``     scale          relative error
=====================================  ========  =============  ==================
one decade (0.1 s .. 1 s)              10        5              1.1 %
latencies 10 ms .. 2 s                 200       4              2.2 %
latencies 1 ms .. 10 s                 1e4       3              4.3 %
tokens 1 .. 100k                       1e5       3              4.3 %
1 µs .. 1000 s                         1e9       2              8.6 %
=====================================  ========  =============  ==================

Merging series downscales to the coarsest of them, so a merged percentile carries the
merged histogram's bound (reported with every distribution). Negative buckets are not
kept: every histogram the view reads records non-negative values (durations, sizes, tokens).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_SIZE = 160
"""Buckets per histogram on the stats reader (the SDK's default for exponential histograms)."""


@dataclass(frozen=True, slots=True)
class ExpHistogram:
    """The positive and zero buckets of one exponential histogram point (cumulative or a difference)."""

    count: int
    sum: float
    min: float
    max: float
    scale: int
    zero_count: int
    offset: int
    counts: Sequence[int]
    """Bucket counts from ``offset`` on; an ``array`` in snapshots (4 bytes a bucket), else a tuple."""

    @classmethod
    def of_point(cls, point: Any) -> ExpHistogram:
        """Copy an SDK ``ExponentialHistogramDataPoint`` (its buckets are reused by the SDK)."""
        counts = _compact(point.positive.bucket_counts)
        return cls(
            count=point.count,
            sum=float(point.sum),
            min=float(point.min) if point.count else math.inf,
            max=float(point.max) if point.count else -math.inf,
            scale=point.scale,
            zero_count=point.zero_count,
            offset=point.positive.offset,
            counts=counts,
        )


_FOUR_BYTES = 2**32 - 1


def _compact(counts: Sequence[int]) -> array[int]:
    """Four bytes a bucket while every count fits (a bucket past four billion takes eight)."""
    return array("I" if not counts or max(counts) <= _FOUR_BYTES else "Q", counts)


EMPTY = ExpHistogram(0, 0.0, math.inf, -math.inf, 20, 0, 0, ())


def relative_error(scale: int) -> float:
    """The largest relative error of a percentile estimated at ``scale`` (see the module docstring)."""
    base = math.pow(2.0, math.pow(2.0, -scale))
    return (base - 1.0) / (base + 1.0)


def lower_boundary(index: int, scale: int) -> float:
    """``b ** index`` at ``scale``: the exclusive lower edge of bucket ``index``."""
    return math.pow(2.0, index * math.pow(2.0, -scale))


def downscale(histogram: ExpHistogram, scale: int) -> ExpHistogram:
    """The same histogram at a lower (coarser) ``scale``: bucket ``i`` moves to ``i >> (old - new)``."""
    shift = histogram.scale - scale
    if shift < 0:
        raise ValueError(f"cannot upscale a histogram from scale {histogram.scale} to {scale}")
    if shift == 0:
        return histogram
    if not histogram.counts:
        return ExpHistogram(
            histogram.count, histogram.sum, histogram.min, histogram.max, scale, histogram.zero_count, 0, ()
        )
    offset = histogram.offset >> shift
    last = (histogram.offset + len(histogram.counts) - 1) >> shift
    counts = [0] * (last - offset + 1)
    for position, count in enumerate(histogram.counts):
        if count:
            counts[((histogram.offset + position) >> shift) - offset] += count
    return ExpHistogram(
        histogram.count, histogram.sum, histogram.min, histogram.max, scale, histogram.zero_count, offset, tuple(counts)
    )


def _trimmed(offset: int, counts: Sequence[int]) -> tuple[int, tuple[int, ...]]:
    """Without the empty buckets at either end (a difference often leaves some)."""
    low, high = 0, len(counts)
    while low < high and counts[low] <= 0:
        low += 1
    while high > low and counts[high - 1] <= 0:
        high -= 1
    return (offset + low, tuple(max(0, c) for c in counts[low:high])) if low < high else (0, ())


def subtract(later: ExpHistogram, earlier: ExpHistogram) -> ExpHistogram:
    """What was recorded between two cumulative snapshots of one series.

    Min and max stay those of ``later`` (bounds of every value it holds, so of the
    difference's too); :func:`window_max` refines the max. At one scale, the earlier
    snapshot's buckets lie within the later one's (cumulative buckets only grow), so the
    difference is one aligned pass.
    """
    if earlier.count == 0:
        return later
    scale = min(later.scale, earlier.scale)
    late, early = downscale(later, scale), downscale(earlier, scale)
    counts = list(late.counts)
    shift = early.offset - late.offset
    for position, count in enumerate(early.counts):
        index = position + shift
        if count and 0 <= index < len(counts):
            counts[index] -= count
    offset, trimmed = _trimmed(late.offset, counts)
    return ExpHistogram(
        count=max(0, later.count - earlier.count),
        sum=later.sum - earlier.sum,
        min=later.min,
        max=later.max,
        scale=scale,
        zero_count=max(0, later.zero_count - earlier.zero_count),
        offset=offset,
        counts=trimmed,
    )


def _common_scale(histograms: Sequence[ExpHistogram]) -> int:
    """The highest scale at which every histogram fits, together, in :data:`MAX_SIZE` buckets.

    Two series of one value each both stay at scale 20, where 0.1 s and 2 s lie 4.5 million
    buckets apart: merged as they are, they would need that many (the SDK's own merge of two
    values downscales the same way).
    """
    scale = min(h.scale for h in histograms)
    spans = [(h.offset, h.offset + len(h.counts) - 1, h.scale) for h in histograms if h.counts]
    if not spans:
        return scale
    while scale > -10:
        low = min(first >> (own - scale) for first, _, own in spans)
        high = max(last >> (own - scale) for _, last, own in spans)
        if high - low < MAX_SIZE:
            break
        scale -= 1
    return scale


def merge(histograms: Iterable[ExpHistogram]) -> ExpHistogram:
    """One histogram holding every value of ``histograms``, in at most :data:`MAX_SIZE` buckets."""
    present = [h for h in histograms if h.count]
    if not present:
        return EMPTY
    if len(present) == 1:
        return present[0]
    scale = _common_scale(present)
    scaled = [downscale(h, scale) for h in present]
    with_buckets = [h for h in scaled if h.counts]
    low = min((h.offset for h in with_buckets), default=0)
    high = max((h.offset + len(h.counts) for h in with_buckets), default=0)
    counts = [0] * (high - low)
    for histogram in with_buckets:
        base = histogram.offset - low
        for position, count in enumerate(histogram.counts):
            if count:
                counts[base + position] += count
    offset, trimmed = _trimmed(low, counts)
    return ExpHistogram(
        count=sum(h.count for h in present),
        sum=sum(h.sum for h in present),
        min=min(h.min for h in present),
        max=max(h.max for h in present),
        scale=scale,
        zero_count=sum(h.zero_count for h in present),
        offset=offset,
        counts=trimmed,
    )


def _estimate(index: int, scale: int) -> float:
    low = lower_boundary(index, scale)
    high = lower_boundary(index + 1, scale)
    return 2.0 * low * high / (low + high)


def _clamp(value: float, histogram: ExpHistogram) -> float:
    return min(max(value, histogram.min), histogram.max)


def quantile(histogram: ExpHistogram, q: float) -> float | None:
    """The nearest-rank ``q``-quantile (0 < q <= 1), within :func:`relative_error` of the exact one."""
    if not 0.0 < q <= 1.0:
        raise ValueError(f"quantile expects 0 < q <= 1, got {q}")
    if histogram.count == 0:
        return None
    rank = max(1, math.ceil(q * histogram.count - 1e-9))
    seen = histogram.zero_count
    if rank <= seen:
        return 0.0
    for position, count in enumerate(histogram.counts):
        seen += count
        if seen >= rank:
            return _clamp(_estimate(histogram.offset + position, histogram.scale), histogram)
    return histogram.max  # counts short of count (a difference that met a reset): the top is the max


def window_max(later: ExpHistogram, earlier: ExpHistogram, difference: ExpHistogram) -> float | None:
    """The largest value recorded between two snapshots of one series.

    Exact when it is also the largest since start (the cumulative max grew in between);
    otherwise the top non-empty bucket's estimate, within :func:`relative_error`.
    """
    if difference.count == 0:
        return None
    if earlier.count == 0 or later.max > earlier.max:
        return later.max
    for position in range(len(difference.counts) - 1, -1, -1):
        if difference.counts[position]:
            return _clamp(_estimate(difference.offset + position, difference.scale), later)
    return 0.0  # only zeros were recorded


def quantiles(histogram: ExpHistogram, qs: Sequence[float]) -> list[float | None]:
    return [quantile(histogram, q) for q in qs]
