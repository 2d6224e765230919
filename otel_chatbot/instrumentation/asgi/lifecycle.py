"""The process around the requests, seen through the ASGI lifespan protocol.

The lifespan is the one moment the app's event loop is known to be running before the
first request (start-up complete) and the last one after the last (shutdown): work that
belongs to the process rather than to a request starts and stops here, on the app's loop.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

from otel_chatbot.guard import guarded, report
from otel_chatbot.instrumentation.asgi.loop_lag import LoopLagMonitor
from otel_chatbot.instrumentation.asgi.types import ASGIApp, Message, Receive, Scope, Send

_SHUTDOWN_DONE = ("lifespan.shutdown.complete", "lifespan.shutdown.failed")


class ProcessLifecycle:
    """Freeze the start-up heap and watch the event loop once the app started; stop and flush at shutdown."""

    def __init__(
        self, gc_freeze: bool, flush: Callable[[], object] | None = None, loop_lag: LoopLagMonitor | None = None
    ) -> None:
        self.gc_freeze = gc_freeze
        self.flush = flush
        self.loop_lag = loop_lag

    async def lifespan(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app's lifespan, acting on its start-up and shutdown replies before passing them on."""

        async def watching_send(message: Message) -> None:
            kind = message.get("type")
            if kind == "lifespan.startup.complete":
                self.started()
            elif kind in _SHUTDOWN_DONE:
                await self.stopped()
            await send(message)

        await app(scope, receive, watching_send)

    def started(self) -> None:
        """The app finished starting, on its own event loop; no request has been served yet."""
        if self.gc_freeze:
            # The app's start-up objects live as long as the process; full garbage
            # collections need not walk them on every cycle (p99 latency).
            gc.freeze()
        if self.loop_lag is not None:
            with guarded("event loop lag start"):
                self.loop_lag.start(asyncio.get_running_loop())

    def close(self) -> None:
        """The instrumentation is undone: stop what runs on the app's loop."""
        if self.loop_lag is not None:
            self.loop_lag.stop()

    async def stopped(self) -> None:
        """The app shut down: export what was recorded.

        uvicorn re-raises SIGTERM after its shutdown, so atexit handlers never run: the
        lifespan shutdown is the last reliable moment to export what was recorded. The
        flush blocks on network I/O, hence a worker thread.
        """
        self.close()
        flush = self.flush
        if flush is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(None, flush)
        except Exception as exc:
            report("flush at shutdown", exc)
