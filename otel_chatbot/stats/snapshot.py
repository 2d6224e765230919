"""One collection of the stats reader, kept small: the series the view reads, nothing else.

A :class:`Snapshot` maps each series — a metric name and its attribute set, whatever the
instrumentation scope — to a number (counters, up-down counters, gauges: the cumulative
value) or to an :class:`~otel_chatbot.stats.exponential.ExpHistogram`. The ring holds
hundreds of snapshots, so a series that did not change since the previous snapshot shares
its object with it, and attribute tuples are interned: an idle service costs a few
hundred bytes per snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from otel_chatbot.stats.exponential import ExpHistogram, merge

Attributes = tuple[tuple[str, Any], ...]
SeriesKey = tuple[str, Attributes]


@dataclass(frozen=True)
class Snapshot:
    """The reader's view of the SDK's aggregates at monotonic time ``at`` (seconds)."""

    at: float
    values: Mapping[SeriesKey, float] = field(default_factory=dict)
    histograms: Mapping[SeriesKey, ExpHistogram] = field(default_factory=dict)


class SnapshotBuilder:
    """Turns the SDK's ``MetricsData`` into snapshots that share what did not change."""

    def __init__(self, wanted: Iterable[str]) -> None:
        self.wanted = frozenset(wanted)
        self._keys: dict[SeriesKey, SeriesKey] = {}
        self._previous = Snapshot(0.0)

    def build(self, metrics_data: Any, at: float) -> Snapshot:
        values: dict[SeriesKey, float] = {}
        histograms: dict[SeriesKey, ExpHistogram] = {}
        for metric in _metrics(metrics_data):
            if metric.name not in self.wanted:
                continue
            for point in metric.data.data_points:
                key = self._key(metric.name, point.attributes)
                if hasattr(point, "positive"):  # an ExponentialHistogramDataPoint
                    histograms[key] = self._histogram(key, point, histograms.get(key))
                elif hasattr(point, "value"):  # a NumberDataPoint (sum or gauge)
                    values[key] = values.get(key, 0.0) + float(point.value)
                # an explicit-bucket HistogramDataPoint means a View overrode the reader's
                # aggregation for this instrument: no percentiles can come from it, skip.
        snapshot = Snapshot(at, values, histograms)
        self._previous = snapshot
        return snapshot

    def _key(self, name: str, attributes: Mapping[str, Any] | None) -> SeriesKey:
        key: SeriesKey = (name, tuple(sorted((attributes or {}).items())))
        return self._keys.setdefault(key, key)

    def _histogram(self, key: SeriesKey, point: Any, same_series: ExpHistogram | None) -> ExpHistogram:
        if same_series is not None:  # one series from two scopes: merge (rare; never shared)
            return merge([same_series, ExpHistogram.of_point(point)])
        previous = self._previous.histograms.get(key)
        if previous is not None and previous.count == point.count and previous.sum == point.sum:
            return previous
        return ExpHistogram.of_point(point)

    @property
    def series(self) -> int:
        """Distinct series seen so far (the interned keys)."""
        return len(self._keys)


def _metrics(metrics_data: Any) -> Iterable[Any]:
    if metrics_data is None:
        return
    for resource_metrics in metrics_data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            yield from scope_metrics.metrics
