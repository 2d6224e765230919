"""The command line every stand-in shares: ``python -m otel_chatbot.testing.<provider> --host 127.0.0.1 --port 0``.

Prints ``listening on http://HOST:PORT`` once bound (flushed, so a parent process can read the
port chosen for ``--port 0``: :mod:`otel_chatbot.testing.process` does) and serves until
SIGTERM or SIGINT, then exits 0.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from otel_chatbot.testing.standin.http import StandInServer


def serve(server_type: type[StandInServer], prog: str, description: str | None, argv: Sequence[str] | None) -> int:
    """Parse ``argv``, run ``server_type`` until a signal asks it to stop; the exit code."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--stream-pace",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="pause between a stream's events, as a model emits tokens (default 0: no pause)",
    )
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server = server_type(args.host, args.port, verbose=args.verbose, stream_pace_s=args.stream_pace)
    except ValueError as exc:
        parser.error(str(exc))
    server.start()
    print(f"listening on {server.url}", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    return 0
