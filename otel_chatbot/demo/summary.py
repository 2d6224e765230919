"""The end-of-demo summary: pure functions from span facts to sections of tables.

Per route (SERVER spans): count, errors and p50/p95/p99 latency. Per provider and call name
(CLIENT spans with ``gen_ai.provider.name``, so an agent's step spans never count its tokens
twice): calls, errors (the provider's, not streams the app closed early: those are
``cancelled``), tokens (input as the GenAI convention counts it, cached tokens included, and
the cache reads and writes among them), cost and the median time to first chunk of streamed
calls, with a total per provider and for all of them. Each provider's total is held against
its stand-in's own ledger (:class:`LedgerTotals`).

The summary is a list of :class:`Section`; other modules add theirs
(:mod:`otel_chatbot.demo.experience`, :mod:`otel_chatbot.demo.operators`), and :func:`table`
lays out any of their tables.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from otel_chatbot.demo.spans import SpanFacts


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; ``None`` when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class RouteStats:
    name: str
    count: int
    errors: int
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None


CANCELLED = "cancelled"
"""``error.type`` of a stream the app closed before its end: the app's choice, not the provider's error."""


@dataclass(frozen=True)
class CallStats:
    """Calls to one provider under one span name (``chat <model>``), or all of a provider's (``all``)."""

    provider: str
    name: str
    calls: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    ttfc_p50_s: float | None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cancelled: int = 0


@dataclass(frozen=True)
class Summary:
    spans: int
    routes: tuple[RouteStats, ...]
    calls: tuple[CallStats, ...]
    """Per provider, then per span name."""
    providers: tuple[CallStats, ...]
    """Per provider (name ``all``)."""
    total: CallStats


def _route_stats(name: str, spans: Sequence[SpanFacts]) -> RouteStats:
    durations = [span.duration_s for span in spans]
    return RouteStats(
        name,
        len(spans),
        sum(span.error for span in spans),
        percentile(durations, 50),
        percentile(durations, 95),
        percentile(durations, 99),
    )


def _call_stats(provider: str, name: str, spans: Sequence[SpanFacts]) -> CallStats:
    ttfc = [span.ttfc_s for span in spans if span.ttfc_s is not None]
    cancelled = sum(span.error_type == CANCELLED for span in spans)
    return CallStats(
        provider,
        name,
        len(spans),
        sum(span.error for span in spans) - cancelled,
        sum(span.input_tokens for span in spans),
        sum(span.output_tokens for span in spans),
        sum(span.cost_usd or 0.0 for span in spans),
        percentile(ttfc, 50),
        sum(span.cache_read_tokens for span in spans),
        sum(span.cache_write_tokens for span in spans),
        cancelled,
    )


def grouped(spans: Iterable[SpanFacts]) -> dict[str, list[SpanFacts]]:
    groups: dict[str, list[SpanFacts]] = {}
    for span in spans:
        groups.setdefault(span.name, []).append(span)
    return dict(sorted(groups.items()))


def summarize(facts: Sequence[SpanFacts]) -> Summary:
    servers = [span for span in facts if span.kind == "SERVER"]
    calls = [span for span in facts if span.kind == "CLIENT" and span.provider is not None]
    by_provider: dict[str, list[SpanFacts]] = {}
    for span in calls:
        by_provider.setdefault(span.provider or "", []).append(span)
    return Summary(
        spans=len(facts),
        routes=tuple(_route_stats(name, group) for name, group in grouped(servers).items()),
        calls=tuple(
            _call_stats(provider, name, group)
            for provider, spans in sorted(by_provider.items())
            for name, group in grouped(spans).items()
        ),
        providers=tuple(_call_stats(provider, "all", spans) for provider, spans in sorted(by_provider.items())),
        total=_call_stats("all providers", "", calls),
    )


@dataclass(frozen=True)
class LedgerTotals:
    """What a provider stand-in itself counted (its ledger's totals), input as the convention counts it."""

    calls: int
    input_tokens: int
    output_tokens: int
    errors: int

    @classmethod
    def from_json(cls, totals: Mapping[str, Any], input_includes_cache: bool = False) -> LedgerTotals:
        """A ledger's ``totals``; ``input_includes_cache``: the wire's input already counts cached tokens (OpenAI)."""
        cached = 0 if input_includes_cache else totals["cache_read_input_tokens"] + totals["cache_write_input_tokens"]
        errors = sum(totals["errors"].values())
        return cls(totals["calls"], totals["input_tokens"] + cached, totals["output_tokens"], errors)

    def sides(self, stats: CallStats) -> tuple[tuple[str, int, int], ...]:
        """(what, telemetry, ledger) for every count both sides have."""
        return (
            ("calls", stats.calls, self.calls),
            ("input", stats.input_tokens, self.input_tokens),
            ("output", stats.output_tokens, self.output_tokens),
            ("errors", stats.errors, self.errors),
        )


