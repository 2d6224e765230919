"""The end-of-demo summary: a pure function from span facts to tables.

Per route (SERVER spans): count, errors and p50/p95/p99 latency. Per Bedrock call name
(CLIENT spans only, so an agent's step spans never count its tokens twice): calls, errors,
tokens, cost and the median time to first chunk of streamed calls.
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
    )


def _grouped(spans: Iterable[SpanFacts]) -> dict[str, list[SpanFacts]]:
    groups: dict[str, list[SpanFacts]] = {}
    for span in spans:
        groups.setdefault(span.name, []).append(span)
    return dict(sorted(groups.items()))


def summarize(facts: Sequence[SpanFacts]) -> Summary:
    servers = [span for span in facts if span.kind == "SERVER"]
    calls = [span for span in facts if span.bedrock]
    return Summary(
        spans=len(facts),
        routes=tuple(_route_stats(name, group) for name, group in _grouped(servers).items()),
        bedrock=tuple(_bedrock_stats(name, group) for name, group in _grouped(calls).items()),
        bedrock_total=_bedrock_stats("all Bedrock calls", calls),
    )


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned first column, right-aligned numbers."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [header, *rows]
    ]


def _bedrock_row(stats: BedrockStats) -> list[str]:
    return [
        stats.name,
        str(stats.calls),
        str(stats.errors),
        str(stats.input_tokens),
        str(stats.output_tokens),
        f"{stats.cost_usd:.6f}",
        _ms(stats.ttfc_p50_s),
    ]


def render(summary: Summary) -> str:
    route_rows = [
        [r.name, str(r.count), str(r.errors), _ms(r.p50_s), _ms(r.p95_s), _ms(r.p99_s)] for r in summary.routes
    ]
    lines = [f"Summary of {summary.spans} spans", "", "Server spans per route (latency in ms):"]
    lines += _table(["route", "spans", "errors", "p50", "p95", "p99"], route_rows or [["(none)", *"-----"]])
    lines += ["", "Bedrock calls:"]
    bedrock_rows = [_bedrock_row(stats) for stats in (*summary.bedrock, summary.bedrock_total)]
    lines += _table(
        ["call", "calls", "errors", "input tokens", "output tokens", "cost USD", "ttfc p50 ms"], bedrock_rows
    )
    return "\n".join(lines)
