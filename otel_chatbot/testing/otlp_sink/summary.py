"""Human-readable digest of what a sink received, for timeout messages."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from otel_chatbot.testing.otlp_sink.records import LogEntry, MetricPoint, SpanRecord
from otel_chatbot.testing.otlp_sink.store import SinkStats

_SHOWN = 20


class _Queryable(Protocol):
    def stats(self) -> SinkStats: ...
    def spans(self, name: str | None = None) -> list[SpanRecord]: ...
    def metric_points(self, name: str | None = None) -> list[MetricPoint]: ...
    def logs(self) -> list[LogEntry]: ...


def summarize(sink: _Queryable) -> str:
    """Counters plus the most frequent span names, metric names and log bodies."""
    stats = sink.stats()
    lines = [
        f"received requests={stats.requests} items={stats.items} "
        f"rejected={stats.rejected} refused={stats.refused} abandoned={stats.abandoned}",
        _top("spans", Counter(f"{s.name} [{s.kind}]" for s in sink.spans())),
        _top("metrics", Counter(f"{p.name} ({p.type})" for p in sink.metric_points())),
        _top("logs", Counter(repr(entry.body)[:80] for entry in sink.logs())),
    ]
    return "\n".join(lines)


def _top(label: str, counts: Counter[str]) -> str:
    if not counts:
        return f"  {label}: none stored"
    shown = ", ".join(f"{key} x{n}" for key, n in counts.most_common(_SHOWN))
    more = f" (+{len(counts) - _SHOWN} more)" if len(counts) > _SHOWN else ""
    return f"  {label}: {shown}{more}"
