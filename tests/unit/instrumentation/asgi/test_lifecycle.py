"""The process lifecycle: the start-up heap frozen once the app started, telemetry flushed at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from otel_chatbot.guard import set_raise_internal_errors
from otel_chatbot.instrumentation.asgi.lifecycle import ProcessLifecycle


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def run_lifespan(app: Any, shutdown: str = "lifespan.shutdown") -> list[str]:
    """Start and stop ``app`` through the raw lifespan protocol; the replies it sent."""
    messages = [{"type": "lifespan.startup"}, {"type": shutdown}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    return sent


def test_an_instrumented_app_freezes_at_start_up_and_flushes_at_shutdown(kit_factory: Any, unfrozen: None) -> None:
    flushed: list[bool] = []
    kit = kit_factory()
    kit.instrumentations.server.lifecycle.flush = lambda: flushed.append(True)
    frozen_during_startup: list[int] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        frozen_during_startup.append(gc.get_freeze_count())
        yield

    app = FastAPI(lifespan=lifespan)
    kit.instrumentations.instrument_app(app)
    assert run_lifespan(app) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert frozen_during_startup == [0]  # the app's own start-up ran first
    assert gc.get_freeze_count() > 0
    assert flushed == [True]


async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
    """The smallest app speaking the lifespan protocol; its shutdown fails on request."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:
            failed = message["type"] == "lifespan.shutdown.fail-please"
            await send({"type": "lifespan.shutdown.failed" if failed else "lifespan.shutdown.complete"})
            return


def test_freeze_is_off_when_the_setting_says_so(unfrozen: None) -> None:
    lifecycle = ProcessLifecycle(gc_freeze=False)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await lifecycle.lifespan(lifespan_app, scope, receive, send)

    assert run_lifespan(app) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert gc.get_freeze_count() == 0


def test_a_failed_shutdown_still_flushes_and_a_failing_flush_still_lets_the_app_stop(unfrozen: None) -> None:
    calls: list[str] = []

    def failing_flush() -> None:
        calls.append("flush")
        raise OSError("collector gone")

    lifecycle = ProcessLifecycle(gc_freeze=False, flush=failing_flush)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await lifecycle.lifespan(lifespan_app, scope, receive, send)

    set_raise_internal_errors(False)
    assert run_lifespan(app, "lifespan.shutdown.fail-please") == [
        "lifespan.startup.complete",
        "lifespan.shutdown.failed",
    ]
    assert calls == ["flush"]
