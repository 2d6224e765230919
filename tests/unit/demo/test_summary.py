"""The span summary: percentiles, grouping, Bedrock totals and rendering, from plain span facts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_chatbot.demo import spans as spans_module
from otel_chatbot.demo.spans import SpanCollector, SpanFacts
from otel_chatbot.demo.summary import percentile, render, summarize


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 99, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([4.0, 3.0, 2.0, 1.0], 50, 2.0),  # order does not matter
        ([1.0, 2.0, 3.0, 4.0], 75, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([float(v) for v in range(1, 101)], 95, 95.0),
        ([float(v) for v in range(1, 101)], 99, 99.0),
        ([float(v) for v in range(1, 11)], 95, 10.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def server(name: str, ms: float, status: int = 200, error: bool = False) -> SpanFacts:
    return SpanFacts(name, "SERVER", ms / 1000, error, status)


def bedrock(
    name: str, ms: float, tokens: tuple[int, int], cost: float | None, ttfc_ms: float | None = None, error: bool = False
) -> SpanFacts:
    return SpanFacts(
        name,
        "CLIENT",
        ms / 1000,
        error,
        200,
        True,
        tokens[0],
        tokens[1],
        cost,
        None if ttfc_ms is None else ttfc_ms / 1000,
    )


TABLE = [
    server("POST /chat/{session_id}", 10),
    server("POST /chat/{session_id}", 20),
    server("POST /chat/{session_id}", 30),
    server("POST /chat/{session_id}/fail", 5, 500, error=True),
    server("GET /health", 1),
    bedrock("chat model-a", 8, (10, 5), 0.001),
    bedrock("chat model-a", 9, (20, 5), 0.002, ttfc_ms=3),
    bedrock("chat model-a", 7, (30, 5), None, ttfc_ms=5, error=True),
    bedrock("invoke_agent AGENT", 12, (40, 10), None, ttfc_ms=4),
    # Agent step spans carry tokens too, but are INTERNAL: never counted twice.
    SpanFacts("chat agent-model", "INTERNAL", 0.0, False, None, False, 25, 10),
    # A non-Bedrock client span counts in neither table.
    SpanFacts("GET", "CLIENT", 0.002, False, 200),
]


def test_routes_are_server_spans_grouped_by_name() -> None:
    summary = summarize(TABLE)
    assert summary.spans == len(TABLE)
    routes = {r.name: r for r in summary.routes}
    assert list(routes) == ["GET /health", "POST /chat/{session_id}", "POST /chat/{session_id}/fail"]
    chat = routes["POST /chat/{session_id}"]
    assert (chat.count, chat.errors) == (3, 0)
    assert (chat.p50_s, chat.p95_s, chat.p99_s) == (0.02, 0.03, 0.03)
    assert routes["POST /chat/{session_id}/fail"].errors == 1


def test_bedrock_calls_sum_tokens_cost_and_ttfc() -> None:
    summary = summarize(TABLE)
    calls = {b.name: b for b in summary.bedrock}
    model = calls["chat model-a"]
    assert (model.calls, model.errors, model.input_tokens, model.output_tokens) == (3, 1, 60, 15)
    assert model.cost_usd == pytest.approx(0.003)
    assert model.ttfc_p50_s == 0.003
    total = summary.bedrock_total
    assert (total.calls, total.input_tokens, total.output_tokens) == (4, 100, 25)
    assert total.ttfc_p50_s == 0.004


def test_empty_summary_renders() -> None:
    text = render(summarize([]))
    assert "Summary of 0 spans" in text
    assert "(none)" in text
    assert "all Bedrock calls" in text


def test_render_has_one_row_per_route_and_call() -> None:
    text = render(summarize(TABLE))
    lines = text.splitlines()
    chat_row = next(line for line in lines if line.startswith("POST /chat/{session_id} "))
    assert chat_row.split()[-5:] == ["3", "0", "20.0", "30.0", "30.0"]
    total_row = next(line for line in lines if line.startswith("all Bedrock calls"))
    assert total_row.split()[-8:] == ["4", "1", "100", "0", "0", "25", "0.003000", "4.0"]
    agent_row = next(line for line in lines if line.startswith("invoke_agent AGENT"))
    assert agent_row.split()[-1] == "4.0"


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    tracer_provider = TracerProvider()
    yield tracer_provider
    tracer_provider.shutdown()


def test_facts_from_sdk_spans(provider: TracerProvider) -> None:
    collector = SpanCollector()
    provider.add_span_processor(SimpleSpanProcessor(collector))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(
        "POST /chat/{session_id}", kind=SpanKind.SERVER, attributes={"http.response.status_code": 503}
    ):
        with tracer.start_as_current_span(
            "chat m",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.provider.name": "aws.bedrock",
                "gen_ai.usage.input_tokens": 11,
                "gen_ai.usage.output_tokens": 7,
                "gen_ai.usage.cost": 0.5,
                "gen_ai.response.time_to_first_chunk": 0.25,
            },
        ) as call:
            call.set_status(Status(StatusCode.ERROR))
        with tracer.start_as_current_span(
            "Bedrock Runtime.Converse", kind=SpanKind.CLIENT, attributes={"rpc.service": "Bedrock Runtime"}
        ):
            pass
        with tracer.start_as_current_span("GET", kind=SpanKind.CLIENT, attributes={"gen_ai.usage.cost": True}):
            pass
    call_facts, rpc_facts, other, server_facts = collector.facts()
    assert call_facts.bedrock and call_facts.error
    assert (call_facts.input_tokens, call_facts.output_tokens, call_facts.cost_usd, call_facts.ttfc_s) == (
        11,
        7,
        0.5,
        0.25,
    )
    assert rpc_facts.bedrock and not rpc_facts.error
    assert not other.bedrock and other.cost_usd is None  # a bool is not a number
    assert server_facts.kind == "SERVER" and server_facts.status_code == 503 and server_facts.error
    assert server_facts.duration_s >= call_facts.duration_s >= 0


def test_collector_is_bounded(provider: TracerProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spans_module, "MAX_KEPT", 3)
    collector = SpanCollector()
    provider.add_span_processor(SimpleSpanProcessor(collector))
    for _ in range(5):
        with provider.get_tracer("test").start_as_current_span("s"):
            pass
    assert len(collector.facts()) == 3
    assert collector.dropped == 2
