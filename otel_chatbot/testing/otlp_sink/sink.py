"""``OtlpSink``: the object tests, the benchmark and the demo hold on to."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from otel_chatbot.testing.otlp_sink.behaviour import Behaviour
from otel_chatbot.testing.otlp_sink.grpc_server import OtlpGrpcServer
from otel_chatbot.testing.otlp_sink.http_server import OtlpHttpServer
from otel_chatbot.testing.otlp_sink.jsonl import JsonlWriter
from otel_chatbot.testing.otlp_sink.receiver import Receiver
from otel_chatbot.testing.otlp_sink.records import LogEntry, MetricPoint, SpanRecord
from otel_chatbot.testing.otlp_sink.signals import LOGS, METRICS, TRACES
from otel_chatbot.testing.otlp_sink.store import SinkStats, Store
from otel_chatbot.testing.otlp_sink.summary import summarize

T = TypeVar("T")


class OtlpSink:
    """A local OTLP receiver (HTTP and optionally gRPC) that decodes and records what it gets.

    ``keep=False`` only counts, so a long benchmark does not grow memory;
    ``jsonl`` appends every received item to a file as JSON lines.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        http_port: int = 0,
        grpc_port: int | None = 0,
        *,
        keep: bool = True,
        jsonl: str | Path | None = None,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.host = host
        self._http_port = http_port
        self._grpc_port = grpc_port
        self._jsonl_path = jsonl
        self.store = Store(keep=keep)
        self._receiver: Receiver | None = None
        self._initial_behaviour = behaviour or Behaviour()
        self._http: OtlpHttpServer | None = None
        self._grpc: OtlpGrpcServer | None = None

    # -- lifecycle -------------------------------------------------------

    def start(self) -> OtlpSink:
        if self._receiver is not None:
            raise RuntimeError("OtlpSink already started")
        jsonl = JsonlWriter(self._jsonl_path) if self._jsonl_path is not None else None
        receiver = Receiver(self.store, jsonl)
        receiver.behaviour = self._initial_behaviour
        self._receiver = receiver
        try:
            self._http = OtlpHttpServer(self.host, self._http_port, receiver)
            if self._grpc_port is not None:
                self._grpc = OtlpGrpcServer(self.host, self._grpc_port, receiver)
        except BaseException:
            self.stop()
            raise
        self._http.start()
        if self._grpc is not None:
            self._grpc.start()
        return self

    def stop(self) -> None:
        """Stop both servers; pending delayed requests are abandoned, not answered."""
        receiver, self._receiver = self._receiver, None
        if receiver is None:
            return
        receiver.stopping.set()
        if self._grpc is not None:
            self._grpc.stop()
            self._grpc = None
        if self._http is not None:
            self._http.stop()
            self._http = None
        receiver.close()

    def __enter__(self) -> OtlpSink:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- endpoints -------------------------------------------------------

    @property
    def http_endpoint(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:4318``; exporters append ``/v1/traces`` etc."""
        if self._http is None:
            raise RuntimeError("OtlpSink is not running")
        return f"http://{self.host}:{self._http.port}"

    @property
    def grpc_endpoint(self) -> str:
        """``host:port`` for the OTLP gRPC exporters (use ``insecure=True``)."""
        if self._grpc is None:
            raise RuntimeError("OtlpSink is not running with gRPC")
        return f"{self.host}:{self._grpc.port}"

    # -- behaviour -------------------------------------------------------

    @property
    def behaviour(self) -> Behaviour:
        return self._receiver.behaviour if self._receiver is not None else self._initial_behaviour

    def set_behaviour(
        self,
        delay_s: float = 0.0,
        fail_with: int | None = None,
        retry_after_s: int | None = None,
        message: str = "simulated backend failure",
    ) -> None:
        """Switch how the next requests are answered; the defaults restore normal service."""
        behaviour = Behaviour(delay_s, fail_with, retry_after_s, message)
        self._initial_behaviour = behaviour
        if self._receiver is not None:
            self._receiver.behaviour = behaviour

    # -- queries ---------------------------------------------------------

    def stats(self) -> SinkStats:
        return self.store.stats()

    def reset(self) -> None:
        """Forget all records and zero the counters."""
        self.store.reset()

    def spans(self, name: str | None = None) -> list[SpanRecord]:
        spans = [r for r in self.store.records(TRACES) if isinstance(r, SpanRecord)]
        return spans if name is None else [s for s in spans if s.name == name]

    def metric_points(self, name: str | None = None) -> list[MetricPoint]:
        points = [r for r in self.store.records(METRICS) if isinstance(r, MetricPoint)]
        return points if name is None else [p for p in points if p.name == name]

    def logs(self) -> list[LogEntry]:
        return [r for r in self.store.records(LOGS) if isinstance(r, LogEntry)]

    def latest_cumulative(self, name: str, **attrs: object) -> MetricPoint | None:
        """Newest cumulative point of ``name`` whose attributes include ``attrs``.

        Cumulative points repeat the running total on every export, so the
        newest one is the answer. Attribute keys with dots go in via
        ``**{"http.route": "/chat"}``. If several attribute sets match, that is
        ambiguous and raises ``AssertionError``.
        """
        newest: dict[frozenset[tuple[str, object]], MetricPoint] = {}
        for point in self.metric_points(name):
            if point.temporality != "CUMULATIVE":
                continue
            if any(point.attributes.get(k, _MISSING) != v for k, v in attrs.items()):
                continue
            key = frozenset((k, repr(v)) for k, v in point.attributes.items())
            if key not in newest or point.time_ns >= newest[key].time_ns:
                newest[key] = point
        if len(newest) > 1:
            sets = sorted(str(p.attributes) for p in newest.values())
            raise AssertionError(f"{name}: {len(newest)} attribute sets match {attrs}: {sets}")
        return next(iter(newest.values()), None)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
        """Re-evaluate ``predicate`` whenever data arrives until it returns something truthy.

        On timeout raises ``AssertionError`` with a summary of everything received,
        which is usually enough to see why the expected telemetry is missing.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                label = what or getattr(predicate, "__name__", "predicate")
                raise AssertionError(f"timed out after {timeout}s waiting for {label}\n{summarize(self)}")
            self.store.wait_for_news(min(remaining, 0.1))

    def wait_for_spans(self, count: int, name: str | None = None, timeout: float = 10.0) -> list[SpanRecord]:
        """Wait until at least ``count`` spans (named ``name``, if given) arrived; returns them."""

        def enough() -> list[SpanRecord]:
            spans = self.spans(name)
            return spans if len(spans) >= count else []

        return self.wait_for(enough, timeout, f"{count} span(s)" + (f" named {name!r}" if name else ""))


_MISSING = object()
