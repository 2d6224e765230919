"""Run the example chatbot under uvicorn as a real subprocess, talk to it, read what it exported.

Three ways to run the same app, which is the point of the distro tests:

* ``BARE``    — ``uvicorn APP`` (no telemetry at all; the reference for responses)
* ``AUTO``    — ``opentelemetry-instrument uvicorn APP`` (the entry points)
* ``IN_CODE`` — ``uvicorn APP`` with ``CHATBOT_CONFIGURE_IN_CODE=1`` (``configure(app)``)

Every process gets a unique ``OTEL_SERVICE_NAME``, so tests sharing one sink tell their
telemetry apart by ``service.name``. Output goes to a file (never a pipe that can fill),
every wait is bounded, and :meth:`AppProcess.stop` always ends the process.
"""

from __future__ import annotations

import contextlib
import enum
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from otel_chatbot.testing.otlp_sink import LogEntry, MetricPoint, OtlpSink, SpanRecord
from otel_chatbot.testing.otlp_sink.records import Attributes

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
APPS_DIR = Path(__file__).resolve().parent / "apps"

EXAMPLE_APP = "otel_chatbot.demo.chatbot.app:app"
"""The example chatbot exactly as users run it."""
LOGGING_APP = "chatbot_under_test:app"
"""The example chatbot plus one log record per request (see ``apps/chatbot_under_test.py``)."""

MODEL_ID = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
"""The example app's default model."""
USER_AGENT = "otel-chatbot-e2e/1.0"
CORRELATION_HEADERS = frozenset({"x-request-id", "x-trace-id", "x-response-time"})
"""Response headers the distro adds on purpose."""

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0

# Variables from the developer's shell that would change what the app does or where it exports.
_FOREIGN_PREFIXES = ("OTEL_", "AWS_", "FASTAPI_", "CHATBOT_", "BEDROCK_")
_FOREIGN = frozenset({"PYTHONPATH", "PYTHONSTARTUP", "PYTHONWARNINGS", "PYTHONHOME"})
_RUNNING = re.compile(r"Uvicorn running on http://([0-9.]+):(\d+)")


class Mode(enum.Enum):
    BARE = "bare"
    AUTO = "auto"
    IN_CODE = "in-code"


# -- talking HTTP ------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request of a script: method, path, optional JSON body, extra headers."""

    method: str
    path: str
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reply:
    """A response as the client saw it; header names lower-cased, in arrival order."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    elapsed_s: float

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


def send(base_url: str, call: Call, timeout_s: float = 10.0) -> Reply:
    """One request on a fresh connection; the body is read to the end (streams included)."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    payload = json.dumps(call.body).encode() if call.body is not None else None
    headers = {"User-Agent": USER_AGENT, **dict(call.headers)}
    if payload is not None:
        headers.setdefault("Content-Type", "application/json")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout_s)
    started = time.perf_counter()
    try:
        connection.request(call.method, call.path, body=payload, headers=headers)
        response = connection.getresponse()
        body = response.read()
        received = tuple((name.lower(), value) for name, value in response.getheaders())
        return Reply(response.status, received, body, time.perf_counter() - started)
    finally:
        connection.close()


def chat(session: str, message: str = "hello there", headers: Mapping[str, str] | None = None) -> Call:
    return Call("POST", f"/chat/{session}", {"message": message}, tuple((headers or {}).items()))


def chat_stream(session: str, message: str = "tell me a story") -> Call:
    return Call("POST", f"/chat/{session}/stream", {"message": message})


def chat_fail(session: str) -> Call:
    """The example's route that raises (a 500 from Starlette's error middleware)."""
    return Call("POST", f"/chat/{session}/fail", {"message": "break, please"})


def user_facing_script(prefix: str) -> tuple[Call, ...]:
    """Every kind of answer the example app gives: 200, SSE, 404, 422, 500, health."""
    return (
        chat(f"{prefix}-chat"),
        chat_stream(f"{prefix}-stream"),
        Call("GET", "/no/such/page"),
        Call("POST", f"/chat/{prefix}-bad", {"nonsense": True}),
        chat_fail(f"{prefix}-fail"),
        Call("GET", "/health"),
        Call("GET", f"/sessions/{prefix}-chat/history"),
    )


# -- processes ---------------------------------------------------------------------------


