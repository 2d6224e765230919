"""The last few minutes of snapshots, one per sampling interval, in bounded memory.

A window is the difference between the newest snapshot and the one taken ``window``
seconds before it; the ring keeps exactly enough snapshots for the longest window
offered (:data:`MAX_WINDOW_S`), dropping the oldest as new ones arrive.
"""

from __future__ import annotations

import math
import threading
from collections import deque

from otel_chatbot.stats.snapshot import Snapshot

MAX_WINDOW_S = 300
"""The longest ``?window=`` offered: five minutes (a dashboard's usual short range)."""

_SLACK_S = 0.25
"""A snapshot this much younger than asked still counts as old enough (sampling jitter)."""


class SnapshotRing:
    """Snapshots oldest first; safe to read from the HTTP threads while the sampler appends."""

    def __init__(self, seconds: float = MAX_WINDOW_S, interval_s: float = 1.0) -> None:
        self.capacity = math.ceil(seconds / interval_s) + 1
        self._snapshots: deque[Snapshot] = deque(maxlen=self.capacity)
        self._lock = threading.Lock()

    def append(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshots.append(snapshot)

    def __len__(self) -> int:
        return len(self._snapshots)

    def snapshots(self) -> list[Snapshot]:
        with self._lock:
            return list(self._snapshots)

    def window(self, seconds: float) -> tuple[Snapshot, Snapshot, list[Snapshot]] | None:
        """(base, latest, the snapshots after base up to latest) for a window of ``seconds``.

        The base is the newest snapshot at least ``seconds`` older than the latest; while
        the ring is younger than that, the oldest one (the window is then shorter: the
        view reports the seconds it really covers). None with fewer than two snapshots.
        """
        snapshots = self.snapshots()
        if len(snapshots) < 2:
            return None
        latest = snapshots[-1]
        cutoff = latest.at - seconds + _SLACK_S
        base_index = 0
        for index in range(len(snapshots) - 2, -1, -1):
            if snapshots[index].at <= cutoff:
                base_index = index
                break
        return snapshots[base_index], latest, snapshots[base_index + 1 :]
