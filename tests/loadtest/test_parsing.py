"""Command-line values, the SSE parser and the progress line: small pure pieces, tables of inputs."""

from __future__ import annotations

import pytest

from bench.loadtest.options import parse_duration, parse_users
from bench.loadtest.progress import Tick, format_tick
from bench.loadtest.sse import SseEvent, SseParser


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("30", 30.0), ("2m", 120.0), ("1m30s", 90.0), ("1h", 3600.0), ("2.5s", 2.5), (" 3s ", 3.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "0s", "-3s", "3x", "1.2.3s", "m30"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "levels"), [("10,50,100,200", (10, 50, 100, 200)), ("2", (2,)), ("50, 10", (50, 10)), ("5,", (5,))]
)
def test_user_levels(text: str, levels: tuple[int, ...]) -> None:
    assert parse_users(text) == levels


@pytest.mark.parametrize("text", ["", "0", "10,-1", "ten", "10,10"])
def test_bad_user_levels(text: str) -> None:
    with pytest.raises(ValueError):
        parse_users(text)


SSE_STREAMS = [
    # what the example app sends: unnamed text events, then a named done event
    (
        ['data: {"text":"Hi"}\n', "\n", "event: done\n", 'data: {"reply":"Hi"}\n', "\n"],
        [SseEvent("message", '{"text":"Hi"}'), SseEvent("done", '{"reply":"Hi"}')],
    ),
    # CRLF endings, a comment, multi-line data, no space after the colon, id/retry ignored
    (
        [": keep-alive\r\n", "id: 7\r\n", "retry: 10\r\n", "data:a\r\n", "data: b\r\n", "\r\n"],
        [SseEvent("message", "a\nb")],
    ),
    # blank lines without fields are not events
    (["\n", "\n", "event: error\n", "data: x\n", "\n"], [SseEvent("error", "x")]),
]


@pytest.mark.parametrize(("lines", "events"), SSE_STREAMS)
def test_sse_parser(lines: list[str], events: list[SseEvent]) -> None:
    parser = SseParser()
    assert [e for e in map(parser.feed, lines) if e is not None] == events


def _tick(**fields: object) -> Tick:
    base = {
        "scenario": "sse",
        "target_users": 50,
        "users": 50,
        "phase": "steady",
        "elapsed_s": 10.0,
        "duration_s": 30.0,
        "requests": 1234,
        "failures": 2,
        "p50_ms": 4.12,
        "p95_ms": 9.8,
        "p99_ms": 15.25,
        "cpu_percent": 63.0,
    }
    return Tick(**{**base, **fields})  # type: ignore[arg-type]


def test_progress_line_steady() -> None:
    line = format_tick(_tick())
    for part in ("[sse 50u] steady", "10.0/30s", "req 1234", "123.4 req/s", "fail 2 (0.16%)", "p95 9.8", "cpu 63%"):
        assert part in line


def test_progress_line_ramp_and_empty() -> None:
    assert "users 20/50" in format_tick(_tick(phase="ramp", users=20))
    assert "0.0 req/s" in format_tick(_tick(elapsed_s=0.0, requests=0, failures=0))
