"""The last minutes of snapshots, in bounded memory: every second for a minute, every ten seconds after.

A window is the difference between the newest snapshot and the one taken ``window``
seconds before it. Windows up to :data:`FINE_S` find a base to the second; longer ones
(up to :data:`MAX_WINDOW_S`) to ten seconds (the view reports the seconds it really
covers). That keeps 86 snapshots for five minutes instead of 301. The levels the view
peaks (in-flight requests, open WebSockets) are a few floats a sample, so they are kept
for every second of the longest window: a peak is never missed for being between two
kept snapshots.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping

from otel_chatbot.stats.snapshot import Snapshot

MAX_WINDOW_S = 300
"""The longest ``?window=`` offered: five minutes (a dashboard's usual short range)."""

FINE_S = 60
"""Windows up to a minute are exact to the sampling interval."""

COARSE_STEP_S = 10
"""Beyond a minute, one snapshot is kept per this many seconds."""

_SLACK_S = 0.25
"""A snapshot this much younger than asked still counts as old enough (sampling jitter)."""

Levels = Mapping[str, float]


class SnapshotRing:
    """Snapshots oldest first; safe to read from the HTTP threads while the sampler appends."""

    def __init__(self, seconds: float = MAX_WINDOW_S, interval_s: float = 1.0) -> None:
        fine_s = min(FINE_S, seconds)
        self._fine: deque[Snapshot] = deque(maxlen=math.ceil(fine_s / interval_s) + 1)
        self._coarse: deque[Snapshot] = deque(maxlen=max(0, math.ceil((seconds - fine_s) / COARSE_STEP_S)) + 1)
        # a long window's base may be up to a coarse step older than asked: levels reach that far too
        self._levels: deque[tuple[float, Levels]] = deque(maxlen=math.ceil((seconds + COARSE_STEP_S) / interval_s) + 1)
        self.capacity = (self._fine.maxlen or 0) + (self._coarse.maxlen or 0)
        self._lock = threading.Lock()

    def append(self, snapshot: Snapshot, levels: Levels | None = None) -> None:
        with self._lock:
            if len(self._fine) == self._fine.maxlen:  # the oldest fine snapshot leaves: keep it if due
                leaving = self._fine[0]
                if not self._coarse or leaving.at - self._coarse[-1].at >= COARSE_STEP_S - _SLACK_S:
                    self._coarse.append(leaving)
            self._fine.append(snapshot)
            self._levels.append((snapshot.at, levels or {}))

    def __len__(self) -> int:
        return len(self._fine) + len(self._coarse)

    def snapshots(self) -> list[Snapshot]:
        with self._lock:
            return [*self._coarse, *self._fine]

    def window(self, seconds: float) -> tuple[Snapshot, Snapshot, list[Levels]] | None:
        """(base, latest, the levels sampled after base up to latest) for a window of ``seconds``.

        The base is the newest snapshot at least ``seconds`` older than the latest; while
        the ring is younger than that, the oldest one (the window is then shorter: the
        view reports the seconds it really covers). None with fewer than two snapshots.
        """
        with self._lock:
            snapshots = [*self._coarse, *self._fine]
            levels = list(self._levels)
        if len(snapshots) < 2:
            return None
        latest = snapshots[-1]
        cutoff = latest.at - seconds + _SLACK_S
        base = snapshots[0]
        for snapshot in reversed(snapshots[:-1]):
            if snapshot.at <= cutoff:
                base = snapshot
                break
        return base, latest, [sampled for at, sampled in levels if at > base.at]
