from __future__ import annotations

from opentelemetry.semconv._incubating.metrics import gen_ai_metrics

from otel_chatbot.genai import names
from otel_chatbot.genai.types import Attributes, GenAIRequest, GenAIResponse, TokenUsage


def test_bucket_boundaries_match_the_convention() -> None:
    assert tuple(4**i for i in range(14)) == names.TOKEN_USAGE_BUCKETS
    seconds = tuple(round(0.01 * 2**i, 2) for i in range(14))
    assert seconds == names.OPERATION_DURATION_BUCKETS
    assert seconds == names.TIME_TO_FIRST_CHUNK_BUCKETS
    assert seconds == names.TIME_PER_OUTPUT_CHUNK_BUCKETS


def test_our_metric_names_do_not_shadow_convention_metrics() -> None:
    convention = {getattr(gen_ai_metrics, n) for n in dir(gen_ai_metrics) if n.startswith("GEN_AI_")}
    assert "gen_ai.client.token.usage" in convention
    assert names.METRIC_GEN_AI_CLIENT_COST not in convention
    assert names.METRIC_GEN_AI_CLIENT_THROTTLES not in convention


def test_our_attribute_names_are_unique() -> None:
    ours = [v for k, v in vars(names).items() if k.startswith(("AWS_BEDROCK_", "GEN_AI_"))]
    assert len(ours) == len(set(ours))
    assert all(isinstance(v, str) and v == v.lower() for v in ours)


def _assert_attribute_types(attrs: Attributes) -> None:
    for key, value in attrs.items():
        assert isinstance(key, str)
        if isinstance(value, tuple):
            assert all(isinstance(v, str) for v in value)
        else:
            assert isinstance(value, str | int | float | bool)


def test_attribute_values_are_otel_compatible() -> None:
    request = GenAIRequest(
        operation_name="chat",
        provider_name="aws.bedrock",
        model="m",
        max_tokens=1,
        temperature=0.1,
        stop_sequences=("a",),
        stream=True,
    )
    response = GenAIResponse(
        response_id="r", finish_reasons=("stop",), usage=TokenUsage(1, 2, 3, 4), guardrail_intervened=False
    )
    _assert_attribute_types(request.attributes())
    _assert_attribute_types(response.attributes())
    assert response.attributes()["gen_ai.usage.input_tokens"] == 8


def test_span_name_falls_back_to_operation() -> None:
    assert GenAIRequest(operation_name="chat", provider_name="aws.bedrock").span_name == "chat"
    assert (
        GenAIRequest(operation_name="retrieval", provider_name="aws.bedrock", knowledge_base_id="KB").span_name
        == "retrieval KB"
    )


def test_choice_count_of_one_is_not_recorded() -> None:
    assert (
        "gen_ai.request.choice.count"
        not in GenAIRequest(operation_name="chat", provider_name="aws.bedrock", choice_count=1).attributes()
    )
    assert (
        GenAIRequest(operation_name="chat", provider_name="aws.bedrock", choice_count=3).attributes()[
            "gen_ai.request.choice.count"
        ]
        == 3
    )


def test_the_provider_comes_from_the_request() -> None:
    request = GenAIRequest(operation_name="chat", provider_name="openai", model="gpt-4o-mini")
    assert request.attributes()["gen_ai.provider.name"] == "openai"
