"""The one-line progress display printed while a level runs (to stderr, so stdout stays a report)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tick:
    scenario: str
    target_users: int
    users: int
    phase: str
    """``ramp`` while users are spawned (numbers not yet recorded), then ``steady``."""
    elapsed_s: float
    duration_s: float
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_percent: float


def format_tick(t: Tick) -> str:
    head = f"[{t.scenario} {t.target_users}u] {t.phase:<6}"
    if t.phase == "ramp":
        return f"{head} users {t.users}/{t.target_users}  {t.elapsed_s:5.1f}s  requests so far {t.requests}"
    rate = t.requests / t.elapsed_s if t.elapsed_s > 0 else 0.0
    error_pct = 100.0 * t.failures / t.requests if t.requests else 0.0
    return (
        f"{head} {t.elapsed_s:5.1f}/{t.duration_s:.0f}s  users {t.users}  req {t.requests}  {rate:7.1f} req/s  "
        f"fail {t.failures} ({error_pct:.2f}%)  p50 {t.p50_ms:.1f}  p95 {t.p95_ms:.1f}  p99 {t.p99_ms:.1f} ms  "
        f"gen cpu {t.cpu_percent:.0f}%"
    )
