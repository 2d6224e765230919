"""The rules for values OTLP cannot carry, case by case (the properties are in test_hostile_values.py)."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)

from otel_chatbot.export import safe_values
from otel_chatbot.export.outage import ExporterMessages, OutageLog, OutageMetricExporter
from otel_chatbot.export.safe_values import (
    BIG_INT,
    FINDINGS,
    INVALID_UTF8,
    MAX_DEPTH,
    TOO_DEEP,
    UNSUPPORTED,
    exportable_attributes,
    exportable_body,
    exportable_number,
    problem,
    valid_text,
)


@pytest.fixture(autouse=True)
def fresh_findings() -> None:
    FINDINGS.counts.clear()


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": [value]}
    return value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", None),
        ("日本語", None),
        ("a\ud800b", INVALID_UTF8),
        (2**63 - 1, None),
        (2**63, BIG_INT),
        (-(2**63) - 1, BIG_INT),
        (math.nan, None),
        (math.inf, None),
        (b"\xff", None),
        (None, None),
        ([1, 2**64], BIG_INT),
        ({"k": ["\udc80"]}, INVALID_UTF8),
        (_deep(MAX_DEPTH // 2), None),
        (_deep(MAX_DEPTH // 2 + 1), TOO_DEEP),
        (object(), UNSUPPORTED),
    ],
)
def test_what_upstreams_encoder_cannot_take(value: Any, expected: str | None) -> None:
    assert problem(value) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("plain", "plain"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        (10**20, "100000000000000000000"),
        ({"tokens": 10**20, "ok": 1, "bad\udfff": "x"}, {"tokens": "100000000000000000000", "ok": 1, "bad\ufffd": "x"}),
        ([1, [2**70], 3.5], [1, ["1180591620717411303424"], 3.5]),
        (None, None),
    ],
)
def test_log_bodies_are_converted(body: Any, expected: Any) -> None:
    assert exportable_body(body, "test") == expected


def test_a_body_nested_too_deep_loses_the_deeper_levels() -> None:
    body = exportable_body({"top": 1, "deep": _deep(MAX_DEPTH)}, "test")
    assert body["top"] == 1
    level, depth = body["deep"], 1
    while level:
        level, depth = level["k"][0] if level["k"] else None, depth + 2
    assert depth <= MAX_DEPTH + 1
    assert FINDINGS.counts[TOO_DEEP] == 1


def test_a_body_of_an_unknown_type_becomes_its_text() -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

    assert exportable_body(Thing(), "test") == "a thing"
    assert FINDINGS.counts[UNSUPPORTED] == 1


def test_attributes_upstream_cannot_encode_are_left_out_and_counted_by_kind() -> None:
    attributes = {"ok": 1, "big": 10**20, "bad": "\ud800", "k\ud800": "v"}
    assert exportable_attributes(attributes, "test") == {"ok": 1}
    assert FINDINGS.counts[safe_values.DROPPED_ATTRIBUTE] == 3
    assert (FINDINGS.counts[BIG_INT], FINDINGS.counts[INVALID_UTF8]) == (1, 2)
    clean = {"a": "b"}
    assert exportable_attributes(clean, "test") is clean


def test_each_kind_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="otel_chatbot.export"):
        for _ in range(217):
            valid_text("x\ud800", "test")
            exportable_number(10**20, "test")
    assert len(caplog.records) == 2
    assert FINDINGS.counts[INVALID_UTF8] == FINDINGS.counts[BIG_INT] == 217


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), (2**63 - 1, 2**63 - 1), (2**63, 2.0**63), (-(2**64), -(2.0**64)), (10**400, math.inf), (1.5, 1.5)],
)
def test_metric_numbers_beyond_int64_become_doubles(value: int | float, expected: float) -> None:
    converted = exportable_number(value, "test")
    assert converted == expected and type(converted) is type(expected)


class Capturing(MetricExporter):
    def __init__(self) -> None:
        super().__init__()
        self.exported: list[MetricsData] = []

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        encode_metrics(metrics_data).SerializeToString()  # what the OTLP exporters do first
        self.exported.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def test_a_counter_past_int64_no_longer_fails_every_metric_export() -> None:
    """inputTokens = 10**20 from one Bedrock answer: the cumulative sum stays past int64 from then on."""
    inner = Capturing()
    wrapper = OutageMetricExporter(inner, OutageLog("metrics", "test", ExporterMessages()))
    reader = PeriodicExportingMetricReader(wrapper, export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader])
    tokens = provider.get_meter("t").create_counter("gen_ai.client.token.usage")
    tokens.add(10**20, {"gen_ai.token.type": "input"})
    tokens.add(7, {"gen_ai.token.type": "output"})
    for _ in range(2):  # every export, not only the first
        assert reader.force_flush()
    provider.shutdown()
    assert len(inner.exported) >= 2
    points = {
        dict(p.attributes)["gen_ai.token.type"]: p.value
        for m in inner.exported[-1].resource_metrics[0].scope_metrics[0].metrics
        for p in m.data.data_points
    }
    assert points == {"input": 1e20, "output": 7}
    assert type(points["output"]) is int  # only the point that needs it is converted
