"""The stats reader: a second in-process MetricReader on the app's MeterProvider.

It aggregates the very measurements the exporting readers aggregate — each is recorded
once, and the SDK hands it to one aggregation per reader — so the live view and the
exported metrics can never disagree about what happened. Two choices are this reader's own:

* **exponential histograms** (``max_size`` 160) for every Histogram instrument, where the
  exporting readers keep the instruments' advised explicit buckets: percentiles with a
  stated relative error (:mod:`otel_chatbot.stats.exponential`) instead of a bucket's width;
* **cumulative** temporality for everything, sampled once per interval into a
  :class:`~otel_chatbot.stats.ring.SnapshotRing`: a window is a difference of two snapshots.

**Cost** (``bench/stats_reader.py``, figures in ``bench/README.md``). Nothing changes in the
request path's code, but the SDK fans every measurement out to each reader's aggregation:
a histogram record costs ~5.8 µs more with this reader (5.9 → 11.8 µs for ``Bound.record``),
nearly all of it the SDK's exponential aggregation (a second explicit-bucket reader would
add ~1.2 µs). Opt-in for that reason. The rest is paid off the request path, on the
sampler's thread once per interval: ~4 ms of CPU per collection for 63 series (the SDK's
collection for this reader, then the snapshot), plus upstream's process-metrics callbacks
(~1.1 ms, ``instrumentation/process_metrics.py``) when enabled; :attr:`StatsReader.collect_cpu_s`
keeps what the last collections cost, and the view reports it. Memory: ~5 MB for those
63 series with the ring full (86 snapshots, 4 bytes a bucket, unchanged series shared).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.metrics import Histogram
from opentelemetry.sdk.metrics.export import MetricReader, MetricsData
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation

from otel_chatbot.stats import names
from otel_chatbot.stats.exponential import MAX_SIZE
from otel_chatbot.stats.ring import MAX_WINDOW_S, SnapshotRing
from otel_chatbot.stats.snapshot import Snapshot, SnapshotBuilder

CARDINALITY_LIMIT = 500
"""Attribute sets per instrument this reader keeps (the rest fold into the SDK's overflow series)."""

_COST_SAMPLES = 60
PEAKED = (names.HTTP_ACTIVE, names.WS_ACTIVE)


class StatsReader(MetricReader):
    """Pull-only: :meth:`sample` collects one snapshot (the sampler thread calls it every interval)."""

    def __init__(
        self,
        *,
        window_s: float = MAX_WINDOW_S,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            preferred_aggregation={Histogram: ExponentialBucketHistogramAggregation(max_size=MAX_SIZE)},
            cardinality_limits={Histogram: CARDINALITY_LIMIT},
        )
        self.interval_s = interval_s
        self.ring = SnapshotRing(window_s, interval_s)
        self.clock = clock
        self.started_at = clock()
        self._builder = SnapshotBuilder(names.READ)
        self._lock = threading.Lock()
        self.peaks: dict[str, float] = {}
        """Since start, the largest level of each up-down counter in :data:`PEAKED`."""
        self.samples = 0
        self._received: Snapshot | None = None
        self.collect_cpu_s: deque[float] = deque(maxlen=_COST_SAMPLES)

    def sample(self) -> Snapshot | None:
        """Collect now and append the snapshot to the ring (an empty one before the first measurement)."""
        with self._lock:  # one collection at a time: the ring stays in time order
            self._received = None
            started = time.thread_time()
            self.collect()
            if self._received is None:  # the SDK passes nothing on before the first measurement
                self._receive_metrics(MetricsData(resource_metrics=[]))
            self.collect_cpu_s.append(time.thread_time() - started)
            return self._received

    def _receive_metrics(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> None:
        snapshot = self._builder.build(metrics_data, self.clock())
        levels = {name: found for name in PEAKED if (found := level(snapshot, name)) is not None}
        for name, current in levels.items():
            self.peaks[name] = max(self.peaks.get(name, current), current)
        self.samples += 1
        self.ring.append(snapshot, levels)
        self._received = snapshot

    @property
    def series(self) -> int:
        return self._builder.series

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Nothing to flush: the view is pulled (a flush must not add an off-schedule snapshot)."""
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def level(snapshot: Snapshot, name: str) -> float | None:
    """The current value of an up-down counter (or gauge), summed over its attribute sets; None if absent."""
    found = [value for (metric, _), value in snapshot.values.items() if metric == name]
    return sum(found) if found else None
