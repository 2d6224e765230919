"""Where the telemetry's CPU goes, per function, from a py-spy profile of ``bench/profile_scenarios.py``.

    .venv/bin/python bench/profile_scenarios.py --scenario converse --calls 3000 --pyspy /tmp/converse.txt
    .venv/bin/python bench/attribution.py /tmp/converse.txt --us-per-request 1234 --top 15

py-spy's raw format is one collapsed stack per line (``frame;frame;... count``, root first, a
frame being ``function (file:line)``). Each sample goes to the *innermost* frame that belongs to
the telemetry (a file under ``otel_chatbot/`` or ``opentelemetry/``, or wrapt's wrappers) unless
a frame of the app or its libraries is nearer the leaf: a json.loads called by our parser counts
as the parser's (the standard library is charged to its caller), FastAPI's handler called through
our middleware counts as the app's. With ``--us-per-request`` (the CPU per request the profiled run
printed) the shares become µs per request. Groups are by function, or by ``--by module``.
"""

from __future__ import annotations

import argparse
import re
import sys
import sysconfig
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

_TELEMETRY = re.compile(r"(?:^|/)((?:otel_chatbot|opentelemetry|wrapt)/.*)$")  # ours, the SDK, API, wrapt
_STDLIB = sysconfig.get_paths()["stdlib"]
APP = "(app, libraries, interpreter: not telemetry)"
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^():]*)(?::(?P<line>\d+))?\)$")


def parse_raw(lines: Iterable[str]) -> Iterator[tuple[list[str], int]]:
    """(frames root first, sample count) per collapsed stack line."""
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        yield stack.split(";"), int(count)


def owner(frames: list[str], by: str = "function") -> str:
    """The telemetry function (or module) a sample is charged to, or ``APP``.

    From the leaf up: the standard library is charged to its caller; the first frame of the
    telemetry or of anything else (the app, its framework, its client libraries) owns the sample.
    """
    for frame in reversed(frames):
        match = _FRAME.match(frame.strip())
        if match is None:
            continue
        file = match["file"]
        telemetry = _TELEMETRY.search(file)
        if telemetry is not None:
            module = telemetry[1]
            return module if by == "module" else f"{match['function']} ({module})"
        if not _stdlib(file):
            return APP
    return APP


def _stdlib(file: str) -> bool:
    """A standard library file, as py-spy's ``--full-filenames`` names it, or ``<frozen ...>``."""
    return file.startswith(("<", _STDLIB)) and "-packages/" not in file


# Leaves where a thread waits rather than runs; py-spy --nonblocking can count them as active.
_WAITING = ("Condition.wait", "Event.wait", "Thread._wait_for_tstate_lock", "EpollSelector.select", "SocketIO.readinto")


def waiting(frames: list[str]) -> bool:
    leaf = frames[-1].strip() if frames else ""
    return leaf.startswith(tuple(f"{name} (" for name in _WAITING))


def attribute(stacks: Iterable[tuple[list[str], int]], by: str = "function") -> Counter[str]:
    """Samples per owner (:func:`owner`), waiting threads left out."""
    charged: Counter[str] = Counter()
    for frames, count in stacks:
        if not waiting(frames):
            charged[owner(frames, by)] += count
    return charged


def compare(before: Counter[str], after: Counter[str], added: tuple[float, float], top: int) -> str:
    """Before/after rows: each function's share of the telemetry's samples, scaled to ``added`` (e.g. instructions)."""
    totals = [sum(n for name, n in c.items() if name != APP) or 1 for c in (before, after)]
    ranked = [name for name, _ in (before + after).most_common() if name != APP][:top]
    rows = [
        "| where (innermost telemetry frame) | share before | before, per request | share after | after, per request |",
        "|---|---:|---:|---:|---:|",
    ]

    def cells(counter: Counter[str], names: list[str], i: int) -> str:
        n = sum(counter[name] for name in names)
        return f"{n / totals[i] * 100:.1f} % | {n / totals[i] * added[i]:,.0f}"

    for name in ranked:
        rows.append(f"| `{name}` | {cells(before, [name], 0)} | {cells(after, [name], 1)} |")
    others = [name for name in before | after if name not in ranked and name != APP]
    rows.append(f"| {len(others)} other telemetry functions | {cells(before, others, 0)} | {cells(after, others, 1)} |")
    rows.append(f"| **telemetry, all** | 100 % | {added[0]:,.0f} | 100 % | {added[1]:,.0f} |")
    return "\n".join(rows)


def table(charged: Counter[str], us_per_request: float | None, top: int) -> str:
    """Markdown rows, heaviest first; the telemetry's total and the app's share last."""
    total = sum(charged.values()) or 1
    telemetry = sum(n for name, n in charged.items() if name != APP)
    scale = (us_per_request / total) if us_per_request else None

    def cell(samples: int) -> str:
        share = f"{samples / total * 100:.1f} %"
        return f"{share} | {samples * scale:.1f}" if scale is not None else f"{share} | —"

    rows = [
        "| where (innermost telemetry frame) | samples | share of the process | µs per request |",
        "|---|---:|---:|---:|",
    ]
    ranked = [(name, n) for name, n in charged.most_common() if name != APP]
    for name, n in ranked[:top]:
        rows.append(f"| `{name}` | {n} | {cell(n)} |")
    rest = sum(n for _, n in ranked[top:])
    if rest:
        rows.append(f"| {len(ranked) - top} other telemetry functions | {rest} | {cell(rest)} |")
    rows.append(f"| **telemetry, all** | {telemetry} | {cell(telemetry)} |")
    rows.append(f"| {APP} | {charged[APP]} | {cell(charged[APP])} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--after", type=Path, default=None, help="a second profile: a before/after table")
    parser.add_argument(
        "--added", type=float, nargs=2, default=None, help="what the telemetry adds per request, before and after"
    )
    parser.add_argument("--us-per-request", type=float, default=None)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--by", choices=("function", "module"), default="function")
    args = parser.parse_args(argv)
    with args.profile.open() as lines:
        charged = attribute(parse_raw(lines), args.by)
    if args.after is not None:
        with args.after.open() as lines:
            after = attribute(parse_raw(lines), args.by)
        print(compare(charged, after, tuple(args.added or (100.0, 100.0)), args.top))  # type: ignore[arg-type]
        return 0
    print(table(charged, args.us_per_request, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
