"""Hostile values through the real pipeline to a real OTLP/HTTP receiver: every export succeeds.

One Bedrock answer said ``inputTokens = 10**20``: the span attribute broke our encoder (a
traceback per attribute) and the token counter failed every metric export from then on. Here
such values, lone surrogates and a body no encoder takes go through ``build_pipelines`` with
the OTLP http/protobuf exporters to an OTLP receiver that decodes what it gets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource

from otel_chatbot.config import load_settings
from otel_chatbot.export.safe_values import FINDINGS
from otel_chatbot.pipelines import Pipelines, build_pipelines
from otel_chatbot.testing.otlp_sink import OtlpSink

pytestmark = pytest.mark.e2e


@pytest.fixture
def pipelines(otlp_sink: OtlpSink) -> Iterator[Pipelines]:
    otlp_sink.reset()
    settings = load_settings(
        {
            "otlp_endpoint": otlp_sink.http_endpoint,
            "otlp_protocol": "http/protobuf",
            "metric_export_interval_ms": 3_600_000,
            "bsp_schedule_delay_ms": 50,
            "blrp_schedule_delay_ms": 50,
        },
        environ={},
    )
    made = build_pipelines(settings, Resource({"service.name": "hostile"}))
    yield made
    made.shutdown()


def test_hostile_values_never_fail_an_export(
    pipelines: Pipelines, otlp_sink: OtlpSink, caplog: pytest.LogCaptureFixture
) -> None:
    FINDINGS.counts.clear()
    tracer = pipelines.tracer_provider.get_tracer("t")
    tokens = pipelines.meter_provider.get_meter("t").create_counter("gen_ai.client.token.usage.total")
    logger = pipelines.logger_provider.get_logger("t")
    huge_answer: dict[str, Any] = {"gen_ai.usage.input_tokens": 10**20, "gen_ai.request.model": "m"}
    with caplog.at_level(logging.WARNING):
        for i in range(217):
            tracer.start_span(f"chat m \ud800 {i}", attributes=huge_answer).end()
            tokens.add(10**20, {"gen_ai.token.type": "input"})
            logger.emit(body={"usage": {"inputTokens": 10**20}, "text": "bad \udc80"}, attributes={"n": i})
        assert pipelines.force_flush(20_000)
        for _ in range(2):  # the cumulative sum stays past int64: every later export too
            assert pipelines.meter_provider.force_flush(20_000)

    spans = otlp_sink.wait_for_spans(217)
    assert {s.name for s in spans} == {f"chat m \ufffd {i}" for i in range(217)}
    assert all(s.attributes == {"gen_ai.request.model": "m"} for s in spans)  # the huge one left out
    point = otlp_sink.latest_cumulative("gen_ai.client.token.usage.total", **{"gen_ai.token.type": "input"})
    assert point is not None and point.value == pytest.approx(217e20)
    logs = otlp_sink.wait_for(lambda: len(otlp_sink.logs()) >= 217 and otlp_sink.logs(), what="217 log records")
    assert {str(entry.body) for entry in logs} == {
        str({"usage": {"inputTokens": "100000000000000000000"}, "text": "bad \ufffd"})
    }

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("otel_chatbot")]
    assert len(ours) <= 4, ours  # one line per kind of value, not one per occurrence
    assert not [r for r in caplog.records if "Failed to encode" in r.getMessage()]
