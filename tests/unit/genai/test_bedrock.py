from __future__ import annotations

import json
from typing import Any

import pytest

from otel_chatbot.genai.bedrock import (
    apply_guardrail_request,
    apply_guardrail_response,
    converse_request,
    converse_response,
    invoke_model_request,
    invoke_model_response,
    is_throttling,
)
from otel_chatbot.genai.types import GenAIRequest, TokenUsage

# --- Converse --------------------------------------------------------------------------

CONVERSE_PARAMS: dict[str, Any] = {
    "modelId": "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "messages": [{"role": "user", "content": [{"text": "What is the capital of France?"}]}],
    "system": [{"text": "You are terse."}],
    "inferenceConfig": {"maxTokens": 512, "temperature": 0.2, "topP": 0.9, "stopSequences": ["\n\nHuman:"]},
    "guardrailConfig": {"guardrailIdentifier": "sgi5gkybzqak", "guardrailVersion": "3", "trace": "enabled"},
    "additionalModelRequestFields": {"top_k": 40},
}

CONVERSE_RESPONSE: dict[str, Any] = {
    "ResponseMetadata": {"RequestId": "5c1e6d4f-0000-4a6b-9f1e-123456789abc", "HTTPStatusCode": 200},
    "output": {"message": {"role": "assistant", "content": [{"text": "Paris."}]}},
    "stopReason": "end_turn",
    "usage": {
        "inputTokens": 12,
        "outputTokens": 4,
        "totalTokens": 3036,
        "cacheReadInputTokens": 2000,
        "cacheWriteInputTokens": 1020,
    },
    "metrics": {"latencyMs": 612},
}


def test_converse_request_attributes() -> None:
    request = converse_request(CONVERSE_PARAMS, stream=False)
    assert request.attributes() == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": "us.anthropic.claude-sonnet-4-20250514-v1:0",
        "gen_ai.request.max_tokens": 512,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40.0,
        "gen_ai.request.stop_sequences": ("\n\nHuman:",),
        "gen_ai.request.stream": False,
        "aws.bedrock.guardrail.id": "sgi5gkybzqak",
        "aws.bedrock.guardrail.version": "3",
    }
    assert request.span_name == "chat us.anthropic.claude-sonnet-4-20250514-v1:0"


def test_converse_response_cache_arithmetic() -> None:
    """Converse inputTokens excludes cache reads/writes; the convention's total includes them."""
    response = converse_response(CONVERSE_RESPONSE)
    assert response.usage == TokenUsage(
        uncached_input_tokens=12,
        output_tokens=4,
        cache_read_input_tokens=2000,
        cache_creation_input_tokens=1020,
    )
    assert response.usage.input_tokens == 12 + 2000 + 1020
    # totalTokens from Bedrock agrees with our arithmetic.
    assert response.usage.input_tokens + 4 == CONVERSE_RESPONSE["usage"]["totalTokens"]
    assert response.attributes() == {
        "gen_ai.response.finish_reasons": ("end_turn",),
        "gen_ai.usage.input_tokens": 3032,
        "gen_ai.usage.output_tokens": 4,
        "gen_ai.usage.cache_read.input_tokens": 2000,
        "gen_ai.usage.cache_creation.input_tokens": 1020,
        "aws.bedrock.server.latency_ms": 612,
    }


def test_converse_response_without_cache_fields() -> None:
    response = converse_response(
        {"stopReason": "max_tokens", "usage": {"inputTokens": 7, "outputTokens": 100, "totalTokens": 107}}
    )
    assert response.usage.input_tokens == 7
    assert response.usage.cache_read_input_tokens is None
    assert "gen_ai.usage.cache_read.input_tokens" not in response.attributes()
    assert response.finish_reasons == ("max_tokens",)


@pytest.mark.parametrize(
    ("payload", "configured", "intervened"),
    [
        ({"stopReason": "guardrail_intervened"}, False, True),
        ({"stopReason": "guardrail_intervened"}, True, True),
        ({"stopReason": "end_turn"}, True, False),
        ({"stopReason": "end_turn"}, False, None),
        (
            {"stopReason": "end_turn", "trace": {"guardrail": {"inputAssessment": {}, "actionReason": "x"}}},
            False,
            False,
        ),
    ],
)
def test_converse_guardrail_verdict(payload: dict[str, Any], configured: bool, intervened: bool | None) -> None:
    assert converse_response(payload, guardrail_configured=configured).guardrail_intervened is intervened


