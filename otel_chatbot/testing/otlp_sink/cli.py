"""``python -m otel_chatbot.testing.otlp_sink``: run the sink as a process (benchmark backend, demo)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from otel_chatbot.testing.otlp_sink.behaviour import Behaviour
from otel_chatbot.testing.otlp_sink.jsonable import dumps
from otel_chatbot.testing.otlp_sink.sink import OtlpSink


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m otel_chatbot.testing.otlp_sink",
        description="Local OTLP receiver (HTTP and gRPC) that decodes, counts and stores telemetry.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--http-port", type=int, default=4318, help="0 picks a free port (default 4318)")
    p.add_argument("--grpc-port", type=int, default=4317, help="0 picks a free port (default 4317)")
    p.add_argument("--no-grpc", action="store_true", help="serve OTLP/HTTP only")
    p.add_argument("--count-only", action="store_true", help="count items without storing them")
    p.add_argument("--jsonl", metavar="FILE", help="append every received item to FILE as JSON lines")
    p.add_argument("--delay-s", type=float, default=0.0, help="hold every answer back this long")
    p.add_argument("--fail-with", type=int, metavar="STATUS", help="answer exports with this HTTP status")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; the first stdout line names the endpoints."""
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sink = OtlpSink(
        args.host,
        args.http_port,
        None if args.no_grpc else args.grpc_port,
        keep=not args.count_only,
        jsonl=args.jsonl,
        behaviour=Behaviour(delay_s=args.delay_s, fail_with=args.fail_with),
    )
    with sink:
        grpc = "off" if args.no_grpc else sink.grpc_endpoint
        print(f"otlp sink http={sink.http_endpoint} grpc={grpc}", flush=True)
        stop.wait()
    print(f"otlp sink stopped stats={dumps(sink.stats()).decode()}", file=sys.stderr, flush=True)
    return 0
