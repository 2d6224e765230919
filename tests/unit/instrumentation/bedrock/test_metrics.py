"""Cost from the price table: an unknown model gets none, and is logged once."""

from __future__ import annotations

import pytest


def test_unknown_model_gets_no_cost_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.sdk.metrics import MeterProvider

    from otel_chatbot.genai import GenAIRequest, GenAIResponse, PriceTable, TokenUsage
    from otel_chatbot.instrumentation.bedrock.metrics import GenAIMetrics

    metrics = GenAIMetrics(MeterProvider(), PriceTable.default())
    request = GenAIRequest(operation_name="chat", model="acme.unknown-model-v1")
    response = GenAIResponse(usage=TokenUsage(uncached_input_tokens=10, output_tokens=5))
    with caplog.at_level("WARNING", logger="otel_chatbot.bedrock"):
        assert metrics.compute_cost(request, response) is None
        assert metrics.compute_cost(request, response) is None
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1
    assert "acme.unknown-model-v1" in caplog.records[0].getMessage()