def test_converse_prompt_router_model() -> None:
    response = converse_response(
        {
            "stopReason": "end_turn",
            "trace": {"promptRouter": {"invokedModelId": "arn:aws:bedrock:us-east-1::foundation-model/x"}},
        }
    )
    assert response.response_model == "arn:aws:bedrock:us-east-1::foundation-model/x"


@pytest.mark.parametrize(
    "garbage",
    [
        {},
        {"usage": "lots"},
        {"usage": {"inputTokens": "12", "outputTokens": -1, "cacheReadInputTokens": True}},
        {"stopReason": 5, "metrics": {"latencyMs": "fast"}, "output": []},
        None,
        [],
        "not a dict",
    ],
)
def test_converse_garbage_never_raises(garbage: Any) -> None:
    response = converse_response(garbage)
    assert response.finish_reasons == ()
    assert response.server_latency_ms is None
    assert response.usage.output_tokens is None
    assert converse_request(garbage).operation_name == "chat"


def test_converse_request_garbage_fields() -> None:
    request = converse_request({"modelId": 3, "inferenceConfig": {"maxTokens": "many", "temperature": "hot"}})
    assert request == GenAIRequest(operation_name="chat", provider_name="aws.bedrock")


# --- InvokeModel requests, one row per family --------------------------------------------

REQUEST_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 1024,
            "temperature": 0.7,
            "top_p": 0.95,
            "top_k": 250,
            "stop_sequences": ["END"],
            "system": "Be kind.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        },
        {
            "operation_name": "chat",
            "max_tokens": 1024,
            "temperature": 0.7,
            "top_p": 0.95,
            "top_k": 250.0,
            "stop_sequences": ("END",),
        },
    ),
    (
        "anthropic.claude-v2:1",
        {"prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": 300, "temperature": 0.5},
        {"operation_name": "text_completion", "max_tokens": 300, "temperature": 0.5},
    ),
    (
        "us.amazon.nova-pro-v1:0",
        {
            "schemaVersion": "messages-v1",
            "system": [{"text": "You are helpful."}],
            "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
            "inferenceConfig": {
                "max_new_tokens": 300,
                "temperature": 0.3,
                "top_p": 0.9,
                "top_k": 20,
                "stopSequences": ["###"],
            },
        },
        {
            "operation_name": "chat",
            "max_tokens": 300,
            "temperature": 0.3,
            "top_p": 0.9,
            "top_k": 20.0,
            "stop_sequences": ("###",),
        },
    ),
    (
        "amazon.titan-text-express-v1",
        {
            "inputText": "Write a haiku.",
            "textGenerationConfig": {
                "maxTokenCount": 512,
                "temperature": 0.0,
                "topP": 0.9,
                "stopSequences": ["User:"],
            },
        },
        {
            "operation_name": "text_completion",
            "max_tokens": 512,
            "temperature": 0.0,
            "top_p": 0.9,
            "stop_sequences": ("User:",),
        },
    ),
    (
        "amazon.titan-embed-text-v2:0",
        {"inputText": "embed me", "dimensions": 512, "normalize": True},
        {"operation_name": "embeddings"},
    ),
    (
        "meta.llama3-70b-instruct-v1:0",
        {"prompt": "<|begin_of_text|>Hi", "max_gen_len": 512, "temperature": 0.5, "top_p": 0.9},
        {"operation_name": "text_completion", "max_tokens": 512, "temperature": 0.5, "top_p": 0.9},
    ),
    (
        "cohere.command-text-v14",
        {
            "prompt": "Hi",
            "max_tokens": 200,
            "temperature": 0.8,
            "p": 0.75,
            "k": 0,
            "stop_sequences": ["--"],
            "num_generations": 2,
        },
        {
            "operation_name": "text_completion",
            "max_tokens": 200,
            "temperature": 0.8,
            "top_p": 0.75,
            "top_k": 0.0,
            "stop_sequences": ("--",),
            "choice_count": 2,
        },
    ),
    (
        "cohere.command-r-plus-v1:0",
        {"message": "Hi", "chat_history": [], "max_tokens": 400, "temperature": 0.3, "p": 0.9, "seed": 7},
        {"operation_name": "chat", "max_tokens": 400, "temperature": 0.3, "top_p": 0.9, "seed": 7},
    ),
    (
        "cohere.embed-english-v3",
        {"texts": ["a", "b"], "input_type": "search_document"},
        {"operation_name": "embeddings"},
    ),
    (
        "mistral.mistral-7b-instruct-v0:2",
        {
            "prompt": "<s>[INST] Hi [/INST]",
            "max_tokens": 400,
            "temperature": 0.7,
            "top_p": 0.9,
            "top_k": 50,
            "stop": ["</s>"],
        },
        {
            "operation_name": "text_completion",
            "max_tokens": 400,
            "temperature": 0.7,
            "top_p": 0.9,
            "top_k": 50.0,
            "stop_sequences": ("</s>",),
        },
    ),
    (
        "mistral.mistral-large-2407-v1:0",
        {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 800, "temperature": 0.1},
        {"operation_name": "chat", "max_tokens": 800, "temperature": 0.1},
    ),
    (
        "ai21.jamba-1-5-mini-v1:0",
        {
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 256,
            "temperature": 0.4,
            "top_p": 0.8,
            "stop": ["\n"],
            "n": 1,
        },
        {
            "operation_name": "chat",
            "max_tokens": 256,
            "temperature": 0.4,
            "top_p": 0.8,
            "stop_sequences": ("\n",),
            "choice_count": 1,
        },
    ),
    (
        "ai21.j2-ultra-v1",
        {
            "prompt": "Hi",
            "maxTokens": 200,
            "temperature": 0.7,
            "topP": 1,
            "stopSequences": [],
            "numResults": 1,
        },
        {
            "operation_name": "text_completion",
            "max_tokens": 200,
            "temperature": 0.7,
            "top_p": 1.0,
            "choice_count": 1,
        },
    ),
    (
        "openai.gpt-oss-120b-1:0",
        {"messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 900, "temperature": 1.0},
        {"operation_name": "chat", "max_tokens": 900, "temperature": 1.0},
    ),
]


