"""A real HTTP/1.1 server on 127.0.0.1, in this process, that records the headers it received.

For the HTTP client patches: httpx's ``HTTPTransport`` (the class our patch wraps) only talks
to real sockets, so its fast tests send real requests here. ``/status/503`` answers 503,
anything else 200 ``ok``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer:
    """Where the server listens and the request headers it has seen (lower-cased names)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[dict[str, str]] = []


def _handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Recorder(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            server.seen.append({k.lower(): v for k, v in self.headers.items()})
            status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 200
            body = b"ok"
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Recorder


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on an OS-assigned port of 127.0.0.1 for the block; yields the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@contextmanager
def loopback_server() -> Iterator[LoopbackServer]:
    """Serve on an OS-assigned port for the duration of the block."""
    state = LoopbackServer("")
    with serving(_handler(state)) as url:
        state.url = url
        yield state
