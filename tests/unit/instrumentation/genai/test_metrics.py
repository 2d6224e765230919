"""GenAI metrics: keyed by the call's provider, cost from the price table, an unknown model logged once."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_chatbot.genai.pricing import PriceTable
from otel_chatbot.genai.types import GenAIRequest, GenAIResponse, TokenUsage
from otel_chatbot.instrumentation.genai.metrics import GenAIMetrics

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


def test_every_metric_carries_the_requests_provider() -> None:
    reader = InMemoryMetricReader()
    metrics = GenAIMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"), PriceTable.default())
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    for provider in ("aws.bedrock", "anthropic"):
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
