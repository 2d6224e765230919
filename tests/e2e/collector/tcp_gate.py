"""A loopback TCP forwarder that can be shut: a backend that goes down and comes back with its data intact.

Stopping Prometheus or moto_server would lose their state (moto keeps everything in memory), so the
collector talks to them through a gate; ``shut()`` resets every open connection and every new one
(the collector sees "connection reset", a retryable error), ``open()`` lets traffic through again.
The test reads the backends directly, never through the gate.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the peer's next read or write fails at once."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class TcpGate:
    """Forwards 127.0.0.1:``port`` to ``target_port`` while open."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._stopped = False
        self._acceptor = threading.Thread(target=self._accept, name=f"tcp-gate-{self.port}", daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def shut(self) -> None:
        """Refuse from now on, and reset what is open (a keep-alive connection would carry on otherwise)."""
        self._open.clear()
        with self._lock:
            live, self._live = self._live, set()
        for sock in live:
            _reset(sock)

    def open(self) -> None:
        self._open.set()

    def stop(self) -> None:
        self._stopped = True
        self.shut()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._acceptor.join(5)

    def __enter__(self) -> TcpGate:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._live.update((client, upstream))
            done = threading.Semaphore(0)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink, done), daemon=True).start()
            threading.Thread(target=self._close_after, args=(client, upstream, done), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, done: threading.Semaphore) -> None:
        """Copy one direction; pass an orderly end on as FIN, anything else as RST on both sides."""
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            _reset(source)
            _reset(sink)
        finally:
            done.release()

    def _close_after(self, client: socket.socket, upstream: socket.socket, done: threading.Semaphore) -> None:
        done.acquire()
        done.acquire()
        with self._lock:
            self._live.discard(client)
            self._live.discard(upstream)
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.close()
