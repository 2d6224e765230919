"""The ring keeps every second for a minute and every ten seconds for five, and finds a window's base."""

from __future__ import annotations

import itertools

from otel_chatbot.stats.ring import COARSE_STEP_S, FINE_S, MAX_WINDOW_S, SnapshotRing
from otel_chatbot.stats.snapshot import Snapshot


def filled(seconds: int) -> SnapshotRing:
    ring = SnapshotRing()
    for second in range(seconds):
        ring.append(Snapshot(float(second)), {"active": float(second % 7)})
    return ring


def test_the_ring_holds_five_minutes_in_86_snapshots() -> None:
    ring = filled(1000)
    assert len(ring) == ring.capacity == (FINE_S + 1) + (MAX_WINDOW_S - FINE_S) // COARSE_STEP_S + 1
    times = [s.at for s in ring.snapshots()]
    assert times[-FINE_S - 1 :] == [float(t) for t in range(999 - FINE_S, 1000)]  # every second for a minute
    coarse = times[: -FINE_S - 1]
    assert all(later - earlier == COARSE_STEP_S for earlier, later in itertools.pairwise(coarse))
    assert times[-1] - times[0] >= MAX_WINDOW_S


def test_windows_find_their_base_to_the_second_then_to_ten_seconds() -> None:
    ring = filled(1000)
    for seconds in (1, 10, 60, 61, 120, 125, 300):
        found = ring.window(seconds)
        assert found is not None
        base, latest, levels = found
        covered = latest.at - base.at
        if seconds <= FINE_S:
            assert covered == seconds
        else:
            assert seconds <= covered < seconds + COARSE_STEP_S, (seconds, covered)
        assert len(levels) == covered  # every second's levels, not only the kept snapshots'


def test_a_young_ring_gives_its_oldest_snapshot_and_jitter_is_tolerated() -> None:
    ring = SnapshotRing()
    assert ring.window(5) is None
    for at in (0.0, 1.0, 2.1, 3.0, 4.2):  # a late sample (2.1) still counts within the slack
        ring.append(Snapshot(at))
    found = ring.window(2)
    assert found is not None and (found[0].at, found[1].at) == (2.1, 4.2)
    young = ring.window(60)
    assert young is not None and young[0].at == 0.0
