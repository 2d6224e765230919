"""Builders for made-up result files, so schema and compare tests state only what differs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bench.loadtest.schema import TOTAL_KEY, Endpoint, Latency, Level, Run

CHAT = "POST /chat/{session_id}"
STREAM = "POST /chat/{session_id}/stream"


def latency(p50: float = 5.0, scale: float = 1.0) -> Latency:
    """A plausible distribution around ``p50`` (ms), every field scaled by ``scale``."""
    return Latency(
        count=1000,
        min=round(p50 * 0.4 * scale, 3),
        mean=round(p50 * 1.1 * scale, 3),
        p50=round(p50 * scale, 3),
        p90=round(p50 * 1.8 * scale, 3),
        p95=round(p50 * 2.2 * scale, 3),
        p99=round(p50 * 3.5 * scale, 3),
        max=round(p50 * 6.0 * scale, 3),
    )


def endpoint(
    key: str = CHAT,
    requests: int = 3000,
    failures: int = 0,
    rps: float = 100.0,
    p50: float = 5.0,
    first_event: Latency | None = None,
) -> Endpoint:
    return Endpoint(
        key=key,
        requests=requests,
        failures=failures,
        throughput_rps=rps,
        error_rate=round(failures / requests, 6) if requests else 0.0,
        latency_ms=latency(p50),
        first_event_ms=first_event,
        errors={"HTTP 500": failures} if failures else {},
    )


def level(users: int = 10, endpoints: tuple[Endpoint, ...] | None = None) -> Level:
    eps = endpoints if endpoints is not None else (endpoint(),)
    requests = sum(e.requests for e in eps)
    failures = sum(e.failures for e in eps)
    total = Endpoint(
        key=TOTAL_KEY,
        requests=requests,
        failures=failures,
        throughput_rps=sum(e.throughput_rps for e in eps),
        error_rate=round(failures / requests, 6) if requests else 0.0,
        latency_ms=eps[0].latency_ms if eps else None,
    )
    return Level(users=users, spawn_rate=10.0, ramp_s=1.0, duration_s=30.0, endpoints=eps, total=total)


def run(*levels: Level, **fields: Any) -> Run:
    base = Run(
        host="http://127.0.0.1:8000",
        scenario="rest",
        levels=levels or (level(),),
        created="2026-11-22T10:00:00+00:00",
        settings={"spawn_rate": 10.0, "duration_s": 30.0, "think_time_s": 0.0, "message": "hi"},
        tool={"name": "bench.loadtest"},
    )
    return replace(base, **fields)
