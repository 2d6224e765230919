"""The frozen request/response values and their span attributes (genai/types.py)."""

from __future__ import annotations

from otel_chatbot.genai.types import Attributes, GenAIRequest, GenAIResponse, TokenUsage


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
