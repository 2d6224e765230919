"""Event loop lag: how late a timer on the app's own loop runs.

An asyncio app serves every request on one thread; a blocking call or a CPU-heavy
callback delays everything else that is ready, and no request's span shows it. A timer
scheduled every ``interval`` seconds with ``call_at`` runs when the loop gets to it: how
late it ran is how long ready callbacks waited at that moment. A healthy loop is late
by about a millisecond (the selector's timeout granularity).

Cost: one timer handle and one histogram record per interval, nothing per request: a
tick measured 6 µs of CPU (``bench/asgi_micro.py``), so 12 µs per second at the default
0.5 s interval. Started at the lifespan start-up (on the app's loop), stopped at shutdown.
"""

from __future__ import annotations

import asyncio

from opentelemetry.metrics import Meter

from otel_chatbot.guard import report
from otel_chatbot.instrumentation.asgi import names as n
from otel_chatbot.instrumentation.asgi.histograms import histogram
from otel_chatbot.instrumentation.prebound import Bound


class LoopLagMonitor:
    """Records ``chatbot.asyncio.loop.lag`` every ``interval_s`` on the loop it is started on."""

    def __init__(self, meter: Meter, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s!r}")
        self.interval_s = interval_s
        lag = histogram(
            meter,
            n.ASYNCIO_LOOP_LAG,
            "s",
            "How late a periodic timer on the app's asyncio event loop ran: the time ready callbacks were waiting "
            "for the loop.",
            n.LOOP_LAG_BUCKETS,
        )
        self.lag = Bound(lag, {})
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Begin on ``loop`` (call from the loop's own thread); a second start is a no-op."""
        if self._handle is not None:
            return
        self._loop = loop
        self._schedule(loop.time())

    def stop(self) -> None:
        """Stop recording. From another thread the pending timer still runs once, sees this and ends."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            handle.cancel()

    def _schedule(self, now: float) -> None:
        assert self._loop is not None
        self._due = now + self.interval_s
        self._handle = self._loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        if self._handle is None:  # stopped from another thread before the cancel arrived
            return
        loop = self._loop
        assert loop is not None
        now = loop.time()
        try:
            # call_at may run a timer up to the clock's resolution early: never a negative lag.
            self.lag.record(max(0.0, now - self._due))
        except Exception as exc:
            report("event loop lag", exc)
        self._schedule(now)
