"""Instructions per request from ``profile_scenarios.py --callgrind`` dumps, its dump spin taken out.

``profile_scenarios.py`` asks callgrind to dump the loop with ``callgrind_control``, and
callgrind reads that command only while the program runs code, so the script spins on
``Popen.poll()`` until it is answered. That spin is inside the dump, and how long it lasts
follows the machine's load: on a loaded machine one run of the minimal endpoint counted
+0.1 % and the next +11 %. Each poll calls ``os.waitpid`` once, and callgrind counts those
calls, so the spin is ``k`` instructions times that count. ``k`` is fitted over the runs of
each configuration (same code, same loop: only the spin differs), pooled:

    .venv/bin/python bench/callgrind_counts.py --calls 60 before=/tmp/cg_before_*.1 after=/tmp/cg_after_*.1
"""

from __future__ import annotations

import argparse
import glob
import re
import statistics
from collections.abc import Iterable, Sequence
from typing import NamedTuple

_NAMED = re.compile(r"c?fn=\((\d+)\)(?: (.*))?")
_CALLS = re.compile(r"calls=(\d+)")
SPIN_FUNCTION = "os_waitpid"  # the C function behind Popen.poll()


class Dump(NamedTuple):
    total: int  # instructions of the dumped loop
    spin_polls: int  # calls of os.waitpid in it (the dump spin's polls)


def read_dump(lines: Iterable[str]) -> Dump:
    """The totals line and the number of calls to :data:`SPIN_FUNCTION` of one callgrind dump."""
    names: dict[str, str] = {}
    total, polls, callee = 0, 0, ""
    for line in lines:
        if line.startswith("totals:"):
            total = int(line.split()[1])
            continue
        named = _NAMED.match(line)
        if named:
            number, name = named.groups()
            if name:
                names[number] = name
            if line.startswith("cfn="):
                callee = names.get(number, "")
            continue
        calls = _CALLS.match(line)
        if calls and callee == SPIN_FUNCTION:
            polls += int(calls.group(1))
    return Dump(total, polls)


def fit_poll_cost(groups: Sequence[Sequence[Dump]]) -> float:
    """Instructions per poll: the least-squares slope of total on polls, within each group, pooled."""
    num = den = 0.0
    for dumps in groups:
        if len(dumps) < 2:
            continue
        mean_total = statistics.fmean(d.total for d in dumps)
        mean_polls = statistics.fmean(d.spin_polls for d in dumps)
        for d in dumps:
            num += (d.total - mean_total) * (d.spin_polls - mean_polls)
            den += (d.spin_polls - mean_polls) ** 2
    if den == 0:
        raise ValueError("no group has two runs with different spins: the poll cost cannot be fitted")
    return num / den


def per_request(dump: Dump, poll_cost: float, calls: int) -> int:
    """Instructions per request of one dump, the spin taken out."""
    return round((dump.total - poll_cost * dump.spin_polls) / calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, required=True, help="requests in the measured loop (--calls)")
    parser.add_argument("--poll-cost", type=float, default=None, help="instructions per poll, instead of fitting it")
    parser.add_argument("groups", nargs="+", help="NAME=GLOB: the dumps of one configuration")
    args = parser.parse_args(argv)
    groups: dict[str, list[Dump]] = {}
    for spec in args.groups:
        name, _, pattern = spec.partition("=")
        paths = sorted(glob.glob(pattern))
        if not paths:
            parser.error(f"no dump matches {pattern}")
        groups[name] = []
        for path in paths:
            with open(path, errors="replace") as dump_file:
                groups[name].append(read_dump(dump_file))
    cost = args.poll_cost if args.poll_cost is not None else fit_poll_cost(list(groups.values()))
    print(f"{cost:.0f} instructions per spin poll")
    for name, dumps in groups.items():
        counts = [per_request(d, cost, args.calls) for d in dumps]
        raw = [d.total // args.calls for d in dumps]
        polls = [d.spin_polls for d in dumps]
        print(f"{name}: {counts} (median {statistics.median(counts):,.0f}; raw {raw}, polls {polls})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
