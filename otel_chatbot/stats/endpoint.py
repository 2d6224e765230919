"""``GET /stats`` and the live page on their own port: the stats reader, its sampler, a small server.

Opt-in (``OTEL_CHATBOT_STATS_PORT``), bound to 127.0.0.1 unless ``OTEL_CHATBOT_STATS_HOST``
says otherwise. The server is the standard library's threaded ``http.server`` on its own
threads, and the sampler a daemon thread that collects once per second: neither ever
touches the app's event loop. A port that cannot be bound (taken, say by the parent of a
forked worker) is logged and the app runs on without the endpoint (and without the
reader's cost): telemetry never stops the app.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from otel_chatbot.guard import report
from otel_chatbot.stats.reader import StatsReader
from otel_chatbot.stats.ring import MAX_WINDOW_S
from otel_chatbot.stats.view import Json, Period, summarize

_log = logging.getLogger("otel_chatbot")

DEFAULT_WINDOW_S = 60
_POLL_S = 0.1
"""How often the idle server checks for shutdown (the standard library's default, 0.5 s, delays exit)."""
_SERVICE_KEYS = {
    "service.name": "name",
    "service.version": "version",
    "service.instance.id": "instance",
    "deployment.environment.name": "environment",
}


def parse_window(raw: str | None) -> int:
    """The ``?window=`` seconds: an integer from 1 to :data:`MAX_WINDOW_S` (default 60)."""
    if raw is None or raw == "":
        return DEFAULT_WINDOW_S
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_WINDOW_S:
        raise ValueError(f"window must be an integer number of seconds from 1 to {MAX_WINDOW_S}, got {raw!r}")
    return value


def live_view(reader: StatsReader, window_s: float, service: Mapping[str, Any]) -> Json:
    """The whole ``/stats`` document: the window, since start, and the reader's own cost."""
    now = reader.clock()
    snapshots = reader.ring.snapshots()
    latest = snapshots[-1] if snapshots else None
    found = reader.ring.window(window_s)
    window = None if found is None else Period(found[1], found[0], found[1].at - found[0].at, found[2])
    since_start = None if latest is None else Period(latest, None, latest.at - reader.started_at)
    costs = list(reader.collect_cpu_s)
    return {
        "service": dict(service),
        "uptime_s": round(now - reader.started_at, 3),
        "sample_age_s": None if latest is None else round(now - latest.at, 3),
        "window_requested_s": window_s,
        "window": None if window is None else summarize(window),
        "since_start": None if since_start is None else summarize(since_start, dict(reader.peaks)),
        "stats": {
            "interval_s": reader.interval_s,
            "samples": reader.samples,
            "snapshots": len(snapshots),
            "ring_capacity": reader.ring.capacity,
            "series": reader.series,
            "collect_cpu_ms": {
                "last": round(costs[-1] * 1000, 3) if costs else None,
                "avg": round(sum(costs) / len(costs) * 1000, 3) if costs else None,
                "max": round(max(costs) * 1000, 3) if costs else None,
            },
        },
    }


def _page() -> bytes:
    return resources.files("otel_chatbot.stats").joinpath("page.html").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: _StatsServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        try:
            if url.path == "/":
                self._reply(HTTPStatus.OK, "text/html; charset=utf-8", self.server.page)
            elif url.path == "/stats":
                self._stats(parse_qs(url.query).get("window", [None])[-1])
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no {url.path}: try / or /stats?window=60"})
        except Exception as exc:  # the app must not see our errors, the client gets a 500
            report("the stats endpoint", exc)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error, logged by the app"})

    def _stats(self, raw_window: str | None) -> None:
        try:
            window = parse_window(raw_window)
        except ValueError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self._json(HTTPStatus.OK, live_view(self.server.reader, window, self.server.service))

    def _json(self, status: HTTPStatus, document: Json) -> None:
        self._reply(status, "application/json", json.dumps(document, separators=(",", ":")).encode())

    def _reply(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per poll on stderr would bury the app's own output


class _StatsServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], reader: StatsReader, service: Mapping[str, Any]) -> None:
        super().__init__(address, _Handler)
        self.reader = reader
        self.service = service
        self.page = _page()


class StatsEndpoint:
    """The reader (add it to the MeterProvider's readers), then :meth:`start`, then :meth:`close`."""

    def __init__(self, server: _StatsServer, reader: StatsReader) -> None:
        self._server = server
        self.reader = reader
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def open(
        cls, host: str, port: int, resource_attributes: Mapping[str, Any], *, interval_s: float = 1.0
    ) -> StatsEndpoint | None:
        """Bind the port now (so the URL is known); None, logged, when it cannot be bound."""
        service = {
            short: resource_attributes[key] for key, short in _SERVICE_KEYS.items() if key in resource_attributes
        }
        reader = StatsReader(interval_s=interval_s)
        try:
            server = _StatsServer((host, port), reader, service)
        except OSError as exc:
            _log.warning(
                "otel_chatbot: OTEL_CHATBOT_STATS_PORT: cannot serve the live stats on %s:%d (%s); "
                "this process runs without them",
                host,
                port,
                exc,
            )
            return None
        return cls(server, reader)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._server.server_address[0])
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    def start(self) -> None:
        """Serve and sample, each on a daemon thread (the reader must be registered by now)."""
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever, args=(_POLL_S,), name="otel-chatbot-stats-http", daemon=True
            ),
            threading.Thread(target=self._sample_forever, name="otel-chatbot-stats-sampler", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _sample_forever(self) -> None:
        """One sample per interval, on a fixed schedule (a slow collection does not shift the next ones)."""
        clock, interval = self.reader.clock, self.reader.interval_s
        due = clock()
        while True:
            try:
                self.reader.sample()
            except Exception as exc:
                report("the stats sampler", exc)
            due += interval
            delay = due - clock()
            if delay < 0:  # fell behind (a stalled process): resume from now, no burst of catch-up samples
                due, delay = clock(), 0.0
            if self._stop.wait(delay):
                return

    def close(self) -> None:
        self._stop.set()
        if self._threads:
            self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(5)
