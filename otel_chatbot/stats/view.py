"""The live view: what happened over a window, computed from two snapshots. Pure.

A :class:`Period` is the difference between the newest snapshot and an older one (the
window's base), or the newest snapshot alone (since start). Counters are differenced,
histograms subtracted bucket by bucket (:func:`~otel_chatbot.stats.exponential.subtract`)
and merged across attribute sets; levels (in-flight requests, open WebSockets, memory)
are the newest values, and peaks the largest level among the snapshots of the window.

The sections follow what an operator asks first: HTTP per route and overall, GenAI per
provider and model, streams, WebSockets, the semantic cache and provider failover (only
when something records them), and the process.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from otel_chatbot.stats import names as n
from otel_chatbot.stats.exponential import (
    EMPTY,
    ExpHistogram,
    merge,
    quantile,
    relative_error,
    subtract,
    window_max,
)
from otel_chatbot.stats.snapshot import SeriesKey, Snapshot

PERCENTILES: tuple[tuple[str, float], ...] = (("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99))

G = TypeVar("G", bound=Hashable)
Where = Callable[[Mapping[str, Any]], bool]
Json = dict[str, Any]


def _everything(attributes: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class Period:
    """What was recorded after ``base`` (None: since the reader started) up to ``latest``.

    ``levels`` are the peaked levels sampled after the base up to the latest (every
    sample's, see :class:`~otel_chatbot.stats.ring.SnapshotRing`); ``seconds`` the time the
    period really covers. Bucket differences are computed once per series, on first use.
    """

    latest: Snapshot
    base: Snapshot | None
    seconds: float
    levels: Sequence[Mapping[str, float]] = ()
    _index: dict[str, list[tuple[SeriesKey, dict[str, Any]]]] = field(default_factory=dict, compare=False, repr=False)
    _differences: dict[SeriesKey, ExpHistogram] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for key in (*self.latest.values, *self.latest.histograms):
            self._index.setdefault(key[0], []).append((key, dict(key[1])))

    def has(self, name: str) -> bool:
        return name in self._index

    def keys(self, name: str, where: Where = _everything) -> list[SeriesKey]:
        return [key for key, attributes in self._index.get(name, ()) if where(attributes)]

    def amount(self, name: str, where: Where = _everything) -> float:
        """How much a counter grew (or a histogram's sum), over matching attribute sets."""
        total = 0.0
        for key in self.keys(name, where):
            if key in self.latest.values:
                total += self.latest.values[key] - (self.base.values.get(key, 0.0) if self.base else 0.0)
            else:
                later, earlier = self._pair(key)
                total += later.sum - earlier.sum
        return total

    def count(self, name: str, where: Where = _everything) -> int:
        """Values a histogram recorded in the period, over matching attribute sets."""
        total = 0
        for key in self.keys(name, where):
            if key in self.latest.histograms:
                later, earlier = self._pair(key)
                total += max(0, later.count - earlier.count)
        return total

    def level(self, name: str, where: Where = _everything) -> float | None:
        """The newest value of an up-down counter or gauge, summed; None when nothing reports it."""
        keys = [key for key in self.keys(name, where) if key in self.latest.values]
        return sum(self.latest.values[key] for key in keys) if keys else None

    def peak(self, name: str) -> float | None:
        """The largest level sampled in the period (the latest included)."""
        if not self.has(name):
            return None
        sampled = [levels[name] for levels in self.levels if name in levels]
        return max([*sampled, self.level(name) or 0.0])

    def distribution(self, name: str, where: Where = _everything) -> Json | None:
        """Count, average, percentiles and max of a histogram's values in the period (None if none)."""
        keys = [key for key in self.keys(name, where) if key in self.latest.histograms]
        return distribution([(*self._pair(key), self._difference(key)) for key in keys])

    def groups(self, name: str, group_of: Callable[[Mapping[str, Any]], G]) -> dict[G, Where]:
        """One attribute filter per distinct ``group_of(attributes)`` among the series of ``name``.

        Each series' group is computed once for all the filters (a route table would
        otherwise recompute it for every route and every series).
        """
        known: dict[int, Hashable] = {}
        found: dict[G, None] = {}
        for _, attributes in self._index.get(name, ()):
            group = group_of(attributes)
            known[id(attributes)] = group  # the Period's own dicts: ids stay unique while it lives
            found.setdefault(group)
        return {group: _Member(group_of, group, known) for group in found}

    def _pair(self, key: SeriesKey) -> tuple[ExpHistogram, ExpHistogram]:
        earlier = self.base.histograms.get(key, EMPTY) if self.base else EMPTY
        return self.latest.histograms[key], earlier

    def _difference(self, key: SeriesKey) -> ExpHistogram:
        difference = self._differences.get(key)
        if difference is None:
            difference = self._differences[key] = subtract(*self._pair(key))
        return difference


class _Member:
    """Whether a series belongs to one group, with the groups computed once per series."""

    __slots__ = ("group", "group_of", "known")

    def __init__(self, group_of: Callable[[Mapping[str, Any]], Hashable], group: Hashable, known: dict[int, Hashable]):
        self.group_of, self.group, self.known = group_of, group, known

    def __call__(self, attributes: Mapping[str, Any]) -> bool:
        found = self.known.get(id(attributes), _UNKNOWN)
        return (self.group_of(attributes) if found is _UNKNOWN else found) == self.group


_UNKNOWN = object()


def attribute_is(name: str, value: object, within: Where = _everything) -> Where:
    """The attribute sets of ``within`` whose ``name`` equals ``value``."""
    return lambda attributes: within(attributes) and attributes.get(name) == value


def _by_token_type(period: Period, metric: str, where: Where = _everything) -> dict[str, int]:
    types = {dict(key[1]).get(n.TOKEN_TYPE) for key in period.keys(metric, where)} - {None}
    return {str(t): round(period.amount(metric, attribute_is(n.TOKEN_TYPE, t, where))) for t in sorted(types, key=str)}


def distribution(series: Iterable[tuple[ExpHistogram, ExpHistogram, ExpHistogram]]) -> Json | None:
    """One summary of several series' (later, earlier, difference) histograms, merged."""
    differences: list[ExpHistogram] = []
    maxima: list[float] = []
    for later, earlier, difference in series:
        if difference.count:
            differences.append(difference)
            top = window_max(later, earlier, difference)
            if top is not None:
                maxima.append(top)
    merged = merge(differences)
    if merged.count == 0:
        return None
    summary: Json = {"count": merged.count, "avg": _round(merged.sum / merged.count)}
    for label, q in PERCENTILES:
        summary[label] = _round(quantile(merged, q))
    summary["max"] = _round(max(maxima)) if maxima else None
    summary["relative_error"] = float(f"{relative_error(merged.scale):.3g}")
    return summary


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _rate(amount: float, seconds: float) -> float | None:
    return round(amount / seconds, 4) if seconds > 0 else None


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


# --- sections ----------------------------------------------------------------------------


def _http_error(attributes: Mapping[str, Any]) -> bool:
    status = attributes.get(n.STATUS)
    return n.ERROR_TYPE in attributes or (isinstance(status, int) and status >= 500)


def _requests(period: Period, where: Where) -> Json:
    requests = period.count(n.HTTP_DURATION, where)
    errors = period.count(n.HTTP_DURATION, lambda a: where(a) and _http_error(a))
    return {
        "requests": requests,
        "rate": _rate(requests, period.seconds),
        "errors": errors,
        "error_rate": _ratio(errors, requests),
        "latency_s": period.distribution(n.HTTP_DURATION, where),
    }


def _status_class(attributes: Mapping[str, Any]) -> str:
    return str(attributes.get(n.STATUS, "?"))[:1]


def _route_of(attributes: Mapping[str, Any]) -> tuple[str, str]:
    return str(attributes.get(n.METHOD, "")), str(attributes.get(n.ROUTE, ""))


def http_section(period: Period, peak_since_start: float | None) -> Json:
    overall = _requests(period, _everything)
    overall["active"] = period.level(n.HTTP_ACTIVE)
    overall["peak_active"] = period.peak(n.HTTP_ACTIVE) if period.base is not None else peak_since_start
    overall["status"] = {
        f"{cls}xx": period.count(n.HTTP_DURATION, where)
        for cls, where in sorted(period.groups(n.HTTP_DURATION, _status_class).items(), key=lambda item: str(item[0]))
    }
    routes = []
    for group, where in period.groups(n.HTTP_DURATION, _route_of).items():
        method, route = group
        entry: Json = {"method": method, "route": route or None}
        entry.update(_requests(period, where))
        if entry["requests"]:
            routes.append(entry)
    routes.sort(key=lambda r: (-r["requests"], r["route"] or "", r["method"]))
    return {"overall": overall, "routes": routes}


def _model_of(attributes: Mapping[str, Any]) -> tuple[str, str]:
    model = attributes.get(n.REQUEST_MODEL) or attributes.get(n.RESPONSE_MODEL) or "unknown"
    return str(attributes.get(n.PROVIDER, "unknown")), str(model)


def _genai_totals(period: Period, where: Where) -> Json:
    calls = period.count(n.GENAI_DURATION, where)
    tokens = _by_token_type(period, n.GENAI_TOKENS, where)
    cost = period.amount(n.GENAI_COST, where)
    per_minute = _rate(sum(tokens.values()) * 60, period.seconds)
    return {
        "calls": calls,
        "rate": _rate(calls, period.seconds),
        "errors": period.count(n.GENAI_DURATION, lambda a: where(a) and n.ERROR_TYPE in a),
        "throttles": round(period.amount(n.GENAI_THROTTLES, where)),
        "tokens": tokens,
        "tokens_per_min": None if per_minute is None else round(per_minute, 1),
        "cost_usd": _round(cost),
        "cost_per_hour_usd": _round(cost * 3600 / period.seconds) if period.seconds > 0 else None,
    }


def genai_section(period: Period) -> Json:
    models = []
    seen: dict[tuple[str, str], Where] = {}
    for metric in (n.GENAI_DURATION, n.GENAI_TOKENS, n.GENAI_COST, n.GENAI_THROTTLES):
        for group, where in period.groups(metric, _model_of).items():
            seen.setdefault(group, where)
    for group, where in seen.items():
        provider, model = group
        entry: Json = {"provider": provider, "model": model}
        entry.update(_genai_totals(period, where))
        entry["latency_s"] = period.distribution(n.GENAI_DURATION, where)
        entry["ttft_s"] = period.distribution(n.GENAI_TTFT, where)
        if entry["calls"] or entry["throttles"] or entry["tokens"]:
            models.append(entry)
    models.sort(key=lambda m: (-m["calls"], m["provider"], m["model"]))
    overall = _genai_totals(period, _everything)
    overall["latency_s"] = period.distribution(n.GENAI_DURATION)
    overall["ttft_s"] = period.distribution(n.GENAI_TTFT)
    return {"overall": overall, "models": models}


def streams_section(period: Period) -> Json:
    outcomes = {
        str(outcome): period.count(n.STREAM_DURATION, where)
        for outcome, where in period.groups(n.STREAM_DURATION, lambda a: a.get(n.STREAM_OUTCOME, "unknown")).items()
    }
    total = sum(outcomes.values())
    return {
        "streams": total,
        "rate": _rate(total, period.seconds),
        "outcomes": dict(sorted(outcomes.items())),
        "time_to_first_byte_s": period.distribution(n.STREAM_TTFB),
    }


def websockets_section(period: Period, peak_since_start: float | None) -> Json:
    return {
        "active": period.level(n.WS_ACTIVE),
        "peak_active": period.peak(n.WS_ACTIVE) if period.base is not None else peak_since_start,
        "closed": period.count(n.WS_CONNECTION_DURATION),
        "messages_received": round(period.amount(n.WS_MESSAGES, attribute_is(n.WS_DIRECTION, "received"))),
        "messages_sent": round(period.amount(n.WS_MESSAGES, attribute_is(n.WS_DIRECTION, "sent"))),
        "turn_time_to_first_message_s": period.distribution(n.WS_TURN),
    }


def _cache_totals(period: Period, where: Where) -> Json:
    results = {
        result: round(period.amount(n.CACHE_LOOKUPS, attribute_is(n.CACHE_RESULT, result, where)))
        for result in ("hit", "miss", "error")
    }
    lookups = round(period.amount(n.CACHE_LOOKUPS, where))
    return {"lookups": lookups, **results, "hit_ratio": _ratio(results["hit"], lookups)}


def cache_section(period: Period) -> Json | None:
    """None when nothing records cache lookups (no ``cache_lookup()`` in this app)."""
    if not period.has(n.CACHE_LOOKUPS):
        return None
    section = _cache_totals(period, _everything)
    section["saved_tokens"] = _by_token_type(period, n.CACHE_SAVED_TOKENS)
    section["saved_cost_usd"] = _round(period.amount(n.CACHE_SAVED_COST))
    section["lookup_s"] = period.distribution(n.CACHE_DURATION)
    section["caches"] = [
        {"name": name, **_cache_totals(period, where)}
        for name, where in period.groups(n.CACHE_LOOKUPS, lambda a: str(a.get(n.CACHE_NAME, ""))).items()
    ]
    return section


def failover_section(period: Period) -> Json | None:
    """None when nothing records failover chains (no ``failover()`` in this app)."""
    if not any(period.has(name) for name in (n.FAILOVER_CHAINS, n.FAILOVER_ATTEMPTS, n.FAILOVER_SWITCHES)):
        return None
    chains = round(period.amount(n.FAILOVER_CHAINS))
    exhausted = round(period.amount(n.FAILOVER_CHAINS, attribute_is(n.FAILOVER_OUTCOME, n.CHAIN_EXHAUSTED)))
    overhead = period.distribution(n.FAILOVER_OVERHEAD)
    switched = overhead["count"] if overhead else 0
    return {
        "chains": chains,
        "served": chains - exhausted,
        "exhausted": exhausted,
        "switched": switched,
        "switch_ratio": _ratio(switched, chains),
        "switches": round(period.amount(n.FAILOVER_SWITCHES)),
        "attempts": round(period.amount(n.FAILOVER_ATTEMPTS)),
        "failed_attempts": round(period.amount(n.FAILOVER_ATTEMPTS, lambda a: n.ERROR_TYPE in a)),
        "overhead_s": overhead,
    }


def process_section(period: Period) -> Json:
    cpu = period.amount(n.CPU_TIME) if period.has(n.CPU_TIME) else None
    return {
        "cpu_s": _round(cpu),
        "cpu_cores": _rate(cpu, period.seconds) if cpu is not None else None,
        "rss_bytes": period.level(n.MEMORY_USAGE),
        "threads": period.level(n.THREADS),
        "loop_lag_s": period.distribution(n.LOOP_LAG),
    }


def summarize(period: Period, peaks_since_start: Mapping[str, float] | None = None) -> Json:
    """Every section of the view for one period."""
    peaks = peaks_since_start or {}
    return {
        "seconds": round(period.seconds, 3),
        "http": http_section(period, peaks.get(n.HTTP_ACTIVE)),
        "genai": genai_section(period),
        "streams": streams_section(period),
        "websockets": websockets_section(period, peaks.get(n.WS_ACTIVE)),
        "cache": cache_section(period),
        "failover": failover_section(period),
        "process": process_section(period),
    }
