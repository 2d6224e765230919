"""Event loop lag: a timer on the app's loop, started at lifespan start-up, stopped at shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_chatbot.config import ConfigError, load_settings
from otel_chatbot.instrumentation.asgi.lifecycle import ProcessLifecycle
from otel_chatbot.instrumentation.asgi.loop_lag import LoopLagMonitor


@pytest.fixture
def meter() -> Iterator[tuple[Any, InMemoryMetricReader]]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    yield provider.get_meter("test"), reader
    provider.shutdown()


def lag_points(reader: InMemoryMetricReader) -> list[Any]:
    data = reader.get_metrics_data()
    if data is None:
        return []
    return [
        point
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "chatbot.asyncio.loop.lag"
        for point in m.data.data_points
    ]


def test_a_blocked_loop_shows_as_lag(meter: tuple[Any, InMemoryMetricReader]) -> None:
    m, reader = meter
    monitor = LoopLagMonitor(m, interval_s=0.01)

    async def main() -> None:
        monitor.start(asyncio.get_running_loop())
        await asyncio.sleep(0.05)  # a few idle ticks
        time.sleep(0.12)  # a blocking call in a handler: the next tick runs ~0.11 s late
        await asyncio.sleep(0.03)
        monitor.stop()

    asyncio.run(main())
    (point,) = lag_points(reader)
    assert point.count >= 4
    assert point.max >= 0.1
    assert point.min >= 0.0
    assert point.bucket_counts[-1] == 0  # nothing above 5 s
    assert not monitor.running


def test_stop_ends_the_ticks(meter: tuple[Any, InMemoryMetricReader]) -> None:
    m, reader = meter
    monitor = LoopLagMonitor(m, interval_s=0.005)

    async def main() -> int:
        monitor.start(asyncio.get_running_loop())
        monitor.start(asyncio.get_running_loop())  # a second start does not add a second timer
        await asyncio.sleep(0.05)
        monitor.stop()
        stopped_at = lag_points(reader)[0].count
        await asyncio.sleep(0.05)
        return int(stopped_at)

    stopped_at = asyncio.run(main())
    (point,) = lag_points(reader)
    assert point.count == stopped_at
    assert stopped_at <= 11  # one timer, not two: at most 0.05 s / 0.005 s (+1)


def test_a_stop_from_another_thread_ends_at_the_next_tick(meter: tuple[Any, InMemoryMetricReader]) -> None:
    m, reader = meter
    monitor = LoopLagMonitor(m, interval_s=0.01)

    async def main() -> None:
        monitor.start(asyncio.get_running_loop())
        await asyncio.sleep(0.03)
        await asyncio.get_running_loop().run_in_executor(None, monitor.stop)
        await asyncio.sleep(0.01)
        before = lag_points(reader)[0].count
        await asyncio.sleep(0.05)
        assert lag_points(reader)[0].count == before

    asyncio.run(main())


def test_the_interval_must_be_positive(meter: tuple[Any, InMemoryMetricReader]) -> None:
    with pytest.raises(ValueError, match="interval_s"):
        LoopLagMonitor(meter[0], interval_s=0)


def lifespan_app_for(lifecycle: ProcessLifecycle, during: list[bool]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                await asyncio.sleep(0.05)  # the app serves requests
                during.append(lifecycle.loop_lag is not None and lifecycle.loop_lag.running)
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        await lifecycle.lifespan(app, scope, receive, send)

    return wrapped


def run_lifespan(app: Any) -> None:
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        return None

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))


def test_the_lifespan_starts_and_stops_the_monitor(meter: tuple[Any, InMemoryMetricReader]) -> None:
    m, reader = meter
    monitor = LoopLagMonitor(m, interval_s=0.01)
    lifecycle = ProcessLifecycle(gc_freeze=False, loop_lag=monitor)
    during: list[bool] = []
    run_lifespan(lifespan_app_for(lifecycle, during))
    assert during == [True]
    assert not monitor.running
    assert lag_points(reader)[0].count >= 2


def test_an_instrumented_app_gets_the_monitor_from_the_settings(kit_factory: Any) -> None:
    kit = kit_factory(loop_lag_interval_ms=10, gc_freeze=False)
    monitor = kit.instrumentations.server.lifecycle.loop_lag
    assert monitor is not None and monitor.interval_s == 0.01
    during: list[bool] = []
    run_lifespan(lifespan_app_for(kit.instrumentations.server.lifecycle, during))
    assert during == [True]
    (point,) = kit.points("chatbot.asyncio.loop.lag")
    assert point.count >= 2
    assert not point.attributes  # one series per process (service.instance.id tells processes apart)


def test_zero_turns_it_off(kit_factory: Any) -> None:
    kit = kit_factory(loop_lag_interval_ms=0)
    assert kit.instrumentations.server.lifecycle.loop_lag is None


@pytest.mark.parametrize("raw", ["-1", "60001", "soon"])
def test_a_bad_interval_fails_at_start_up_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="OTEL_CHATBOT_LOOP_LAG_INTERVAL"):
        load_settings(environ={"OTEL_CHATBOT_LOOP_LAG_INTERVAL": raw})
