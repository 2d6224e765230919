"""bench/callgrind_counts.py: a dump's totals and spin polls read, the spin taken out."""

from __future__ import annotations

import pytest

from bench.callgrind_counts import Dump, fit_poll_cost, per_request, read_dump


def _dump(total: int, polls_by_caller: list[int]) -> list[str]:
    """A callgrind dump in its compressed-names format, os_waitpid called from several places."""
    lines = ["events: Ir", "fl=(1) posixmodule.c", "fn=(80) os_waitpid", "5 10", "fn=(81) poll"]
    for polls in polls_by_caller:
        lines += ["cfn=(80)", f"calls={polls} 0", f"7 {polls * 10}"]
    lines += ["fn=(82) other", "cfn=(81)", "calls=3 0", "2 100", f"totals: {total}"]
    return [f"{line}\n" for line in lines]


def test_totals_and_polls_are_read_from_compressed_names() -> None:
    assert read_dump(_dump(1_000_000, [5, 7])) == Dump(1_000_000, 12)


def test_the_spin_is_fitted_within_each_group_and_taken_out() -> None:
    # Two configurations, 60 requests each, 800 and 700 instructions per request, 4,000 per poll.
    before = [Dump(60 * 800 + 4_000 * polls, polls) for polls in (10, 300, 40)]
    after = [Dump(60 * 700 + 4_000 * polls, polls) for polls in (0, 1_000)]
    cost = fit_poll_cost([before, after])
    assert cost == pytest.approx(4_000)
    assert {per_request(d, cost, 60) for d in before} == {800}
    assert {per_request(d, cost, 60) for d in after} == {700}


def test_without_two_different_spins_nothing_can_be_fitted() -> None:
    with pytest.raises(ValueError, match="cannot be fitted"):
        fit_poll_cost([[Dump(100, 3)], [Dump(200, 5), Dump(200, 5)]])
