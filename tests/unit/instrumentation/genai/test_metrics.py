"""GenAI metrics: keyed by the call's provider, cost from the price table, an unknown model logged once."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_chatbot.genai.pricing import PriceTable
from otel_chatbot.genai.types import GenAIRequest, GenAIResponse, TokenUsage
from otel_chatbot.instrumentation.genai.metrics import (
    ERROR_TYPES_LIMIT,
    PRICE_ROWS_KEPT,
    UNKNOWN_MODELS_LOGGED,
    GenAIMetrics,
    model_budget,
)

USAGE = GenAIResponse(usage=TokenUsage(uncached_input_tokens=10, output_tokens=5))


def test_unknown_model_gets_no_cost_and_is_logged_once_naming_its_provider(caplog: pytest.LogCaptureFixture) -> None:
    metrics = GenAIMetrics(MeterProvider().get_meter("test"), PriceTable.default())
    request = GenAIRequest(operation_name="chat", provider_name="openai", model="acme.unknown-model-v1")
    with caplog.at_level("WARNING", logger="otel_chatbot.genai"):
        assert metrics.compute_cost(request, USAGE) is None
        assert metrics.compute_cost(request, USAGE) is None
    (record,) = caplog.records
    assert "'acme.unknown-model-v1' (openai)" in record.getMessage()
    assert "Bedrock" not in record.getMessage()


def test_prices_belong_to_a_provider() -> None:
    metrics = GenAIMetrics(MeterProvider().get_meter("test"), PriceTable.default())
    bedrock_id = GenAIRequest(
        operation_name="chat", provider_name="anthropic", model="anthropic.claude-3-haiku-20240307-v1:0"
    )
    assert metrics.compute_cost(bedrock_id, USAGE) is None  # Bedrock's price is not Anthropic's
    azure = GenAIRequest(operation_name="chat", provider_name="azure.ai.openai", model="my-deployment")
    answered = GenAIResponse(response_model="gpt-4o-mini-2024-07-18", usage=USAGE.usage)
    cost = metrics.compute_cost(azure, answered)  # the deployment's model, at OpenAI's list price
    assert cost is not None and cost.total == pytest.approx((10 * 0.15 + 5 * 0.6) / 1e6)
    embeddings = GenAIRequest(operation_name="embeddings", provider_name="openai", model="text-embedding-3-small")
    embedded = metrics.compute_cost(embeddings, GenAIResponse(usage=TokenUsage(uncached_input_tokens=100)))
    assert embedded is not None and embedded.total == pytest.approx(100 * 0.02 / 1e6)
    local = GenAIRequest(operation_name="chat", provider_name="ollama", model="llama3.2")
    ollama = metrics.compute_cost(local, USAGE)
    assert ollama is not None and ollama.total == 0.0


def test_unknown_models_are_logged_a_bounded_number_of_times(caplog: pytest.LogCaptureFixture) -> None:
    metrics = GenAIMetrics(MeterProvider().get_meter("test"), PriceTable.default())
    with caplog.at_level("WARNING", logger="otel_chatbot.genai"):
        for n in range(UNKNOWN_MODELS_LOGGED + 10):
            request = GenAIRequest(operation_name="chat", provider_name="openai", model=f"model-{n}")
            assert metrics.compute_cost(request, USAGE) is None
    assert len(caplog.records) == UNKNOWN_MODELS_LOGGED + 1
    assert "further ones are not logged" in caplog.records[-1].getMessage()


def test_every_metric_carries_the_requests_provider() -> None:
    reader = InMemoryMetricReader()
    metrics = GenAIMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"), PriceTable.default())
    # The same model, priced by who sells it: Bedrock's id and Anthropic's.
    for provider, model in (
        ("aws.bedrock", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("anthropic", "claude-3-haiku-20240307"),
    ):
        request = GenAIRequest(operation_name="chat", provider_name=provider, model=model)
        metrics.record(request, USAGE, 0.5, None, metrics.compute_cost(request, USAGE))
        metrics.record_chunk_times(request, USAGE, 0.1, [1.0, 1.2])
        metrics.record_throttle(request)
    data = reader.get_metrics_data()
    assert data is not None
    seen: dict[str, set[str]] = {}
    for scope in data.resource_metrics[0].scope_metrics:
        for metric in scope.metrics:
            for point in metric.data.data_points:
                seen.setdefault(metric.name, set()).add(str(point.attributes["gen_ai.provider.name"]))
    assert seen == {
        name: {"aws.bedrock", "anthropic"}
        for name in (
            "gen_ai.client.operation.duration",
            "gen_ai.client.token.usage",
            "gen_ai.client.cost",
            "gen_ai.client.operation.time_to_first_chunk",
            "gen_ai.client.operation.time_per_output_chunk",
            "gen_ai.client.throttles",
        )
    }


def _series(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """Each metric's points (one per series)."""
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, list[Any]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def test_models_past_the_budget_are_one_series_and_spans_are_not_affected(caplog: pytest.LogCaptureFixture) -> None:
    reader = InMemoryMetricReader()
    metrics = GenAIMetrics(
        MeterProvider(metric_readers=[reader]).get_meter("test"), PriceTable.default(), model_budget(10)
    )
    with caplog.at_level("WARNING", logger="otel_chatbot"):
        for n in range(1000):  # an app passing arbitrary model strings
            request = GenAIRequest(operation_name="chat", provider_name="openai", model=f"user-model-{n}")
            answered = GenAIResponse(response_model=f"user-model-{n}-2025", usage=USAGE.usage)
            metrics.record(request, answered, 0.5, None, None)
            metrics.record_chunk_times(request, answered, 0.1, [1.0, 1.2])
            metrics.record_throttle(request)
    series = _series(reader)
    durations = series["gen_ai.client.operation.duration"]
    models = {d.attributes.get("gen_ai.request.model") for d in durations}
    answered_models = {d.attributes.get("gen_ai.response.model") for d in durations}
    # One budget for both attributes: the first five calls' request and response models, then _OTHER.
    assert models == {f"user-model-{n}" for n in range(5)} | {"_OTHER"}
    assert answered_models == {f"user-model-{n}-2025" for n in range(5)} | {"_OTHER"}
    assert len(durations) == 5 + 1
    assert all(len(points) <= 2 * 6 for points in series.values())  # token usage: input and output
    (folded,) = [d for d in durations if d.attributes.get("gen_ai.request.model") == "_OTHER"]
    assert folded.count == 995  # the folded calls are counted: they are the _OTHER series
    (warning,) = [r for r in caplog.records if "OTEL_CHATBOT_MAX_MODELS" in r.getMessage()]
    assert "recorded as _OTHER" in warning.getMessage()


