"""A real SDK pipeline with the stats reader on a fake clock, and the distro's server instruments.

Tests sample at chosen instants, so windows are exact differences of known snapshots.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry.propagate import get_global_textmap
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from otel_chatbot.config import load_settings
from otel_chatbot.instrumentation.asgi.server import ServerTelemetry
from otel_chatbot.stats.endpoint import live_view
from otel_chatbot.stats.reader import StatsReader


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    clock: Clock
    reader: StatsReader
    exported: InMemoryMetricReader
    provider: MeterProvider
    server: ServerTelemetry

    def sample_at(self, seconds_since_start: float) -> None:
        self.clock.now = 1000.0 + seconds_since_start
        assert self.reader.sample() is not None

    def idle_until(self, seconds_since_start: float) -> None:
        """One sample per second up to ``seconds_since_start``, as the sampler thread takes them."""
        start = math.floor(self.clock.now - 1000.0) + 1
        for second in range(start, int(seconds_since_start) + 1):
            self.sample_at(second)

    def view(self, window_s: float = 60) -> dict[str, Any]:
        return live_view(self.reader, window_s, {"name": "test"})

    def request(self, route: str | None, seconds: float, status: int = 200, error: str | None = None) -> None:
        self.server.durations.get("POST", "http", route, status, error, "1.1").record(seconds)


@contextlib.contextmanager
def make_rig() -> Iterator[Rig]:
    clock = Clock()
    reader = StatsReader(clock=clock)
    exported = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[exported, reader])
    settings = load_settings({"loop_lag_interval_ms": 0}, environ={})
    server = ServerTelemetry(settings, TracerProvider(), provider, get_global_textmap())
    try:
        yield Rig(clock, reader, exported, provider, server)
    finally:
        provider.shutdown()