@pytest.mark.parametrize(("model_id", "body", "expected"), REQUEST_CASES, ids=[c[0] for c in REQUEST_CASES])
@pytest.mark.parametrize("encoding", ["bytes", "str", "dict"])
def test_invoke_model_request_families(
    model_id: str, body: dict[str, Any], expected: dict[str, Any], encoding: str
) -> None:
    raw: Any = {"bytes": json.dumps(body).encode(), "str": json.dumps(body), "dict": body}[encoding]
    request = invoke_model_request(model_id, raw)
    assert request == GenAIRequest(provider_name="aws.bedrock", model=model_id, **expected)


def test_invoke_model_request_guardrail_and_stream() -> None:
    request = invoke_model_request(
        "meta.llama3-8b-instruct-v1:0",
        b'{"prompt": "x"}',
        stream=True,
        guardrail_id="gr-1",
        guardrail_version="DRAFT",
    )
    attrs = request.attributes()
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["aws.bedrock.guardrail.id"] == "gr-1"
    assert attrs["aws.bedrock.guardrail.version"] == "DRAFT"


@pytest.mark.parametrize(
    ("model_id", "body", "operation"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", b"\xff\xfe not utf-8", "chat"),
        ("meta.llama3-8b-instruct-v1:0", b"{truncated", "text_completion"),
        ("amazon.titan-text-lite-v1", b"[1, 2, 3]", "text_completion"),
        ("amazon.nova-micro-v1:0", None, "chat"),
        ("unknown-model", b"", "chat"),
        ("meta.llama3-8b-instruct-v1:0", b'{"max_gen_len": "lots", "temperature": null}', "text_completion"),
    ],
)
def test_invoke_model_request_garbage(model_id: str, body: Any, operation: str) -> None:
    request = invoke_model_request(model_id, body)
    assert request.operation_name == operation
    assert request.max_tokens is None
    assert request.temperature is None


# --- InvokeModel responses, one row per family ---------------------------------------------

