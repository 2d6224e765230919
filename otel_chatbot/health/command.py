"""``otel-chatbot health [APP_URL]``: check a deployment; exit 0 healthy, 1 degraded, 2 unhealthy.

Each part is checked only when its URL is given (``otel-chatbot health http://app:8000``
alone checks the app): the app's health endpoint, a chat round trip (``--chat-path``,
``--chat-body``), the collector's health_check extension (``--collector``, port 13133),
Prometheus ready with fresh series of the service (``--prometheus``, ``--service``), Tempo
ready and the round trip's trace found (``--tempo``), the live stats endpoint (``--stats``).
Unhealthy means users are affected (the app or the chat round trip fails); degraded means
they are served but telemetry is not (collector, Prometheus, Tempo, stats).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otel_chatbot.health.checks import Result


def _seconds(raw: str) -> float:
    value = float(raw)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"expected seconds from 0 to 3600, got {raw}")
    return value


def _json_object(raw: str) -> str:
    try:
        json.loads(raw)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--chat-body is not JSON: {error}") from None
    return raw


def _count(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of rounds, got {raw}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", nargs="?", metavar="APP_URL", help="the chatbot's base URL, e.g. http://app:8000")
    parser.add_argument("--health-path", default="/health", help="the app's health endpoint (default /health)")
    parser.add_argument("--chat-path", help="also POST a chat round trip to this path, e.g. /chat/health-check")
    parser.add_argument(
        "--chat-body", type=_json_object, default='{"message": "health check"}', help="the round trip's JSON body"
    )
    parser.add_argument(
        "--collector", metavar="URL", help="the collector's health_check URL, e.g. http://otelcol:13133/"
    )
    parser.add_argument("--prometheus", metavar="URL", help="Prometheus, e.g. http://prometheus:9090")
    parser.add_argument(
        "--service",
        default=os.environ.get("OTEL_SERVICE_NAME", "chatbot"),
        help="the service's Prometheus job label (default: $OTEL_SERVICE_NAME or chatbot)",
    )
    parser.add_argument(
        "--promql", help="instead of the default, a query whose first value is the newest series' age (s)"
    )
    parser.add_argument(
        "--max-age", type=_seconds, default=120.0, help="seconds after which series count as stale (default 120)"
    )
    parser.add_argument("--tempo", metavar="URL", help="Tempo's HTTP API, e.g. http://tempo:3200")
    parser.add_argument(
        "--trace-wait", type=_seconds, default=15.0, help="seconds to wait for the round trip's trace (default 15)"
    )
    parser.add_argument("--stats", metavar="URL", help="the app's live stats endpoint (OTEL_CHATBOT_STATS_PORT)")
    parser.add_argument("--timeout", type=_seconds, default=5.0, help="seconds per request (default 5)")
    parser.add_argument("--json", action="store_true", help="one JSON document per round instead of a table")
    parser.add_argument("--watch", type=_seconds, metavar="N", help="check again every N seconds until Ctrl-C")
    parser.add_argument("--count", type=_count, help="with --watch: stop after this many rounds")


def run(args: argparse.Namespace) -> int:
    if not any((args.app, args.collector, args.prometheus, args.tempo, args.stats)):
        print(
            "otel-chatbot health: nothing to check: give APP_URL and/or --collector, --prometheus, --tempo, --stats",
            file=sys.stderr,
        )
        return 2
    if args.chat_path and not args.app:
        print("otel-chatbot health: --chat-path needs APP_URL", file=sys.stderr)
        return 2
    from otel_chatbot.health.report import EXIT_CODES, as_json, overall, table

    rounds = 0
    try:
        while True:
            results = check_all(args)
            print(as_json(results) if args.json else table(results), flush=True)
            code = EXIT_CODES[overall(results)]
            rounds += 1
            if args.watch is None or (args.count is not None and rounds >= args.count):
                return code
            if not args.json:
                print(flush=True)
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return code if rounds else 130


def check_all(args: argparse.Namespace) -> list[Result]:
    """One round: each part whose URL was given, the chat before Tempo (which looks for its trace)."""
    from otel_chatbot.health import checks

    results: list[Result] = []
    trace_id = None
    if args.app:
        results.append(checks.check_app(args.app, args.health_path, args.timeout))
        if args.chat_path:
            chat = checks.check_chat(args.app, args.chat_path, args.chat_body, args.timeout)
            trace_id = chat.details.get("trace_id")
            results.append(chat)
    if args.collector:
        results.append(checks.check_collector(args.collector, args.timeout))
    if args.prometheus:
        results.append(checks.check_prometheus(args.prometheus, args.service, args.max_age, args.timeout, args.promql))
    if args.tempo:
        results.append(checks.check_tempo(args.tempo, trace_id, args.trace_wait, args.timeout))
    if args.stats:
        results.append(checks.check_stats(args.stats, 5.0, args.timeout))
    return results
