"""The example app under uvicorn, served from a background thread on a free loopback port.

The app gets its own thread and event loop so the load generator (on the main thread's
loop) never competes with it for a loop: latencies in the summary are the app's own. In a
non-main thread uvicorn installs no signal handlers; the demo owns SIGINT and SIGTERM.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn

STARTUP_TIMEOUT_S = 15.0
GRACEFUL_SHUTDOWN_S = 5.0


def _websocket_protocol() -> str:
    """uvicorn's sans-I/O websockets protocol where this uvicorn has it (the legacy one is deprecated)."""
    from uvicorn.config import WS_PROTOCOLS

    return "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "auto"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (another process could still take it before use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ExpectedFailureFilter(logging.Filter):
    """Drops uvicorn's traceback for exceptions the demo provokes on purpose.

    They are the point of the error route: the span lines and the summary show them; a
    traceback per request on stderr would only bury the output.
    """

    def __init__(self, expected: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.expected = expected

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, self.expected)


class AppServer:
    """``uvicorn.Server`` for ``app`` on a socket bound at construction (so ``url`` is known)."""

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto is
        # IPPROTO_TCP, and without it every streamed chunk after the first waits ~40 ms for an ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            ws=_websocket_protocol(),
            timeout_graceful_shutdown=int(GRACEFUL_SHUTDOWN_S),
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="demo-app-server", daemon=True)
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def _serve(self) -> None:
        try:
            self.server.run(sockets=[self._socket])
        except BaseException as exc:  # reported by start() / stop() in the main thread
            self.error = exc

    def start(self) -> AppServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                raise RuntimeError(f"the app server did not start: {self.error!r}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Graceful: in-flight requests finish (up to the timeout), lifespan shutdown runs."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(GRACEFUL_SHUTDOWN_S + 5)
        self._socket.close()
