"""The ring keeps one snapshot per interval for the longest window, and finds a window's base."""

from __future__ import annotations

from otel_chatbot.stats.ring import MAX_WINDOW_S, SnapshotRing
from otel_chatbot.stats.snapshot import Snapshot


def test_the_ring_holds_the_longest_window_and_drops_the_oldest() -> None:
    ring = SnapshotRing()
    assert ring.capacity == MAX_WINDOW_S + 1
    for second in range(1000):
        ring.append(Snapshot(float(second)))
    assert len(ring) == ring.capacity
    assert ring.snapshots()[0].at == 1000 - ring.capacity


def test_the_base_is_the_newest_snapshot_old_enough() -> None:
    ring = SnapshotRing(seconds=10)
    assert ring.window(5) is None
    for at in (0.0, 1.0, 2.1, 3.0, 4.2):  # a late sample (2.1) still counts within the slack
        ring.append(Snapshot(at))
    found = ring.window(2)
    assert found is not None
    base, latest, between = found
    assert (base.at, latest.at, [s.at for s in between]) == (2.1, 4.2, [3.0, 4.2])
    young = ring.window(60)
    assert young is not None and young[0].at == 0.0  # the ring is younger than the window: the oldest
