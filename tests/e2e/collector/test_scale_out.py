"""Scale-out: one agent (agent.yaml) load-balancing by trace id over two gateways
(config.yaml + gateway.yaml), each exporting to its own OTLP sink standing in for Tempo
and for the log backend.

Every trace must land complete on exactly one gateway -- that is what keeps tail
sampling correct across replicas -- and both gateways must get some traces. Log records
go by resource: each service instance's records reach one gateway, and the instances
spread over both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from opentelemetry import trace
from otelcol_harness import Collector, loopback_env, running
from otlp_send import logger_provider, tracer_provider

from otel_chatbot.testing.otlp_sink import LogEntry, OtlpSink

TRACES = 200
SPANS_PER_TRACE = 3


@pytest.fixture
def topology(otelcol_binary: Path, tmp_path: Path) -> Iterator[tuple[Collector, dict[str, OtlpSink]]]:
    with ExitStack() as stack:
        sinks = {gw: stack.enter_context(OtlpSink()) for gw in ("gw-1", "gw-2")}
        gateways = [
            Collector(
                otelcol_binary,
                ["config.yaml", "gateway.yaml"],
                loopback_env(
                    tmp_path / gw / "storage",
                    OTELCOL_GATEWAY_ID=gw,
                    OTELCOL_TEMPO_ENDPOINT=sink.grpc_endpoint,
                    OTELCOL_LOGS_EXPORTER="otlp_grpc/logs",
                    OTELCOL_LOGS_ENDPOINT=sink.grpc_endpoint,
                    OTELCOL_TAIL_SAMPLE_PERCENT="100",
                    OTELCOL_TAIL_DECISION_WAIT="1s",
                ),
                tmp_path / f"{gw}.log",
            )
            for gw, sink in sinks.items()
        ]
        endpoints = ", ".join(g.grpc_endpoint for g in gateways)
        agent = Collector(
            otelcol_binary,
            ["agent.yaml"],
            loopback_env(tmp_path / "agent" / "storage", OTELCOL_GATEWAY_ENDPOINTS=f"[{endpoints}]"),
            tmp_path / "agent.log",
        )
        stack.enter_context(running([*gateways, agent]))
        yield agent, sinks


def test_every_trace_lands_whole_on_one_gateway(topology: tuple[Collector, dict[str, OtlpSink]]) -> None:
    agent, sinks = topology
    with tracer_provider(agent.grpc_endpoint, "scale-out", batch_size=50) as provider:
        tracer = provider.get_tracer("e2e")
        roots = [tracer.start_span(f"root-{i}") for i in range(TRACES)]
        # children end round-robin across traces, so one trace's spans leave the
        # app in different export batches (and reach the agent in different requests)
        for level in range(1, SPANS_PER_TRACE):
            for i, root in enumerate(roots):
                tracer.start_span(f"child-{level}-{i}", context=trace.set_span_in_context(root)).end()
        for root in roots:
            root.end()

    total = TRACES * SPANS_PER_TRACE
    first = next(iter(sinks.values()))
    first.wait_for(
        lambda: sum(len(s.spans()) for s in sinks.values()) >= total,
        timeout=60,
        what=f"{total} spans across both gateways",
    )

    where: dict[str, set[str]] = defaultdict(set)
    per_trace: dict[str, int] = defaultdict(int)
    for gw, sink in sinks.items():
        for span in sink.spans():
            assert span.resource["otelcol.gateway.id"] == gw
            where[span.trace_id].add(gw)
            per_trace[span.trace_id] += 1
    assert len(where) == TRACES
    split = {trace_id: gws for trace_id, gws in where.items() if len(gws) != 1}
    assert split == {}, "traces split across gateways"
    assert set(per_trace.values()) == {SPANS_PER_TRACE}
    counts = {gw: sum(1 for gws in where.values() if gw in gws) for gw in sinks}
    assert all(n > TRACES // 5 for n in counts.values()), counts


def test_log_records_reach_the_gateways_one_instance_per_gateway(
    topology: tuple[Collector, dict[str, OtlpSink]],
) -> None:
    agent, sinks = topology
    per_instance = 20
    instances = [f"scale-out-logs-{i}" for i in range(16)]
    for instance in instances:
        with logger_provider(agent.grpc_endpoint, instance) as provider:
            logger = provider.get_logger("e2e")
            for n in range(per_instance):
                logger.emit(body=f"{instance} record {n}", attributes={"n": n})

    def received() -> list[tuple[str, LogEntry]]:
        return [
            (gw, entry)
            for gw, sink in sinks.items()
            for entry in sink.logs()
            if str(entry.resource.get("service.name", "")).startswith("scale-out-logs-")
        ]

    total = per_instance * len(instances)
    first = next(iter(sinks.values()))
    got = first.wait_for(lambda: r if len(r := received()) >= total else [], timeout=60, what=f"{total} log records")
    assert len(got) == total
    gateways_of: dict[str, set[str]] = defaultdict(set)
    for gw, entry in got:
        assert entry.resource["otelcol.gateway.id"] == gw
        gateways_of[str(entry.resource["service.name"])].add(gw)
    assert all(len(gws) == 1 for gws in gateways_of.values()), gateways_of  # an instance stays together
    assert set().union(*gateways_of.values()) == set(sinks), gateways_of  # and instances spread over both
