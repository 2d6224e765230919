"""The load generator: paced OTLP/gRPC exports of pre-encoded requests, retried like an SDK would.

    python -m bench.collector.replay --signal traces --endpoint 127.0.0.1:4317 --rate 50000 --duration 10

Why not telemetrygen alone: on this 2-core machine it spends 18-31 us of CPU per span (the Go
SDK per span, and a rate limiter that sleeps per item and reaches only ~60 % of the asked rate
above ~1,000 items/s per worker), i.e. a core or more at 50,000 spans/s, taken from the
collector it measures.  This one sends requests encoded once and stamped with fresh trace ids
(payloads.py) for ~0.2 us per item.  bench/collector_throughput.py still runs telemetrygen at
a rate it can sustain as an independent check of the same pipelines.

Pacing: one request every ``items / rate`` seconds, at most ``--inflight`` unanswered; when
the collector answers slower than that, sending falls behind and the achieved rate (printed)
is below the target: that is backpressure, not loss.  Sending stops at the end of
``--duration`` even when behind, so a saturated step takes no longer than one that keeps up.
A request refused with a retryable status (OTLP: UNAVAILABLE, RESOURCE_EXHAUSTED, ...; what
memory_limiter answers) is retried
with exponential backoff until ``--drain-timeout`` after the end; only then does it count as
failed.  The first stdout line, ``sending``, marks the start; the last is the result as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import itertools
import json
import queue
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from bench.collector.payloads import METHODS, SIGNALS, Template, templates

# The OTLP specification's retryable gRPC codes.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)
_RESPONSES: dict[str, Any] = {
    "traces": (ExportTraceServiceResponse, "rejected_spans"),
    "metrics": (ExportMetricsServiceResponse, "rejected_data_points"),
    "logs": (ExportLogsServiceResponse, "rejected_log_records"),
}
BACKOFF_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)


@dataclass
class Result:
    signal: str
    target_rate: float
    duration_s: float
    batch: int
    requests: int = 0
    items: int = 0  # generated: first attempts
    accepted: int = 0  # answered OK (minus partial-success rejections)
    rejected: int = 0  # partial success: rejected by the collector, not retryable
    failed: int = 0  # gave up: permanent error, or still refused at the drain deadline
    retries: dict[str, int] = field(default_factory=dict)  # by gRPC status name
    errors: dict[str, int] = field(default_factory=dict)  # non-retryable, by status name
    send_s: float = 0.0  # from the first request to the last first attempt
    drained_s: float = 0.0  # from the first request to the last answer
    achieved_rate: float = 0.0  # items / send_s
    max_behind_s: float = 0.0  # how far sending fell behind the schedule
    cpu_s: float = 0.0  # this process, while sending and draining (not its start-up)


@dataclass(order=True)
class _Retry:
    due: float
    seq: int
    body: bytes = field(compare=False)
    items: int = field(compare=False)
    attempt: int = field(compare=False)


def run(
    signal: str,
    endpoint: str,
    rate: float,
    duration_s: float,
    batch: int,
    inflight: int,
    instances: int,
    drain_timeout_s: float,
    timeout_s: float = 10.0,
) -> Result:
    """Send ``rate`` items/s for ``duration_s``, then wait for every answer (retrying refusals)."""
    pool: Sequence[Template] = templates(signal, batch, instances)
    result = Result(signal, rate, duration_s, pool[0].items)
    response_type, rejected_field = _RESPONSES[signal]
    channel = grpc.insecure_channel(
        endpoint, options=[("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
    )
    export = channel.unary_unary(METHODS[signal])  # bytes in, bytes out: no (de)serializers
    done: queue.SimpleQueue[tuple[grpc.Future, bytes, int, int]] = queue.SimpleQueue()
    retries: list[_Retry] = []
    seq = itertools.count()
    retry_codes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    outstanding = 0

    def send(body: bytes, items: int, attempt: int) -> None:
        nonlocal outstanding
        fut = export.future(body, timeout=timeout_s)
        outstanding += 1
        fut.add_done_callback(lambda f: done.put((f, body, items, attempt)))

    def settle(fut: grpc.Future, body: bytes, items: int, attempt: int, now: float) -> None:
        nonlocal outstanding
        outstanding -= 1
        code = fut.code()
        if code is grpc.StatusCode.OK:
            resp = response_type()
            resp.ParseFromString(fut.result())
            rejected = getattr(resp.partial_success, rejected_field)
            result.accepted += items - rejected
            result.rejected += rejected
        elif code in RETRYABLE and now < deadline:
            retry_codes[code.name] += 1
            delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            heapq.heappush(retries, _Retry(now + delay, next(seq), body, items, attempt + 1))
        else:
            errors[code.name] += 1
            result.failed += items
        result.drained_s = now - start

    print("sending", flush=True)  # the parent starts its clocks here, after our start-up
    cpu_at_start = _cpu_s()
    start = time.monotonic()
    end = start + duration_s
    deadline = end + drain_timeout_s
    interval = pool[0].items / rate
    next_at = start
    for n in itertools.count():
        now = time.monotonic()
        while True:  # answers that came in
            try:
                settle(*done.get_nowait(), now)
            except queue.Empty:
                break
        while retries and retries[0].due <= now:
            r = heapq.heappop(retries)
            send(r.body, r.items, r.attempt)
        sending = next_at < end and now < end  # behind schedule at the end: stop, do not catch up
        if sending and now >= next_at and outstanding < inflight:
            result.max_behind_s = max(result.max_behind_s, now - next_at)
            template = pool[n % len(pool)]
            send(template.stamp(), template.items, 0)
            result.requests += 1
            result.items += template.items
            result.send_s = now - start
            next_at += interval
            continue
        if not sending and outstanding == 0 and not retries:
            break
        if now > deadline + timeout_s:
            break  # answers that never came: counted below
        wake = now + 0.05
        if sending and outstanding < inflight:
            wake = min(wake, next_at)
        if retries:
            wake = min(wake, retries[0].due)
        with contextlib.suppress(queue.Empty):
            settle(*done.get(timeout=max(0.0, wake - now)), time.monotonic())
    result.failed += sum(r.items for r in retries)
    channel.close()
    result.retries = dict(retry_codes)
    result.errors = dict(errors)
    result.achieved_rate = result.items / result.send_s if result.send_s > 0 else 0.0
    result.cpu_s = _cpu_s() - cpu_at_start
    return result


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.collector.replay", description=__doc__.split("\n")[0])
    p.add_argument("--signal", choices=SIGNALS, required=True)
    p.add_argument("--endpoint", required=True, help="host:port of an OTLP/gRPC receiver")
    p.add_argument("--rate", type=float, required=True, help="items (spans, metric points, log records) per second")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of sending")
    p.add_argument("--batch", type=int, default=512, help="items per request (about)")
    p.add_argument("--inflight", type=int, default=8, help="unanswered requests at most")
    p.add_argument("--instances", type=int, default=50, help="distinct app instances (resources) to rotate over")
    p.add_argument("--drain-timeout", type=float, default=60.0, help="seconds after the end to keep retrying")
    a = p.parse_args(argv)
    if a.rate <= 0 or a.duration <= 0 or a.batch <= 0 or a.inflight <= 0 or a.instances <= 0:
        p.error("--rate, --duration, --batch, --inflight and --instances must be positive")
    result = run(a.signal, a.endpoint, a.rate, a.duration, a.batch, a.inflight, a.instances, a.drain_timeout)
    print(json.dumps(asdict(result)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
