"""Command line: ``run`` a load test, ``compare`` two result files, ``show`` one.

``run`` imports Locust (and so gevent's monkey-patching) only once it is sure to run, and
before anything else opens a socket; ``compare`` and ``show`` never import it.

Exit codes: 0 ok; 1 ``compare`` found a regression or SLO breach; 2 bad arguments, an
unreadable result file, or a host that cannot be reached.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from bench.loadtest.options import DEFAULT_USERS, parse_duration, parse_users

T = TypeVar("T")


def _argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """argparse shows a ``ValueError`` as "invalid <function name> value"; keep our message."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError(f"must not be negative: {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(f"must be positive: {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="ramp up each user level, measure, write JSON")
    run.add_argument("--host", default="http://127.0.0.1:8000", help="base URL of the chatbot (default %(default)s)")
    run.add_argument("--scenario", choices=("rest", "sse", "ws", "mixed"), default="mixed")
    run.add_argument(
        "--users",
        type=_argument(parse_users),
        default=DEFAULT_USERS,
        help="comma-separated concurrent user levels, run one after another (default 10,50,100,200)",
    )
    run.add_argument(
        "--spawn-rate", type=_argument(_positive), default=10.0, help="users started per second (default %(default)s)"
    )
    run.add_argument(
        "--duration",
        type=_argument(parse_duration),
        default=30.0,
        help="steady-state window per level, e.g. 30s, 2m (default 30s)",
    )
    run.add_argument(
        "--think-time",
        type=_argument(_non_negative),
        default=0.0,
        help="seconds each user waits between turns (default 0: closed loop)",
    )
    run.add_argument("--message", default=None, help="the chat message users send")
    run.add_argument("--label", default="", help="a name for this run in reports, e.g. before or after")
    run.add_argument("--out", type=Path, default=Path("loadtest-results.json"), help="JSON result file")

    compare = commands.add_parser("compare", help="markdown report of after vs before; exit 1 on a regression")
    compare.add_argument("before", type=Path)
    compare.add_argument("after", type=Path)
    compare.add_argument("--p95-ms", type=float, default=200.0, help="SLO on p95 (default %(default)s)")
    compare.add_argument("--p99-ms", type=float, default=500.0, help="SLO on p99 (default %(default)s)")
    compare.add_argument("--max-error-rate", type=float, default=1.0, help="SLO, percent (default %(default)s)")
    compare.add_argument(
        "--max-throughput-drop", type=float, default=10.0, help="regression, percent (default %(default)s)"
    )
    compare.add_argument(
        "--max-latency-increase", type=float, default=20.0, help="regression on p95/p99, percent (default %(default)s)"
    )
    compare.add_argument(
        "--min-latency-increase-ms",
        type=float,
        default=2.0,
        help="a latency rise smaller than this is noise, whatever its percent (default %(default)s)",
    )
    compare.add_argument(
        "--max-error-rate-increase", type=float, default=0.5, help="regression, percentage points (default %(default)s)"
    )

    show = commands.add_parser("show", help="print the table of one result file")
    show.add_argument("result", type=Path)
    return parser


def _run(args: argparse.Namespace) -> int:
    from gevent import monkey

    # What Locust does on import, done explicitly and first: sockets, ssl and threads must be
    # gevent's before the runner's imports (urllib, websocket-client) load the originals.
    monkey.patch_all()

    from bench.loadtest import report, schema
    from bench.loadtest.runner import LoadTestError, RunConfig, run
    from bench.loadtest.users import MESSAGE

    config = RunConfig(
        host=args.host,
        scenario=args.scenario,
        users=args.users,
        spawn_rate=args.spawn_rate,
        duration_s=args.duration,
        think_time_s=args.think_time,
        message=args.message or MESSAGE,
        label=args.label,
    )
    try:
        result = run(config)
    except LoadTestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    schema.dump(result, args.out)
    print(report.render_run(result))
    print(f"results written to {args.out}", file=sys.stderr)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from bench.loadtest import compare, schema

    try:
        before, after = schema.load(args.before), schema.load(args.after)
    except (OSError, schema.SchemaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    thresholds = compare.Thresholds(
        p95_ms=args.p95_ms,
        p99_ms=args.p99_ms,
        max_error_rate=args.max_error_rate / 100.0,
        max_throughput_drop=args.max_throughput_drop / 100.0,
        max_latency_increase=args.max_latency_increase / 100.0,
        min_latency_increase_ms=args.min_latency_increase_ms,
        max_error_rate_increase=args.max_error_rate_increase / 100.0,
    )
    result = compare.compare(before, after, thresholds)
    print(compare.render_markdown(result, str(args.before), str(args.after)), end="")
    return compare.exit_code(result)


def _show(args: argparse.Namespace) -> int:
    from bench.loadtest import report, schema

    try:
        result = schema.load(args.result)
    except (OSError, schema.SchemaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.render_run(result), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "compare": _compare, "show": _show}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