@dataclass(frozen=True)
class Section:
    """One part of the summary: a title line and what follows it."""

    title: str
    lines: tuple[str, ...]


def format_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """The first ``left`` columns (names) left-aligned, the numbers after them right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(widths[i]) if i < left else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [header, *rows]
    ]


CALL_HEADER = (
    "provider",
    "call",
    "calls",
    "errors",
    "cancelled",
    "input tokens",
    "cache read",
    "cache write",
    "output tokens",
    "cost USD",
    "ttfc p50 ms",
)


def _call_row(stats: CallStats) -> list[str]:
    return [
        stats.provider,
        stats.name,
        str(stats.calls),
        str(stats.errors),
        str(stats.cancelled),
        str(stats.input_tokens),
        str(stats.cache_read_tokens),
        str(stats.cache_write_tokens),
        str(stats.output_tokens),
        f"{stats.cost_usd:.6f}",
        format_ms(stats.ttfc_p50_s),
    ]


def ledger_check(summary: Summary, ledgers: Mapping[str, LedgerTotals]) -> list[str]:
    """One line per provider with a ledger: each count next to the stand-in's own, and whether they agree."""
    found = {stats.provider: stats for stats in summary.providers}
    empty = CallStats("", "all", 0, 0, 0, 0, 0.0, None)
    rows = {provider: ledger.sides(found.get(provider, empty)) for provider, ledger in sorted(ledgers.items())}
    verdict = "all equal" if all(t == s for sides in rows.values() for _, t, s in sides) else "MISMATCH"
    width = max((len(provider) for provider in rows), default=0)
    lines = [f"Cross-check, telemetry vs each stand-in's own ledger ({verdict}):"]
    for provider, sides in rows.items():
        cells = "  ".join(f"{what} {t} {'=' if t == s else '!='} {s}" for what, t, s in sides)
        lines.append(f"  {provider:<{width}}  {cells}")
    return lines


def sections(summary: Summary, ledgers: Mapping[str, LedgerTotals] | None = None) -> list[Section]:
    """The routes and Providers sections; ``ledgers`` (by provider) close the Providers one."""
    route_rows = [
        [r.name, str(r.count), str(r.errors), format_ms(r.p50_s), format_ms(r.p95_s), format_ms(r.p99_s)]
        for r in summary.routes
    ]
    routes = table(["route", "spans", "errors", "p50", "p95", "p99"], route_rows or [["(none)", *"-----"]])
    rows: list[CallStats] = []
    for provider in summary.providers:
        rows += [stats for stats in summary.calls if stats.provider == provider.provider]
        rows.append(provider)
    providers = table(CALL_HEADER, [_call_row(stats) for stats in (*rows, summary.total)], left=2)
    if ledgers:
        providers += ["", *ledger_check(summary, ledgers)]
    return [
        Section("Server spans per route (latency in ms):", tuple(routes)),
        Section(
            "Providers (CLIENT spans; input tokens include the cache reads and writes; errors: the provider's; "
            "cancelled: streams the app closed early):",
            tuple(providers),
        ),
    ]


@dataclass(frozen=True)
class Check:
    """One count seen from both ends: what the telemetry says, what the clients did."""

    telemetry_side: str
    telemetry: int
    client_side: str
    clients: int

    @property
    def equal(self) -> bool:
        return self.telemetry == self.clients


def check_lines(against: str, checks: Sequence[Check], cut_off: int = 0) -> list[str]:
    """A cross-check's verdict line, then each count next to the clients' own.

    ``cut_off``: steps the load's deadline cut off midway; the server saw those clients leave,
    the clients never finished counting, so a mismatch is then expected and said why.
    """
    verdict = "all equal" if all(c.equal for c in checks) else "MISMATCH"
    if cut_off and verdict != "all equal":
        verdict += f": {cut_off} steps were cut off by the deadline, their clients' counts are partial"
    width = max(len(c.telemetry_side) for c in checks)
    return [
        f"Cross-check, telemetry vs {against} ({verdict}):",
        *(
            f"  {c.telemetry_side:<{width}}  {c.telemetry:>5} {'=' if c.equal else '!='} {c.clients:<5} {c.client_side}"
            for c in checks
        ),
    ]


def render_sections(heading: str, parts: Sequence[Section]) -> str:
    lines = [heading]
    for section in parts:
        lines += ["", section.title, *section.lines]
    return "\n".join(lines)


def render(summary: Summary, ledgers: Mapping[str, LedgerTotals] | None = None, extra: Sequence[Section] = ()) -> str:
    """The whole summary: a heading, the routes and Providers sections, then ``extra`` sections."""
    return render_sections(f"Summary of {summary.spans} spans", [*sections(summary, ledgers), *extra])
