"""A collector outage shorter than the app's export queue loses no span and no log record.

The example chatbot under the distro (``opentelemetry-instrument uvicorn``, a local Bedrock)
takes a steady load of chat requests; it exports OTLP/HTTP to otelcol-chatbot running
``agent.yaml``, which forwards everything to an OTLP sink (the gateway's place). In the middle
of the load the collector is

* **stopped**: SIGTERM, and 20 s later a new process on the same ports and storage, or
* **hung**: SIGSTOP, and 20 s later SIGCONT (requests reach its socket and wait: the app's
  exports time out, and the collector takes the requests it had when it resumes).

Afterwards every request's trace is complete at the sink (span ids counted once: delivery is
at least once, and a hung collector may take a request the app then sends again), and every
request's access log record is there. The app's own metrics say that no span or log record
was dropped (``otel.sdk.processor.*.processed`` without ``error.type=queue_full``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn.config
from e2e_backends import ChatbotApp, poll
from otelcol_harness import Collector, loopback_env

from otel_chatbot.testing.bedrock import BedrockServer
from otel_chatbot.testing.otlp_sink import OtlpSink

pytestmark = pytest.mark.e2e

RATE = 50
"""Requests per second: with ~3 spans and 1 log record each, 20 s of outage (plus the
exporter's own retries, up to its 10 s timeout) stays far below the 8,192-item queues."""
LOAD_S = 45.0
OUTAGE_AT_S = 8.0
OUTAGE_S = 20.0
SERVICE = "outage-test"


@dataclass
class Load:
    """An open-loop load of chat requests, one session id each, on its own thread and event loop."""

    base_url: str
    rate: float
    duration: float
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> Load:
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.thread.start()
        return self

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(self.duration + 60)
        assert not self.thread.is_alive(), "the load did not finish"

    async def _run(self) -> None:
        # Idle connections expire on the client before uvicorn's 5 s keep-alive closes them: with
        # both at 5 s, a request sent on a connection the server is closing fails with ReadError('').
        limits = httpx.Limits(max_connections=64, keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30, limits=limits) as client:
            started = time.monotonic()
            tasks = []
            for i in range(int(self.rate * self.duration)):
                delay = started + i / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self._chat(client, f"/chat/outage-{i:05d}")))
            await asyncio.gather(*tasks)

    async def _chat(self, client: httpx.AsyncClient, path: str) -> None:
        try:
            response = await client.post(path, json={"message": "Where is my order?"})
            ok = response.status_code == 200
        except httpx.HTTPError as exc:
            ok, response = False, exc  # type: ignore[assignment]
        (self.sent if ok else self.failed).append(path if ok else f"{path}: {response!r}")


@dataclass
class Delivered:
    spans_by_path: dict[str, set[str]]
    spans_received: int
    logs_by_path: Counter[str]


def delivered(sink: OtlpSink) -> Delivered:
    """What reached the sink, per request path: distinct span ids of its trace, and its access log records."""
    spans = [s for s in sink.spans() if s.resource.get("service.name") == SERVICE]
    path_of_trace = {s.trace_id: str(s.attributes.get("url.path")) for s in spans if s.kind == "SERVER"}
    by_path: dict[str, set[str]] = defaultdict(set)
    for span in spans:
        if span.trace_id in path_of_trace:
            by_path[path_of_trace[span.trace_id]].add(span.span_id)
    logs: Counter[str] = Counter()
    for entry in sink.logs():
        body = str(entry.body)
        if entry.resource.get("service.name") == SERVICE and '"POST /chat/outage-' in body:
            logs[body.split('"POST ', 1)[1].split(" ", 1)[0]] += 1
    return Delivered(by_path, len(spans), logs)


def processed(sink: OtlpSink, name: str) -> dict[str | None, float]:
    """The app's latest ``otel.sdk.processor.*.processed`` per ``error.type``."""
    latest: dict[str | None, tuple[int, float]] = {}
    for point in sink.metric_points(name):
        if point.resource.get("service.name") != SERVICE or point.value is None:
            continue
        key = point.attributes.get("error.type")
        error = None if key is None else str(key)
        if error not in latest or point.time_ns >= latest[error][0]:
            latest[error] = (point.time_ns, float(point.value))
    return {error: value for error, (_, value) in latest.items()}