def test_error_types_past_their_budget_are_other() -> None:
    reader = InMemoryMetricReader()
    metrics = GenAIMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"), PriceTable.default())
    request = GenAIRequest(operation_name="chat", provider_name="openai", model="gpt-4o")
    for n in range(ERROR_TYPES_LIMIT + 30):  # a provider inventing error types
        metrics.record(request, GenAIResponse(), 0.1, f"weird_error_{n}", None)
    errors = {d.attributes["error.type"] for d in _series(reader)["gen_ai.client.operation.duration"]}
    assert len(errors) == ERROR_TYPES_LIMIT + 1 and "_OTHER" in errors


COST_CASES = [
    ("aws.bedrock", "anthropic.claude-3-haiku-20240307-v1:0", None),
    ("aws.bedrock", "us.anthropic.claude-3-haiku-20240307-v1:0", None),
    ("aws.bedrock", "acme.unknown-v1", None),
    ("anthropic", "anthropic.claude-3-haiku-20240307-v1:0", None),
    ("azure.ai.openai", "my-deployment", "gpt-4o-mini-2024-07-18"),
    ("openai", "gpt-4o-mini", None),
    ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("ollama", "llama3.2", None),
]


@pytest.mark.parametrize(
    "usage",
    [
        USAGE.usage,
        TokenUsage(uncached_input_tokens=10, output_tokens=5, cache_read_input_tokens=100),
        TokenUsage(uncached_input_tokens=10),
        TokenUsage(),
    ],
)
def test_cost_from_the_kept_price_row_is_the_tables_cost(usage: TokenUsage) -> None:
    prices = PriceTable.default()
    metrics = GenAIMetrics(MeterProvider().get_meter("test"), prices)
    for _ in range(2):  # the first pass keeps each (model, provider) row, the second reads it
        for provider, model, answered in COST_CASES:
            for operation in ("chat", "embeddings"):
                request = GenAIRequest(operation_name=operation, provider_name=provider, model=model)
                response = GenAIResponse(response_model=answered, usage=usage)
                priced = next((m for m in (answered, model) if m and prices.resolve(m, provider)), None)
                expected = (
                    None
                    if priced is None or not usage.known
                    else prices.cost(priced, usage, provider, output_expected=operation == "chat")
                )
                assert metrics.compute_cost(request, response) == expected


def test_price_rows_kept_are_bounded() -> None:
    metrics = GenAIMetrics(MeterProvider().get_meter("test"), PriceTable.default())
    for n in range(PRICE_ROWS_KEPT + 20):
        request = GenAIRequest(operation_name="chat", provider_name="ollama", model=f"model-{n}")
        cost = metrics.compute_cost(request, USAGE)  # Ollama's "*": every local model is free
        assert cost is not None and cost.total == 0.0
    assert len(metrics._price_rows) == PRICE_ROWS_KEPT
