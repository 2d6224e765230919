"""The end-of-demo summary: pure functions from span facts to sections of tables.

Per route (SERVER spans): count, errors and p50/p95/p99 latency. Per Bedrock call name
(CLIENT spans only, so an agent's step spans never count its tokens twice): calls, errors,
tokens (input as the GenAI convention counts it, cached tokens included, and the cache
reads and writes among them), cost and the median time to first chunk of streamed calls.

The summary is a list of :class:`Section`; other modules add theirs
(:mod:`otel_chatbot.demo.experience`), and :func:`table` lays out any of their tables.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class BedrockStats:
    name: str
    calls: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    ttfc_p50_s: float | None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class Summary:
    spans: int
    routes: tuple[RouteStats, ...]
    bedrock: tuple[BedrockStats, ...]
    bedrock_total: BedrockStats


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


def _bedrock_stats(name: str, spans: Sequence[SpanFacts]) -> BedrockStats:
    ttfc = [span.ttfc_s for span in spans if span.ttfc_s is not None]
    return BedrockStats(
        name,
        len(spans),
        sum(span.error for span in spans),
        sum(span.input_tokens for span in spans),
        sum(span.output_tokens for span in spans),
        sum(span.cost_usd or 0.0 for span in spans),
        percentile(ttfc, 50),
        sum(span.cache_read_tokens for span in spans),
        sum(span.cache_write_tokens for span in spans),
    )


def grouped(spans: Iterable[SpanFacts]) -> dict[str, list[SpanFacts]]:
    groups: dict[str, list[SpanFacts]] = {}
    for span in spans:
        groups.setdefault(span.name, []).append(span)
    return dict(sorted(groups.items()))


def summarize(facts: Sequence[SpanFacts]) -> Summary:
    servers = [span for span in facts if span.kind == "SERVER"]
    calls = [span for span in facts if span.bedrock]
    return Summary(
        spans=len(facts),
        routes=tuple(_route_stats(name, group) for name, group in grouped(servers).items()),
        bedrock=tuple(_bedrock_stats(name, group) for name, group in grouped(calls).items()),
        bedrock_total=_bedrock_stats("all Bedrock calls", calls),
    )


@dataclass(frozen=True)
class Section:
    """One part of the summary: a title line and what follows it."""

    title: str
    lines: tuple[str, ...]


def format_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned first column, right-aligned numbers."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [header, *rows]
    ]


BEDROCK_HEADER = (
    "call",
    "calls",
    "errors",
    "input tokens",
    "cache read",
    "cache write",
    "output tokens",
    "cost USD",
    "ttfc p50 ms",
)


def _bedrock_row(stats: BedrockStats) -> list[str]:
    return [
        stats.name,
        str(stats.calls),
        str(stats.errors),
        str(stats.input_tokens),
        str(stats.cache_read_tokens),
        str(stats.cache_write_tokens),
        str(stats.output_tokens),
        f"{stats.cost_usd:.6f}",
        format_ms(stats.ttfc_p50_s),
    ]


def sections(summary: Summary, bedrock_check: str | None = None) -> list[Section]:
    """The routes and Bedrock sections; ``bedrock_check`` closes the Bedrock one (the server's own count)."""
    route_rows = [
        [r.name, str(r.count), str(r.errors), format_ms(r.p50_s), format_ms(r.p95_s), format_ms(r.p99_s)]
        for r in summary.routes
    ]
    routes = table(["route", "spans", "errors", "p50", "p95", "p99"], route_rows or [["(none)", *"-----"]])
    bedrock = table(BEDROCK_HEADER, [_bedrock_row(stats) for stats in (*summary.bedrock, summary.bedrock_total)])
    if bedrock_check is not None:
        bedrock.append(f"(cross-check: {bedrock_check})")
    return [
        Section("Server spans per route (latency in ms):", tuple(routes)),
        Section("Bedrock calls (input tokens include the cache reads and writes):", tuple(bedrock)),
    ]


def render_sections(heading: str, parts: Sequence[Section]) -> str:
    lines = [heading]
    for section in parts:
        lines += ["", section.title, *section.lines]
    return "\n".join(lines)


def render(summary: Summary, bedrock_check: str | None = None, extra: Sequence[Section] = ()) -> str:
    """The whole summary: a heading, the routes and Bedrock sections, then ``extra`` sections."""
    return render_sections(f"Summary of {summary.spans} spans", [*sections(summary, bedrock_check), *extra])
