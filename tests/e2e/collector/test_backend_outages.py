"""A backend outage behind a running collector: what the spool holds reaches the backend once it is back.

CloudWatch is moto_server behind a :class:`TcpGate` (shut: every connection is reset); the app is
an OTel SDK MeterProvider exporting a counter every 300 ms, which grows by one every 100 ms before,
across and during the outage. Once CloudWatch is back, the EMF events must add up to the
counter exactly. (With cumulative_to_delta behind the CloudWatch spool, a batch it had converted and
awsemf failed to send was converted again, against its moved state, on the retry: increments were
lost in 5 runs of 14, 1 of 45 in the run that printed it. It now runs in front of the spool.)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_backends import Moto, poll, self_metric_sum
from e2e_emf import read_events, statistic_total
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from otelcol_harness import Collector, loopback_env, running
from tcp_gate import TcpGate

pytestmark = pytest.mark.e2e

SERVICE = "outage-e2e"
LOG_GROUP = "/otel-chatbot/outage"
REGION = "us-east-1"
KEY = ("gen_ai.request.model", "gen_ai.token.type")
ATTRIBUTES = {
    "gen_ai.provider.name": "aws.bedrock",  # on every GenAI point the distro records
    "gen_ai.request.model": "m-1",
    "gen_ai.operation.name": "chat",
    "gen_ai.token.type": "output",
}


@pytest.fixture
def cloudwatch(tmp_path: Path) -> Iterator[tuple[Moto, TcpGate]]:
    moto = Moto(tmp_path)
    try:
        moto.start()
        with TcpGate(moto.port) as gate:
            yield moto, gate
    finally:
        moto.stop()


def test_a_cloudwatch_outage_loses_no_emf_increment(
    otelcol_binary: Path, tmp_path: Path, cloudwatch: tuple[Moto, TcpGate]
) -> None:
    moto, gate = cloudwatch
    logs_client = moto.logs_client(REGION)
    env = loopback_env(
        tmp_path / "storage",
        OTELCOL_CLOUDWATCH_ENDPOINT=gate.url,
        OTELCOL_CLOUDWATCH_LOG_GROUP=LOG_GROUP,
        OTELCOL_CLOUDWATCH_NAMESPACE="OutageE2E",
    )
    collector = Collector(otelcol_binary, ["config.yaml"], env, tmp_path / "collector.log")

    def emf_total() -> float:
        with contextlib.suppress(logs_client.exceptions.ResourceNotFoundException):
            parsed = [e["parsed"] for e in read_events(logs_client, LOG_GROUP)]
            return statistic_total(parsed, "gen_ai.client.cost", "Sum", KEY).get(("m-1", "output"), 0.0)
        return 0.0

    with running([collector]):
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=collector.grpc_endpoint, insecure=True, timeout=10),
            export_interval_millis=300,
        )
        provider = MeterProvider(resource=Resource.create({"service.name": SERVICE}), metric_readers=[reader])
        try:
            counter = provider.get_meter("e2e").create_counter("gen_ai.client.cost", unit="USD")
            counted = 0

            def add(amount: int) -> None:
                nonlocal counted
                counter.add(amount, ATTRIBUTES)
                counted += amount

            add(5)
            poll(lambda: emf_total() == counted, 30, "the first EMF events")

            # about three increments per export, before, across and during the outage: whichever batch the
            # spool fails first starts with a point that holds some (the old layout lost those)
            self_port = env["OTELCOL_SELF_METRICS_PORT"]
            for i in range(40):
                if i == 8:
                    gate.shut()
                add(1)
                time.sleep(0.1)
            # every attempt of the spool that awsemf fails is refused by the loopback receiver
            refused = {"receiver": "otlp/spool_cloudwatch"}
            poll(
                lambda: self_metric_sum(self_port, "otelcol_receiver_refused_metric_points", **refused) > 0,
                30,
                "the CloudWatch spool to fail a send",
            )
            time.sleep(1.0)  # the last increment's export is in the spool too
            held_back = counted - emf_total()
            assert held_back > 0, "CloudWatch was down: some increments must be waiting in the spool"

            gate.open()
            # the spool retries with backoff (5 s initial interval, growing): give it a few rounds
            final = poll(lambda: (t := emf_total()) >= counted and t, 60, f"EMF to add up to {counted}")
            time.sleep(2.0)  # nothing more may arrive
            assert (final, emf_total()) == (counted, counted), collector.log_tail()
        finally:
            provider.shutdown()
