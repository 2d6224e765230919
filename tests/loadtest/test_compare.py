"""The before/after report: a table of changes, each with the verdict it must get."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bench.loadtest.compare import (
    MISSING,
    NEW,
    PASS,
    REGRESSION,
    SLO,
    Pair,
    Thresholds,
    compare,
    exit_code,
    render_markdown,
)
from bench.loadtest.schema import Latency
from tests.loadtest.builders import CHAT, STREAM, endpoint, latency, level, run


def _custom(p95: float, p99: float) -> Latency:
    return Latency(count=100, min=1.0, mean=p95 / 2, p50=p95 / 2, p90=p95 * 0.9, p95=p95, p99=p99, max=p99 * 1.5)


# (case, before endpoint, after endpoint, expected status, text expected among the problems)
CASES: list[tuple[str, Any, Any, str, str]] = [
    ("identical", endpoint(), endpoint(), PASS, ""),
    ("throughput -5 %", endpoint(rps=100), endpoint(rps=95), PASS, ""),
    ("throughput -15 %", endpoint(rps=100), endpoint(rps=85), REGRESSION, "throughput 100.0 -> 85.0 req/s (-15 %)"),
    ("throughput +50 %", endpoint(rps=100), endpoint(rps=150), PASS, ""),
    ("latency +30 % and +3 ms", endpoint(p50=5.0), endpoint(p50=6.5), REGRESSION, "p95 11.0 -> 14.3 ms (+30 %)"),
    ("latency +50 % but under 2 ms: jitter", endpoint(p50=1.0), endpoint(p50=1.5), PASS, ""),
    ("latency -40 %", endpoint(p50=10.0), endpoint(p50=6.0), PASS, ""),
    ("p95 over 200 ms both times", endpoint(p50=100.0), endpoint(p50=100.0), SLO, "p95 220.0 ms >= 200 ms"),
    (
        "p99 over 500 ms only",
        endpoint(),
        replace(endpoint(), latency_ms=_custom(150.0, 520.0)),
        f"{REGRESSION} + {SLO}",
        "p99 520.0 ms >= 500 ms",
    ),
    ("errors 0 -> 2 %", endpoint(), endpoint(failures=60), f"{REGRESSION} + {SLO}", "error rate 0.00 -> 2.00 %"),
    ("errors 0 -> 0.3 %", endpoint(), endpoint(failures=9), PASS, ""),
    ("errors 1.5 % both times", endpoint(failures=45), endpoint(failures=45), SLO, "error rate 1.50 % > 1 %"),
    (
        "stream: SLO on the first event, not the whole stream",
        endpoint(STREAM, p50=100.0, first_event=latency(10.0)),
        endpoint(STREAM, p50=100.0, first_event=latency(10.0)),
        PASS,
        "",
    ),
    (
        "stream: first event slower",
        endpoint(STREAM, first_event=latency(10.0)),
        endpoint(STREAM, first_event=latency(20.0)),
        REGRESSION,
        "first event p95 22.0 -> 44.0 ms",
    ),
    ("endpoint gone", endpoint(), None, MISSING, ""),
    ("endpoint new", None, endpoint(), NEW, ""),
    ("endpoint new and slow", None, endpoint(p50=100.0), SLO, "p95 220.0 ms"),
    ("no requests at all", endpoint(), endpoint(requests=0, rps=0.0), f"{REGRESSION} + {SLO}", "no requests"),
]


@pytest.mark.parametrize(("case", "before", "after", "status", "problem"), CASES, ids=[c[0] for c in CASES])
def test_verdicts(case: str, before: Any, after: Any, status: str, problem: str) -> None:
    key = (before or after).key
    b = run(level(10, (before,) if before else ()))
    a = run(level(10, (after,) if after else ()))
    result = compare(b, a)
    (row,) = [r for r in result.rows if r.key == key]
    assert row.status == status
    assert problem in "; ".join([*row.regressions, *row.breaches])
    assert result.passed == (status in (PASS, NEW))
    assert exit_code(result) == (0 if status in (PASS, NEW) else 1)


def test_a_run_compared_with_itself_passes_with_zero_deltas() -> None:
    two = (endpoint(CHAT), endpoint(STREAM, first_event=latency(3.0)))
    same = run(level(10, two), level(50, two), scenario="mixed")
    result = compare(same, same)
    assert result.passed and result.regressions == 0 and result.breaches == 0
    assert all(r.throughput.delta == 0 for r in result.rows)
    assert [(r.users, r.key) for r in result.rows] == [
        (10, CHAT),
        (10, STREAM),
        (10, "Aggregated"),
        (50, CHAT),
        (50, STREAM),
        (50, "Aggregated"),
    ]
    text = render_markdown(result, "a.json", "a.json")
    assert "**Verdict: PASS** — 6 rows compared, 0 regressions, 0 SLO breaches." in text
    assert "| 10 | POST /chat/{session_id} | 100.0 → 100.0 | 5.0 → 5.0 |" in text


def test_a_missing_level_fails_and_a_new_one_is_listed() -> None:
    result = compare(run(level(10), level(50)), run(level(10), level(100)))
    assert [(r.users, r.status) for r in result.rows] == [(10, PASS), (50, MISSING), (100, NEW)]
    assert not result.passed
    assert "- 50 users, POST /chat/{session_id}: missing from the after run" in render_markdown(result)


def test_thresholds_are_the_callers() -> None:
    before, after = run(level(10, (endpoint(p50=5.0),))), run(level(10, (endpoint(p50=6.5),)))
    assert compare(before, after, Thresholds(p95_ms=10.0)).rows[0].breaches == ("p95 14.3 ms >= 10 ms",)
    assert compare(before, after, Thresholds(max_latency_increase=0.5)).passed
    assert compare(before, after, Thresholds(min_latency_increase_ms=6.0)).passed


def test_report_shows_deltas_problems_and_notes() -> None:
    before = run(level(10, (endpoint(rps=100.0),)))
    after = run(level(10, (endpoint(rps=80.0),)), scenario="sse", settings={"duration_s": 10.0}, label="after")
    text = render_markdown(compare(before, after), "before.json", "after.json")
    assert "- **after**: `after.json` (after) — sse against http://127.0.0.1:8000" in text
    assert "100.0 → 80.0 (-20.0 %)" in text
    assert "| **REGRESSION** |" in text
    assert "- 10 users, POST /chat/{session_id}: throughput 100.0 -> 80.0 req/s (-20 %)" in text
    assert "- scenarios differ: rest vs sse" in text
    assert "- setting duration_s differs: 30.0 vs 10.0" in text
    assert "**Verdict: FAIL** — 1 rows compared, 1 regression, 0 SLO breaches." in text


def test_generator_saturation_is_noted() -> None:
    busy = run(replace(level(10), generator_cpu_percent=97.0))
    assert any("load generator at 97 % CPU" in n for n in compare(busy, busy).notes)


@pytest.mark.parametrize(
    ("before", "after", "delta", "ratio"),
    [(10.0, 12.0, 2.0, 0.2), (10.0, 5.0, -5.0, -0.5), (0.0, 3.0, 3.0, None), (None, 3.0, None, None)],
)
def test_pair(before: float | None, after: float | None, delta: float | None, ratio: float | None) -> None:
    pair = Pair(before, after)
    assert pair.delta == delta and pair.ratio == (pytest.approx(ratio) if ratio is not None else None)
