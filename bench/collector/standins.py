"""Counting stand-ins for the collector's metric backends: Prometheus remote write and CloudWatch Logs.

    python -m bench.collector.standins     # first line: "standins stats=<url> remote_write=<url> cloudwatch=<url>"

Real Prometheus and moto would take CPU from the collector under test (2 cores) and can
refuse what a benchmark sends (Prometheus: samples of one series closer than 1 ms; moto:
memory for every event).  These answer as the real services do and only count:

* ``POST /api/v1/write`` (remote write 1.0: snappy-compressed protobuf) -> 204, counting
  requests and bytes; the exporter's own ``otelcol_exporter_sent_metric_points`` counts the
  points it had acknowledged;
* CloudWatch Logs' JSON 1.1 protocol (``X-Amz-Target: Logs_20140328.<Action>``):
  ``PutLogEvents`` -> ``{"nextSequenceToken": ...}``, counting requests and log events
  (EMF events, one per metric group); every other action -> ``{}``.

``GET <stats url>`` returns the counters as JSON.  ``--fail-status N`` answers every write with
HTTP N instead (a backend outage).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType


class Counts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, **deltas: int) -> None:
        with self._lock:
            self._counts.update(deltas)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def handler(counts: Counts, fail_status: int | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the exporters expect

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/stats":
                self._answer(200, json.dumps(counts.snapshot()).encode())
            else:
                self._answer(404)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if fail_status is not None:
                counts.add(refused_requests=1)
                self._answer(fail_status, b'{"message": "stand-in outage"}')
            elif self.path == "/api/v1/write":
                counts.add(remote_write_requests=1, remote_write_bytes=len(body))
                self._answer(204)
            elif (target := self.headers.get("X-Amz-Target", "")).startswith("Logs_20140328."):
                action = target.split(".", 1)[1]
                counts.add(**{f"cloudwatch_{action}": 1})
                reply: dict[str, object] = {}
                if action == "PutLogEvents":
                    counts.add(cloudwatch_log_events=len(json.loads(body).get("logEvents", [])))
                    reply = {"nextSequenceToken": "1"}
                self._answer(200, json.dumps(reply).encode(), "application/x-amz-json-1.1")
            else:
                self._answer(404)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.collector.standins", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fail-status", type=int, help="answer every write with this HTTP status")
    a = p.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = ThreadingHTTPServer((a.host, a.port), handler(Counts(), a.fail_status))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://{a.host}:{server.server_address[1]}"
    print(f"standins stats={base}/stats remote_write={base}/api/v1/write cloudwatch={base}", flush=True)
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