RESPONSE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        {
            "id": "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": "claude-3-7-sonnet-20250219",
            "content": [{"type": "text", "text": "Hello!"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 25,
                "cache_creation_input_tokens": 1500,
                "cache_read_input_tokens": 0,
                "output_tokens": 12,
            },
        },
        {
            "response_id": "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL",
            "response_model": "claude-3-7-sonnet-20250219",
            "finish_reasons": ("end_turn",),
            "input": 1525,
            "output": 12,
            "cache_read": 0,
            "cache_write": 1500,
        },
    ),
    (
        "amazon.nova-lite-v1:0",
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "Hi there"}]}},
            "stopReason": "end_turn",
            "usage": {
                "inputTokens": 5,
                "outputTokens": 3,
                "totalTokens": 1008,
                "cacheReadInputTokenCount": 1000,
                "cacheWriteInputTokenCount": 0,
            },
        },
        {"finish_reasons": ("end_turn",), "input": 1005, "output": 3, "cache_read": 1000, "cache_write": 0},
    ),
    (
        "amazon.titan-text-express-v1",
        {
            "inputTextTokenCount": 6,
            "results": [{"tokenCount": 40, "outputText": "A haiku...", "completionReason": "FINISH"}],
        },
        {"finish_reasons": ("FINISH",), "input": 6, "output": 40},
    ),
    (
        "amazon.titan-embed-text-v2:0",
        {"embedding": [0.1, 0.2], "inputTextTokenCount": 4},
        {"input": 4},
    ),
    (
        "meta.llama3-70b-instruct-v1:0",
        {"generation": "Hello", "prompt_token_count": 9, "generation_token_count": 2, "stop_reason": "stop"},
        {"finish_reasons": ("stop",), "input": 9, "output": 2},
    ),
    (
        "cohere.command-text-v14",
        {
            "id": "ac2d1b3e-1b3e-4b7a-9c1e-0f1e2d3c4b5a",
            "prompt": "Hi",
            "generations": [
                {"id": "g1", "text": "Hello", "finish_reason": "COMPLETE"},
                {"id": "g2", "text": "Hey", "finish_reason": "MAX_TOKENS"},
            ],
        },
        {"response_id": "ac2d1b3e-1b3e-4b7a-9c1e-0f1e2d3c4b5a", "finish_reasons": ("COMPLETE", "MAX_TOKENS")},
    ),
    (
        "cohere.command-r-v1:0",
        {
            "response_id": "r-123",
            "text": "Hello",
            "generation_id": "g-1",
            "finish_reason": "COMPLETE",
            "chat_history": [],
        },
        {"response_id": "r-123", "finish_reasons": ("COMPLETE",)},
    ),
    (
        "mistral.mixtral-8x7b-instruct-v0:1",
        {"outputs": [{"text": "Bonjour", "stop_reason": "stop"}]},
        {"finish_reasons": ("stop",)},
    ),
    (
        "mistral.mistral-large-2407-v1:0",
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "stop_reason": "stop"}]},
        {"finish_reasons": ("stop",)},
    ),
    (
        "ai21.jamba-1-5-large-v1:0",
        {
            "id": "chatcmpl-9d8f",
            "model": "jamba-1.5-large",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
        },
        {
            "response_id": "chatcmpl-9d8f",
            "response_model": "jamba-1.5-large",
            "finish_reasons": ("stop",),
            "input": 11,
            "output": 3,
        },
    ),
    (
        "ai21.j2-mid-v1",
        {
            "id": 1234,
            "prompt": {"text": "Hi", "tokens": [{}, {}]},
            "completions": [
                {"data": {"text": " there", "tokens": [{}, {}, {}]}, "finishReason": {"reason": "endoftext"}}
            ],
        },
        {"finish_reasons": ("endoftext",), "input": 2, "output": 3},
    ),
    (
        "deepseek.r1-v1:0",
        {"choices": [{"text": "Answer", "stop_reason": "stop"}]},
        {"finish_reasons": ("stop",)},
    ),
]


@pytest.mark.parametrize(("model_id", "body", "expected"), RESPONSE_CASES, ids=[c[0] for c in RESPONSE_CASES])
def test_invoke_model_response_families(model_id: str, body: dict[str, Any], expected: dict[str, Any]) -> None:
    response = invoke_model_response(model_id, json.dumps(body).encode(), {})
    assert response.response_id == expected.get("response_id")
    assert response.response_model == expected.get("response_model")
    assert response.finish_reasons == expected.get("finish_reasons", ())
    assert response.usage.input_tokens == expected.get("input")
    assert response.usage.output_tokens == expected.get("output")
    assert response.usage.cache_read_input_tokens == expected.get("cache_read")
    assert response.usage.cache_creation_input_tokens == expected.get("cache_write")


HEADERS = {
    "date": "Sat, 22 Nov 2026 10:00:00 GMT",
    "content-type": "application/json",
    "x-amzn-requestid": "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
    "x-amzn-bedrock-invocation-latency": "842",
    "x-amzn-bedrock-output-token-count": "57",
    "x-amzn-bedrock-input-token-count": "19",
}


def test_invoke_model_response_header_fallback_for_families_without_usage() -> None:
    body = {"outputs": [{"text": "Bonjour", "stop_reason": "length"}]}
    response = invoke_model_response("mistral.mistral-7b-instruct-v0:2", json.dumps(body).encode(), HEADERS)
    assert response.usage == TokenUsage(uncached_input_tokens=19, output_tokens=57)
    assert response.invocation_latency_ms == 842
    assert response.attributes()["aws.bedrock.invocation.latency_ms"] == 842