@contextlib.contextmanager
def stack_under_test(otelcol_binary: Path, work: Path) -> Iterator[tuple[OtlpSink, list[Collector], ChatbotApp]]:
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(OtlpSink())
        bedrock = stack.enter_context(BedrockServer())
        env = loopback_env(work / "storage", OTELCOL_GATEWAY_ENDPOINTS=f"[{sink.grpc_endpoint}]")
        collectors = [Collector(otelcol_binary, ["agent.yaml"], env, work / "collector.log")]
        stack.callback(lambda: [c.stop() for c in collectors])
        collectors[0].start()

        app_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        app_env.update(
            PYTHONPATH=str(Path(__file__).resolve().parents[3]),
            PYTHONUNBUFFERED="1",
            OTEL_SERVICE_NAME=SERVICE,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{env['OTELCOL_OTLP_HTTP_ENDPOINT']}",
            OTEL_METRIC_EXPORT_INTERVAL="1000",
            OTEL_BSP_SCHEDULE_DELAY="200",
            OTEL_BLRP_SCHEDULE_DELAY="200",
            OTEL_CHATBOT_AWS_DETECTORS="none",
            BEDROCK_ENDPOINT_URL=bedrock.endpoint_url,
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
        )
        # uvicorn stops its records at its own loggers; let them reach the distro's handler on the
        # root logger, so each request's access log line is exported as an OTLP log record.
        logging_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
        for name in ("uvicorn", "uvicorn.access"):
            logging_config["loggers"][name]["propagate"] = True
        log_config = work / "uvicorn-logging.json"
        log_config.write_text(json.dumps(logging_config))
        app = ChatbotApp(app_env, work / "app.log", log_config)
        stack.callback(app.stop)
        app.start()
        yield sink, collectors, app


def stop_then_restart(collectors: list[Collector]) -> None:
    collectors[0].stop()  # SIGTERM: the collector drains into its persistent queue and exits
    time.sleep(OUTAGE_S)
    old = collectors[0]
    collectors[0] = Collector(old.binary, old.configs, old.env, old.log_path).start()


def hang_then_resume(collectors: list[Collector]) -> None:
    proc = collectors[0].proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        time.sleep(OUTAGE_S)
    finally:
        os.kill(proc.pid, signal.SIGCONT)


OUTAGES = {"stopped": stop_then_restart, "hung": hang_then_resume}


@pytest.mark.timeout(420)
@pytest.mark.parametrize("outage", OUTAGES)
def test_a_collector_outage_shorter_than_the_queue_loses_nothing(
    otelcol_binary: Path, tmp_path: Path, outage: str
) -> None:
    with stack_under_test(otelcol_binary, tmp_path) as (sink, collectors, app):
        load = Load(app.base_url, RATE, LOAD_S).start()
        time.sleep(OUTAGE_AT_S)
        outage_started = time.monotonic()
        OUTAGES[outage](collectors)
        outage_took = time.monotonic() - outage_started
        load.join()
        assert load.failed == [], load.failed[:5]  # the app itself never noticed
        sent = set(load.sent)
        assert len(sent) == int(RATE * LOAD_S)

        def complete() -> Delivered | None:
            got = delivered(sink)
            sizes = Counter(len(got.spans_by_path.get(path, ())) for path in sent)
            return got if len(sizes) == 1 and 0 not in sizes and set(got.logs_by_path) >= sent else None

        try:
            got = poll(complete, 120, "every request's trace and log record at the sink", interval=1.0)
        except AssertionError:
            got = delivered(sink)
            missing_traces = [p for p in sent if p not in got.spans_by_path]
            missing_logs = [p for p in sent if p not in got.logs_by_path]
            sizes = Counter(len(got.spans_by_path.get(p, ())) for p in sent)
            raise AssertionError(
                f"after a {outage} collector ({outage_took:.1f}s): {len(missing_traces)} of {len(sent)} traces and "
                f"{len(missing_logs)} log records missing; spans per trace {dict(sizes)}\n"
                f"app log:\n{app.log_tail(30)}"
            ) from None

        spans_per_trace = {len(got.spans_by_path[path]) for path in sent}
        (per_trace,) = spans_per_trace
        assert per_trace >= 2  # the server span and the Bedrock client span at least
        distinct_spans = sum(len(got.spans_by_path[path]) for path in sent)
        assert distinct_spans == per_trace * len(sent)  # 0 spans lost
        assert set(got.logs_by_path) >= sent  # 0 log records lost

        log = app.log()
        assert log.count("traces export to") >= 2, app.log_tail(30)  # "is failing", then "recovered"
        assert "is failing" in log and "recovered after" in log
        assert "queue is full" not in log

        # The app's own count agrees: nothing dropped, everything sent (the metrics are cumulative:
        # they came through the outage too).
        for name in ("otel.sdk.processor.span.processed", "otel.sdk.processor.log.processed"):
            counts = poll(lambda n=name: processed(sink, n) or None, 30, f"{name} from the app")
            assert set(counts) == {None}, counts
        print(
            f"\n{outage}: {outage_took:.1f}s outage, {len(sent)} requests, {distinct_spans} spans "
            f"({per_trace} per trace) and {len(sent)} access log records all delivered; "
            f"{got.spans_received - distinct_spans} span duplicates, "
            f"{sum(got.logs_by_path[p] for p in sent) - len(sent)} log record duplicates (at least once)"
        )
