"""What a SIGKILL costs tail sampling, measured, and the topology in which an undecided trace survives it.

tail_sampling acknowledges spans once it holds them in memory; a persistent queue only ever holds
what comes out of it. So a SIGKILL loses what tail_sampling held:

* ``trace-complete`` holds every trace for ``decision_wait``: a SIGKILL loses about the last
  ``decision_wait`` of traces, kept ones included;
* ``span-ingest`` (the shipped default) releases a trace as soon as a batch of it matches a policy,
  and holds only traces no policy has kept yet: a SIGKILL loses the early spans of traces whose
  deciding span had not arrived;
* ``agent.yaml`` + ``agent-mirror.yaml`` sends every trace to two gateway pools: a gateway's SIGKILL
  loses nothing that its twin holds.

Each test sends a paced stream of traces from the OTel SDK, kills a collector with ``SIGKILL`` and
starts it again on the same storage. Figures in collector/README.md ("Tail sampling and crashes").
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import pytest
from e2e_backends import self_metric_sum
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Status, StatusCode
from otelcol_harness import Collector, loopback_env, running
from otlp_send import tracer_provider

from otel_chatbot.testing.otlp_sink import OtlpSink, SpanRecord

pytestmark = pytest.mark.e2e

RATE = 40
"""New traces per second."""
SECONDS = 6
DECISION_WAIT_S = 3


def sigkill(collector: Collector) -> None:
    proc, collector.proc = collector.proc, None
    assert proc is not None
    proc.kill()
    proc.wait(10)


def send_paced(provider: TracerProvider, count: int, rate: float, error: bool) -> list[str]:
    """``count`` traces of two spans (a root and a child, one export batch), ``rate`` per second; their ids."""
    tracer = provider.get_tracer("e2e")
    ids = []
    start = time.monotonic()
    for i in range(count):
        with tracer.start_as_current_span(f"root-{i}") as root:
            with tracer.start_as_current_span(f"child-{i}"):
                pass
            if error:
                root.set_status(Status(StatusCode.ERROR))
        ids.append(format(root.get_span_context().trace_id, "032x"))
        time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
    assert provider.force_flush(10_000)
    return ids


def whole_traces(spans: Sequence[SpanRecord], size: int) -> dict[str, int]:
    """trace id -> number of distinct spans received, counted as Tempo keeps them (one per span id).

    Delivery is at least once (collector/README.md, "Crashes"): an export batch in flight when the SIGKILL
    came is sent again by the restarted collector. A span that arrives twice must be the same span."""
    by_id: dict[str, SpanRecord] = {}
    for span in spans:
        first = by_id.setdefault(span.span_id, span)
        assert (first.trace_id, first.name, first.parent_span_id) == (span.trace_id, span.name, span.parent_span_id)
    found: dict[str, int] = defaultdict(int)
    for span in by_id.values():
        found[span.trace_id] += 1
    assert all(n <= size for n in found.values())
    return dict(found)


@pytest.fixture
def tempo() -> Iterator[OtlpSink]:
    with OtlpSink() as sink:
        yield sink


def run_and_kill(binary: Path, work: Path, tempo: OtlpSink, strategy: str) -> tuple[list[str], dict[str, int], float]:
    """Every trace is kept (baseline 100 %); SIGKILL right after the last one was accepted."""
    env = loopback_env(
        work / "storage",
        OTELCOL_TEMPO_ENDPOINT=tempo.grpc_endpoint,
        OTELCOL_TAIL_SAMPLING_STRATEGY=strategy,
        OTELCOL_TAIL_DECISION_WAIT=f"{DECISION_WAIT_S}s",
        OTELCOL_TAIL_SAMPLE_PERCENT="100",
    )
    collector = Collector(binary, ["config.yaml"], env, work / "collector.log")
    with running([collector]):
        with tracer_provider(collector.grpc_endpoint, f"crash-{strategy}") as provider:
            sent = send_paced(provider, RATE * SECONDS, RATE, error=False)
            killed_at = time.monotonic()
            sigkill(collector)
        collector.start()
        time.sleep(3.0)  # the restarted collector sends what the killed one had queued
        received = whole_traces(tempo.spans(), 2)
    return sent, received, killed_at


def test_a_sigkill_loses_the_decision_window_of_trace_complete_sampling(
    otelcol_binary: Path, tmp_path: Path, tempo: OtlpSink
) -> None:
    sent, received, _ = run_and_kill(otelcol_binary, tmp_path, tempo, "trace-complete")
    assert set(received) <= set(sent) and all(n == 2 for n in received.values()), "a decided trace arrives whole"
    lost = [t for t in sent if t not in received]
    # the traces of the last decision_wait (plus up to a second of tick and batching): gone
    window = RATE * DECISION_WAIT_S
    assert 0.5 * window <= len(lost) <= window + RATE, f"{len(lost)} of {len(sent)} lost; window {window}"
    assert lost == sent[-len(lost) :], "the newest traces are the ones lost"


def test_span_ingest_sampling_loses_no_kept_trace_to_a_sigkill(
    otelcol_binary: Path, tmp_path: Path, tempo: OtlpSink
) -> None:
    sent, received, _ = run_and_kill(otelcol_binary, tmp_path, tempo, "span-ingest")
    lost = [t for t in sent if t not in received]
    # decided as its batch arrived: at most the last export request can still have been in the processor's
    # work queue (between the receiver's answer and the decision) when the SIGKILL came
    assert len(lost) <= 2, f"{len(lost)} of {len(sent)} lost"
    assert all(n == 2 for n in received.values())


# -- the mirrored agent: an undecided trace survives the crash of its gateway ---------------------------

TRACES = 60


@pytest.fixture
def mirrored(
    otelcol_binary: Path, tmp_path: Path
) -> Iterator[tuple[Collector, dict[str, Collector], dict[str, OtlpSink]]]:
    """An agent (agent.yaml + agent-mirror.yaml) and one gateway in each pool, each gateway with its own Tempo."""
    with ExitStack() as stack:
        sinks = {pool: stack.enter_context(OtlpSink()) for pool in ("a", "b")}
        gateways = {
            pool: Collector(
                otelcol_binary,
                ["config.yaml", "gateway.yaml"],
                loopback_env(
                    tmp_path / f"gw-{pool}" / "storage",
                    OTELCOL_GATEWAY_ID=f"gw-{pool}",
                    OTELCOL_TEMPO_ENDPOINT=sink.grpc_endpoint,
                    OTELCOL_TAIL_SAMPLE_PERCENT="0",
                    OTELCOL_TAIL_DECISION_WAIT="30s",
                ),
                tmp_path / f"gw-{pool}.log",
            )
            for pool, sink in sinks.items()
        }
        agent = Collector(
            otelcol_binary,
            ["agent.yaml", "agent-mirror.yaml"],
            loopback_env(
                tmp_path / "agent" / "storage",
                OTELCOL_GATEWAY_ENDPOINTS=f"[{gateways['a'].grpc_endpoint}]",
                OTELCOL_MIRROR_GATEWAY_ENDPOINTS=f"[{gateways['b'].grpc_endpoint}]",
            ),
            tmp_path / "agent.log",
        )
        stack.enter_context(running([*gateways.values(), agent]))
        yield agent, gateways, sinks


def test_an_undecided_trace_survives_a_gateway_sigkill_when_the_agent_mirrors(
    mirrored: tuple[Collector, dict[str, Collector], dict[str, OtlpSink]],
) -> None:
    """Children first (no policy keeps them: undecided), SIGKILL gateway A, then the roots end in ERROR.

    Pool B held the children and keeps every trace whole; pool A, alone, is the unmirrored topology:
    its restarted gateway only ever sees the roots."""
    agent, gateways, sinks = mirrored
    with tracer_provider(agent.grpc_endpoint, "mirror") as provider:
        tracer = provider.get_tracer("e2e")
        roots = [tracer.start_span(f"root-{i}") for i in range(TRACES)]
        for i, root in enumerate(roots):
            tracer.start_span(f"child-{i}", context=trace.set_span_in_context(root)).end()
        assert provider.force_flush(10_000)
        ids = {format(r.get_span_context().trace_id, "032x") for r in roots}

        def held() -> bool:  # both gateways hold every child, undecided
            return all(_accepted_spans(g) >= TRACES for g in gateways.values())

        sinks["a"].wait_for(held, 30, "both gateways to hold the children")
        assert [s.spans() for s in sinks.values()] == [[], []], "nothing is decided yet"
        sigkill(gateways["a"])
        gateways["a"].start()
        for root in roots:
            root.set_status(Status(StatusCode.ERROR))
            root.end()

    def arrived(pool: str) -> dict[str, int]:
        return whole_traces(sinks[pool].spans(), 2)

    sinks["b"].wait_for(lambda: sum(arrived("b").values()) >= 2 * TRACES, 30, "pool B's traces, whole")
    sinks["a"].wait_for(lambda: len(arrived("a")) >= TRACES, 30, "pool A's roots")
    time.sleep(1.0)
    union = whole_traces(sinks["a"].spans() + sinks["b"].spans(), 2)
    assert union == dict.fromkeys(ids, 2), "every trace whole in Tempo (which keeps one span per id)"
    assert arrived("b") == dict.fromkeys(ids, 2)
    # without the mirror: every child was lost with gateway A's memory
    assert arrived("a") == dict.fromkeys(ids, 1)


def _accepted_spans(collector: Collector) -> float:
    return self_metric_sum(collector.env["OTELCOL_SELF_METRICS_PORT"], "otelcol_receiver_accepted_spans")
