"""Arguments of ``otel-chatbot demo``; the heavy imports wait until it actually runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from otel_chatbot.demo.run import DEFAULT_OUTPUT, DemoOptions


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {raw}")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {raw}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=_positive_int, default=60, help="requests the load sends (default 60)")
    parser.add_argument("--sessions", type=_positive_int, default=4, help="concurrent conversations (default 4)")
    parser.add_argument(
        "--duration", type=_positive_float, default=30.0, help="stop the load after this many seconds (default 30)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"directory for the trace and metrics files ({DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--keep-running", action="store_true", help="after the load, keep serving the app and /metrics until Ctrl-C"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print a line per span")
    parser.add_argument(
        "--otlp-endpoint", metavar="URL", help="also export traces, metrics and logs over OTLP to this collector"
    )


def run(args: argparse.Namespace) -> int:
    from otel_chatbot.demo.run import run_demo

    options = DemoOptions(
        requests=args.requests,
        sessions=args.sessions,
        duration_s=args.duration,
        output=args.output,
        keep_running=args.keep_running,
        trace_lines=not args.quiet,
        otlp_endpoint=args.otlp_endpoint,
    )
    return run_demo(options)