class AppProcess:
    """One ``uvicorn`` process (under ``opentelemetry-instrument`` in AUTO mode)."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.base_url = ""
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def start(self, timeout_s: float = START_TIMEOUT_S) -> AppProcess:
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            self.argv,
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while True:
            found = _RUNNING.search(self.output())
            if found:
                self.port = int(found.group(2))
                self.base_url = f"http://{found.group(1)}:{self.port}"
                break
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{self.name} did not start; output:\n{self.output()}")
            time.sleep(0.05)
        health = send(self.base_url, Call("GET", "/health"))
        assert health.status == 200, f"{self.name}: /health answered {health.status}: {health.body!r}"
        return self

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def terminate(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, as a process manager would; returns the exit status (killed if it hangs)."""
        assert self._proc is not None, "not started"
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
        try:
            return self._proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError(f"{self.name} ignored SIGTERM for {timeout_s}s; output:\n{self.output()}") from None
        finally:
            self._close_log()

    def stop(self) -> None:
        """Idempotent: SIGTERM, a bounded wait, then SIGKILL of the process group."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._kill()
        self._close_log()

    def _kill(self) -> None:
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait(STOP_TIMEOUT_S)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def otlp_env(sink: OtlpSink, protocol: str = "http/protobuf", **overrides: str) -> dict[str, str]:
    """Export everything to ``sink`` quickly: metrics every 0.5 s, span and log batches every 0.2 s."""
    endpoint = sink.http_endpoint if protocol == "http/protobuf" else f"http://{sink.grpc_endpoint}"
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_METRIC_EXPORT_INTERVAL": "500",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
    }
    env.update(overrides)
    return env


@dataclass
class Launcher:
    """Starts app processes against one Bedrock server and stops every one of them at the end."""

    workdir: Path
    bedrock_url: str
    started: list[AppProcess] = field(default_factory=list)

    def start(
        self,
        name: str,
        mode: Mode,
        *,
        app: str = EXAMPLE_APP,
        telemetry: Mapping[str, str] | None = None,
        pythonpath: Sequence[Path] = (),
    ) -> AppProcess:
        """Start ``app`` as ``mode``; ``name`` is also its ``OTEL_SERVICE_NAME`` (keep it unique)."""
        assert all(p.name != name for p in self.started), f"process name {name!r} used twice"
        env = {key: value for key, value in os.environ.items() if not _foreign(key)}
        env.update(
            {
                "PYTHONPATH": os.pathsep.join([*map(str, pythonpath), str(REPO)]),
                "PYTHONUNBUFFERED": "1",
                "BEDROCK_ENDPOINT_URL": self.bedrock_url,
                "AWS_REGION": "us-east-1",
                "OTEL_SERVICE_NAME": name,
                # Off AWS the detectors only read local files, but a CI runner may be an EC2 VM.
                "OTEL_CHATBOT_AWS_DETECTORS": "none",
            }
        )
        if mode is not Mode.BARE:
            env.update(telemetry or {})
        if mode is Mode.IN_CODE:
            env["CHATBOT_CONFIGURE_IN_CODE"] = "1"
        uvicorn = [str(BIN / "uvicorn"), app, "--host", "127.0.0.1", "--port", "0"]
        if app == LOGGING_APP:
            uvicorn += ["--app-dir", str(APPS_DIR)]
        argv = [str(BIN / "opentelemetry-instrument"), *uvicorn] if mode is Mode.AUTO else uvicorn
        process = AppProcess(name, argv, env, self.workdir / f"{name}.log")
        self.started.append(process)
        return process.start()

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()


def _foreign(key: str) -> bool:
    return key.startswith(_FOREIGN_PREFIXES) or key in _FOREIGN


# -- what arrived at the sink ------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """What one service (by ``service.name``) exported, copied out of the sink at one moment."""

    spans: tuple[SpanRecord, ...]
    points: tuple[MetricPoint, ...]
    logs: tuple[LogEntry, ...]

    @classmethod
    def of(cls, sink: OtlpSink, service: str) -> Received:
        def mine(record: SpanRecord | MetricPoint | LogEntry) -> bool:
            return record.resource.get("service.name") == service

        return cls(
            tuple(filter(mine, sink.spans())),
            tuple(filter(mine, sink.metric_points())),
            tuple(filter(mine, sink.logs())),
        )

    def resources(self) -> list[Attributes]:
        """The resource of every span, metric point and log record, in that order."""
        return [s.resource for s in self.spans] + [p.resource for p in self.points] + [e.resource for e in self.logs]

    def server_spans(self, path: str | None = None) -> list[SpanRecord]:
        return [s for s in self.spans if s.kind == "SERVER" and (path is None or s.attributes.get("url.path") == path)]

    def client_spans(self, name: str) -> list[SpanRecord]:
        return [s for s in self.spans if s.kind == "CLIENT" and s.name == name]

    def histogram_count(self, name: str, **attributes: object) -> int:
        """Requests counted in a cumulative histogram, over every scope and attribute set matching.

        Cumulative points repeat the running total, so only the newest point of each
        (scope, attribute set) counts; summing over scopes exposes double recording.
        """
        newest: dict[tuple[str, str], MetricPoint] = {}
        for point in self.points:
            if point.name != name or point.temporality != "CUMULATIVE":
                continue
            if any(point.attributes.get(key) != value for key, value in attributes.items()):
                continue
            key = (point.scope_name, repr(sorted(point.attributes.items())))
            if key not in newest or point.time_ns >= newest[key].time_ns:
                newest[key] = point
        return sum(point.count or 0 for point in newest.values())


def recorded_twice(points: Iterable[MetricPoint]) -> list[tuple[str, str]]:
    """Metric series exported twice in one collection: two instruments (any scope) with one name and attributes."""
    seen: dict[tuple[str, str, int, str], int] = {}
    for point in points:
        key = (
            point.resource.get("service.instance.id", ""),
            point.name,
            point.time_ns,
            repr(sorted(point.attributes.items())),
        )
        seen[key] = seen.get(key, 0) + 1
    return sorted({(name, attributes) for (_, name, _, attributes), n in seen.items() if n > 1})


def wait_until(sink: OtlpSink, service: str, ready: Callable[[Received], bool], timeout_s: float) -> Received:
    """What ``service`` exported once ``ready`` holds, or after ``timeout_s`` (tests then say what is missing)."""
    deadline = time.monotonic() + timeout_s
    while True:
        received = Received.of(sink, service)
        if ready(received) or time.monotonic() >= deadline:
            return received
        sink.store.wait_for_news(min(0.1, max(0.0, deadline - time.monotonic())))


def describe(spans: Iterable[SpanRecord]) -> str:
    """Span names, kinds, scopes and parents, one per line, for assertion messages."""
    return "\n".join(
        f"  {s.name!r} {s.kind} scope={s.scope_name} id={s.span_id} parent={s.parent_span_id}" for s in spans
    )