def test_invoke_model_response_headers_are_case_insensitive() -> None:
    headers = {
        "X-Amzn-Bedrock-Input-Token-Count": "19",
        "X-AMZN-BEDROCK-OUTPUT-TOKEN-COUNT": "57",
        "X-Amzn-Bedrock-Cache-Read-Input-Token-Count": "1000",
        "x-amzn-bedrock-cache-write-input-token-count": "0",
    }
    response = invoke_model_response("cohere.command-r-v1:0", b'{"text": "hi"}', headers)
    assert response.usage == TokenUsage(19, 57, 1000, 0)
    assert response.usage.input_tokens == 1019


def test_invoke_model_response_body_counts_beat_headers() -> None:
    body = {"generation": "x", "prompt_token_count": 9, "generation_token_count": 2, "stop_reason": "stop"}
    response = invoke_model_response("meta.llama3-8b-instruct-v1:0", json.dumps(body).encode(), HEADERS)
    assert response.usage.uncached_input_tokens == 9
    assert response.usage.output_tokens == 2


def test_invoke_model_response_headers_fill_missing_cache_counts() -> None:
    body = {
        "id": "msg_1",
        "content": [],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }
    headers = {"x-amzn-bedrock-cache-read-input-token-count": "500"}
    response = invoke_model_response("anthropic.claude-3-5-haiku-20241022-v1:0", json.dumps(body), headers)
    assert response.usage.cache_read_input_tokens == 500
    assert response.usage.input_tokens == 503


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"{not json",
        b"\x00\x01\x02",
        b'"just a string"',
        b'{"usage": {"input_tokens": "x"}}',
        None,
    ],
)
def test_invoke_model_response_garbage_body_uses_headers(body: Any) -> None:
    response = invoke_model_response("anthropic.claude-3-5-haiku-20241022-v1:0", body, HEADERS)
    assert response.usage == TokenUsage(uncached_input_tokens=19, output_tokens=57)
    assert response.finish_reasons == ()


def test_invoke_model_response_unknown_tokens_are_none_not_zero() -> None:
    response = invoke_model_response(
        "mistral.mistral-7b-instruct-v0:2", b"{}", {"x-amzn-bedrock-input-token-count": ""}
    )
    assert response.usage.input_tokens is None
    assert response.usage.output_tokens is None
    attrs = response.attributes()
    assert "gen_ai.usage.input_tokens" not in attrs
    assert "gen_ai.usage.output_tokens" not in attrs


def test_invoke_model_response_guardrail_action_in_body() -> None:
    body = {"generation": "Sorry.", "amazon-bedrock-guardrailAction": "INTERVENED", "stop_reason": "stop"}
    response = invoke_model_response("meta.llama3-8b-instruct-v1:0", json.dumps(body).encode(), {})
    assert response.guardrail_intervened is True
    body["amazon-bedrock-guardrailAction"] = "NONE"
    response = invoke_model_response("meta.llama3-8b-instruct-v1:0", json.dumps(body).encode(), {})
    assert response.guardrail_intervened is False


# --- ApplyGuardrail and errors -----------------------------------------------------------


def test_apply_guardrail() -> None:
    request = apply_guardrail_request(
        {
            "guardrailIdentifier": "gr-abc",
            "guardrailVersion": "1",
            "source": "INPUT",
            "content": [{"text": {"text": "my card is 4111 1111 1111 1111"}}],
        }
    )
    assert request.attributes() == {
        "gen_ai.operation.name": "apply_guardrail",
        "gen_ai.provider.name": "aws.bedrock",
        "aws.bedrock.guardrail.id": "gr-abc",
        "aws.bedrock.guardrail.version": "1",
    }
    blocked = apply_guardrail_response(
        {
            "usage": {"topicPolicyUnits": 1},
            "action": "GUARDRAIL_INTERVENED",
            "outputs": [{"text": "Sorry."}],
            "assessments": [],
        }
    )
    assert blocked.attributes() == {"aws.bedrock.guardrail.intervened": True}
    assert apply_guardrail_response({"action": "NONE", "outputs": []}).guardrail_intervened is False
    assert apply_guardrail_response({}).guardrail_intervened is None


@pytest.mark.parametrize(
    ("code", "throttled"),
    [("ThrottlingException", True), ("TooManyRequestsException", True), ("ValidationException", False), (None, False)],
)
def test_is_throttling(code: str | None, throttled: bool) -> None:
    assert is_throttling(code) is throttled
