"""SIGINT / SIGTERM for the demo: the first asks for a clean stop, a second one exits at once.

A clean stop lets the load finish its requests in flight, stops the app server, flushes
telemetry and prints what was collected; the exit code then says which signal it was
(128 + number: 130 for Ctrl-C, 143 for SIGTERM), as shells expect.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    def __init__(self) -> None:
        self.requested = threading.Event()
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}
        self._callbacks: list[Callable[[], None]] = []

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (in the main thread, from the handler) when a stop is requested."""
        self._callbacks.append(callback)

    def install(self) -> StopSignals:
        for signum in HANDLED:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    @property
    def exit_code(self) -> int:
        return 0 if self.signum is None else 128 + self.signum

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested.is_set():
            sys.stderr.write("\nsecond signal: exiting without cleanup\n")
            sys.stderr.flush()
            os._exit(128 + signum)
        self.signum = signum
        self.requested.set()
        sys.stderr.write(f"\n{signal.Signals(signum).name}: stopping cleanly (again to force)\n")
        sys.stderr.flush()
        for callback in self._callbacks:
            callback()

    def wait(self, poll_s: float = 0.2) -> None:
        """Block until a stop is requested (polling, so the handler always gets to run)."""
        while not self.requested.wait(poll_s):
            pass
