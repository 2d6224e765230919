"""``otel-chatbot top [URL]``: a live terminal monitor of a process's ``/stats`` view.

Refreshes every second: requests/s, errors and p50/p95/p99 per route, calls, tokens per
minute, cost per hour and time to first token per model, streams, WebSockets, the
semantic cache and failover, the process. ``--once --json`` prints the view once for
scripts (no terminal library needed); the screen needs ``rich``:
``pip install 'otel-chatbot[top]'``. URL defaults to the local endpoint that
``OTEL_CHATBOT_STATS_PORT`` / ``OTEL_CHATBOT_STATS_HOST`` describe.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

INSTALL_HINT = "otel-chatbot top: the live screen needs rich: pip install 'otel-chatbot[top]' (or use --once --json)"


def _window(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 300:
        raise argparse.ArgumentTypeError(f"expected seconds from 1 to 300, got {raw}")
    return value


def _interval(raw: str) -> float:
    value = float(raw)
    if not 0.1 <= value <= 60:
        raise argparse.ArgumentTypeError(f"expected seconds from 0.1 to 60, got {raw}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url",
        nargs="?",
        help="the stats endpoint, e.g. http://127.0.0.1:9465 (default: from OTEL_CHATBOT_STATS_PORT/HOST)",
    )
    parser.add_argument("--window", type=_window, default=60, help="seconds of the window rates cover (default 60)")
    parser.add_argument("--interval", type=_interval, default=1.0, help="seconds between refreshes (default 1)")
    parser.add_argument("--once", action="store_true", help="print one view and exit (1 if it cannot be read)")
    parser.add_argument("--json", action="store_true", help="print the /stats JSON (one document per line)")
    parser.add_argument("--timeout", type=_interval, default=5.0, help="seconds to wait for the endpoint (default 5)")


def run(args: argparse.Namespace) -> int:
    from otel_chatbot.stats.client import default_stats_url

    url = args.url or default_stats_url()
    if url is None:
        print("otel-chatbot top: give the stats endpoint's URL (or set OTEL_CHATBOT_STATS_PORT)", file=sys.stderr)
        return 2
    try:
        if args.json:
            return _json_lines(url, args)
        return _screen(url, args)
    except KeyboardInterrupt:
        return 0


def _json_lines(url: str, args: argparse.Namespace) -> int:
    from otel_chatbot.stats.client import StatsUnavailable, fetch_view

    while True:
        try:
            document: dict[str, Any] | None = fetch_view(url, args.window, args.timeout)
        except StatsUnavailable as error:
            print(f"otel-chatbot top: {error}", file=sys.stderr)
            if args.once:
                return 1
            document = None
        if document is not None:
            print(json.dumps(document, separators=(",", ":")), flush=True)
            if args.once:
                return 0
        time.sleep(args.interval)


def _screen(url: str, args: argparse.Namespace) -> int:
    try:
        from rich.console import Console
        from rich.live import Live
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    from otel_chatbot.stats.client import StatsUnavailable, fetch_view
    from otel_chatbot.top.render import error_screen, screen

    console = Console()
    if args.once:
        try:
            console.print(screen(fetch_view(url, args.window, args.timeout)))
        except StatsUnavailable as error:
            print(f"otel-chatbot top: {error}", file=sys.stderr)
            return 1
        return 0
    with Live(console=console, auto_refresh=False, redirect_stdout=False) as live:
        while True:
            started = time.monotonic()
            try:
                live.update(screen(fetch_view(url, args.window, args.timeout)), refresh=True)
            except StatsUnavailable as error:
                live.update(error_screen(url, str(error)), refresh=True)
            time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
