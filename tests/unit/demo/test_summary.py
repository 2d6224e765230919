"""The span summary: percentiles, grouping, totals per provider, the ledger cross-check and rendering."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_chatbot.demo import spans as spans_module
from otel_chatbot.demo.spans import SpanCollector, SpanFacts
from otel_chatbot.demo.summary import LedgerTotals, ledger_check, percentile, render, summarize


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


def call(
    name: str,
    ms: float,
    tokens: tuple[int, int],
    cost: float | None,
    ttfc_ms: float | None = None,
    error: str | None = None,
    provider: str = "aws.bedrock",
) -> SpanFacts:
    return SpanFacts(
        name,
        "CLIENT",
        ms / 1000,
        error is not None,
        200,
        provider == "aws.bedrock",
        tokens[0],
        tokens[1],
        cost,
        None if ttfc_ms is None else ttfc_ms / 1000,
        provider=provider,
        error_type=error,
    )


TABLE = [
    server("POST /chat/{session_id}", 10),
    server("POST /chat/{session_id}", 20),
    server("POST /chat/{session_id}", 30),
    server("POST /chat/{session_id}/fail", 5, 500, error=True),
    server("GET /health", 1),
    call("chat model-a", 8, (10, 5), 0.001),
    call("chat model-a", 9, (20, 5), 0.002, ttfc_ms=3),
    call("chat model-a", 7, (30, 5), None, ttfc_ms=5, error="ThrottlingException"),
    call("invoke_agent AGENT", 12, (40, 10), None, ttfc_ms=4),
    call("chat gpt-4o-mini", 6, (7, 3), 0.0005, ttfc_ms=2, provider="openai"),
    call("chat gpt-4o-mini", 6, (0, 0), None, ttfc_ms=2, error="cancelled", provider="openai"),
    # Agent step spans carry tokens too, but are INTERNAL: never counted twice.
    SpanFacts("chat agent-model", "INTERNAL", 0.0, False, None, False, 25, 10, provider=None),
    # A client span that is no call to a provider counts in neither table.
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


def test_calls_sum_tokens_cost_and_ttfc_per_provider_and_call() -> None:
    summary = summarize(TABLE)
    calls = {(c.provider, c.name): c for c in summary.calls}
    assert list(calls) == [
        ("aws.bedrock", "chat model-a"),
        ("aws.bedrock", "invoke_agent AGENT"),
        ("openai", "chat gpt-4o-mini"),
    ]
    model = calls["aws.bedrock", "chat model-a"]
    assert (model.calls, model.errors, model.input_tokens, model.output_tokens) == (3, 1, 60, 15)
    assert model.cost_usd == pytest.approx(0.003)
    assert model.ttfc_p50_s == 0.003
    bedrock, openai = summary.providers
    assert (bedrock.provider, bedrock.calls, bedrock.input_tokens, bedrock.output_tokens) == ("aws.bedrock", 4, 100, 25)
    assert bedrock.ttfc_p50_s == 0.004
    # A stream the app closed early is no provider error.
    assert (openai.calls, openai.errors, openai.cancelled) == (2, 0, 1)
    assert (summary.total.calls, summary.total.errors, summary.total.cancelled) == (6, 1, 1)


def test_empty_summary_renders() -> None:
    text = render(summarize([]))
    assert "Summary of 0 spans" in text
    assert "(none)" in text
    assert "all providers" in text


def test_render_has_one_row_per_route_call_and_provider() -> None:
    text = render(summarize(TABLE))
    lines = text.splitlines()
    chat_row = next(line for line in lines if line.startswith("POST /chat/{session_id} "))
    assert chat_row.split()[-5:] == ["3", "0", "20.0", "30.0", "30.0"]
    total_row = next(line for line in lines if line.startswith("aws.bedrock") and " all " in line)
    assert total_row.split()[-9:] == ["4", "1", "0", "100", "0", "0", "25", "0.003000", "4.0"]
    agent_row = next(line for line in lines if "invoke_agent AGENT" in line)
    assert agent_row.split()[-1] == "4.0"
    assert next(line for line in lines if line.startswith("all providers")).split()[2:4] == ["6", "1"]


def test_each_providers_total_is_held_against_its_ledger() -> None:
    bedrock_ledger = {
        "calls": 4,
        "input_tokens": 70,  # the stand-in, like Bedrock, reports input without the cached prefix
        "output_tokens": 25,
        "cache_read_input_tokens": 20,
        "cache_write_input_tokens": 10,
        "errors": {"ThrottlingException": 1},
    }
    openai_ledger = {**bedrock_ledger, "calls": 2, "input_tokens": 7, "output_tokens": 3, "errors": {}}
    ledgers = {
        "aws.bedrock": LedgerTotals.from_json(bedrock_ledger),
        "openai": LedgerTotals.from_json(openai_ledger, input_includes_cache=True),  # as OpenAI counts it
    }
    assert ledgers["aws.bedrock"] == LedgerTotals(4, 100, 25, 1)
    lines = ledger_check(summarize(TABLE), ledgers)
    assert lines[0].endswith("(all equal):")
    assert " ".join(lines[1].split()) == "aws.bedrock calls 4 = 4 input 100 = 100 output 25 = 25 errors 1 = 1"
    ledgers["ollama"] = LedgerTotals(1, 0, 0, 0)  # a stand-in the telemetry never saw called
    assert "MISMATCH" in ledger_check(summarize(TABLE), ledgers)[0]
    assert "Cross-check, telemetry vs each stand-in's own ledger" in render(summarize(TABLE), ledgers)


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
    assert call_facts.name == "chat m"
    assert call_facts.bedrock and call_facts.error and call_facts.provider == "aws.bedrock"
    assert (call_facts.input_tokens, call_facts.output_tokens, call_facts.cost_usd, call_facts.ttfc_s) == (
        11,
        7,
        0.5,
        0.25,
    )
    assert rpc_facts.bedrock and not rpc_facts.error and rpc_facts.provider == "aws.bedrock"
    assert not other.bedrock and other.cost_usd is None and other.provider is None  # a bool is not a number
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
