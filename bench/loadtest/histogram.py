"""Latency percentiles from an HdrHistogram, not from Locust's response-time dict.

Why not Locust's own histogram: ``locust.stats.bucket_response_time`` rounds every sample to
about two significant digits -- to the whole millisecond below 100 ms, to 10 ms up to 1 s,
to 100 ms up to 10 s. Against a chatbot on loopback (a few ms per turn) that is a 10-50 %
error on p50, and around the 200 ms SLO a p95 can only move in 10 ms steps, so a 4 % real
regression is invisible or doubled. HdrHistogram with 3 significant digits bounds the
error at 0.1 % over the whole range, in constant memory, and its encoding can be stored in
the result file and merged later. Locust's stats are still kept for its own bookkeeping.

Samples are recorded in microseconds (1 us to 10 min). A value is reported as the upper
edge of its bucket (HdrHistogram's convention), so at most 0.1 % above the true sample;
min and max are tracked exactly beside the histogram.
"""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

from bench.loadtest.schema import Latency

LOWEST_US = 1
HIGHEST_US = 600_000_000
"""Ten minutes: longer samples are clamped (and still counted)."""
SIGNIFICANT_DIGITS = 3


class LatencyHistogram:
    """Milliseconds in, percentiles out; one per endpoint and metric."""

    def __init__(self) -> None:
        self._hdr = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
        self._min_ms = float("inf")
        self._max_ms = 0.0
        self._sum_ms = 0.0

    @property
    def count(self) -> int:
        return int(self._hdr.get_total_count())

    def record(self, ms: float) -> None:
        ms = max(ms, 0.0)
        micros = min(max(round(ms * 1000.0), LOWEST_US), HIGHEST_US)
        self._hdr.record_value(micros)
        self._min_ms = min(self._min_ms, ms)
        self._max_ms = max(self._max_ms, ms)
        self._sum_ms += ms

    def percentile(self, percent: float) -> float:
        """The value (ms) at or below which ``percent`` % of samples fall; 0 when empty."""
        if not self.count:
            return 0.0
        value = self._hdr.get_value_at_percentile(percent) / 1000.0
        # The bucket's upper edge may overshoot the largest sample; never report past it.
        return float(min(max(value, self._min_ms), self._max_ms))

    def summary(self) -> Latency | None:
        if not self.count:
            return None
        return Latency(
            count=self.count,
            min=round(self._min_ms, 3),
            mean=round(self._sum_ms / self.count, 3),
            p50=round(self.percentile(50.0), 3),
            p90=round(self.percentile(90.0), 3),
            p95=round(self.percentile(95.0), 3),
            p99=round(self.percentile(99.0), 3),
            max=round(self._max_ms, 3),
        )

    def encode(self) -> str | None:
        """HdrHistogram's compressed base64 form (microseconds), for the result file."""
        if not self.count:
            return None
        encoded = self._hdr.encode()
        return encoded.decode("ascii") if isinstance(encoded, bytes) else str(encoded)


def decode_percentile(encoded: str, percent: float) -> float:
    """A percentile (ms) straight from a stored histogram, e.g. one the report did not list."""
    hdr = HdrHistogram.decode(encoded)
    return float(hdr.get_value_at_percentile(percent)) / 1000.0
