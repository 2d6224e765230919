"""Fuzzed Bedrock payloads of every operation and model family, fed to the pure readers of the operation table.

Every row of ``BEDROCK_OPERATIONS`` reads the app's parameters and Bedrock's answer (or its
stream's events) with pure functions that must never raise, whatever they are given. The
examples are real payloads (the unit tests' tables: every InvokeModel family, Converse,
streams, agent traces) broken by :func:`~tests.fuzz.strategies.shaped_like`. Beyond not
raising, what the readers produce must be attributes a span can carry: OpenTelemetry's
primitive types, token counts that are non-negative integers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from otel_chatbot.genai.bedrock_operations import BEDROCK_OPERATIONS
from otel_chatbot.genai.types import GenAIRequest, GenAIResponse
from tests.fuzz.strategies import HOSTILE_LEAF, body_like, shaped_like
from tests.unit.genai.test_agents import AGENT_EVENTS
from tests.unit.genai.test_bedrock import CONVERSE_PARAMS, CONVERSE_RESPONSE, REQUEST_CASES, RESPONSE_CASES
from tests.unit.genai.test_streams import CONVERSE_EVENTS, STREAM_CASES

PRIMITIVES = (str, bool, int, float)
FAMILY_MODELS = sorted({model for model, _, _ in REQUEST_CASES} | {model for model, _, _ in RESPONSE_CASES})
TOKEN_HEADERS = st.dictionaries(
    st.sampled_from(
        ["x-amzn-bedrock-input-token-count", "X-Amzn-Bedrock-Output-Token-Count", "x-amzn-bedrock-invocation-latency",
         "x-amzn-bedrock-cache-read-input-token-count", "content-type"]
    ),
    st.one_of(st.text(max_size=12), st.integers().map(str), st.just("99999999999999999999999")),
    max_size=5,
)  # fmt: skip
GUARDRAIL_RESULT = {
    "action": "GUARDRAIL_INTERVENED",
    "outputs": [{"text": "[EMAIL]"}],
    "usage": {"topicPolicyUnits": 1},
}
RETRIEVE_PARAMS = {
    "knowledgeBaseId": "KB1",
    "retrievalQuery": {"text": "pricing"},
    "guardrailConfiguration": {"guardrailId": "g", "guardrailVersion": "1"},
}
RETRIEVE_RESULT = {"retrievalResults": [{"content": {"text": "x"}, "score": 0.5}], "guardrailAction": "NONE"}
RAG_PARAMS = {
    "input": {"text": "what does it cost"},
    "sessionId": "s-1",
    "retrieveAndGenerateConfiguration": {
        "type": "KNOWLEDGE_BASE",
        "knowledgeBaseConfiguration": {
            "knowledgeBaseId": "KB1",
            "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            "generationConfiguration": {"inferenceConfig": {"textInferenceConfig": {"maxTokens": 10}}},
        },
    },
}
RAG_RESULT = {"output": {"text": "it costs"}, "sessionId": "s-1", "citations": [{}], "guardrailAction": "INTERVENED"}
AGENT_PARAMS = {"agentId": "A1", "agentAliasId": "AL1", "sessionId": "s-1", "inputText": "book", "enableTrace": True}


def check_attributes(attributes: Mapping[str, Any]) -> None:
    """What a span can carry: primitives or homogeneous sequences of them; counts non-negative."""
    for key, value in attributes.items():
        assert isinstance(key, str) and key
        if isinstance(value, tuple | list):
            assert all(isinstance(v, PRIMITIVES) for v in value), (key, value)
            assert len({type(v) for v in value}) <= 1, (key, value)
        else:
            assert isinstance(value, PRIMITIVES), (key, value)
        if key.startswith("gen_ai.usage.") and key.endswith("tokens"):
            assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, (key, value)
        if isinstance(value, float) and key.startswith("gen_ai.request."):
            assert math.isfinite(value) or math.isnan(value), (key, value)


def read_request(operation: str, params: Any) -> GenAIRequest:
    row = BEDROCK_OPERATIONS[operation]
    request = row.request(params)
    check_attributes(request.attributes())
    if row.input_messages is not None:
        json.dumps(row.input_messages(params), default=str)
    return request


def read_result(operation: str, params: Any, result: Any) -> GenAIResponse:
    row = BEDROCK_OPERATIONS[operation]
    assert row.response is not None
    response = row.response(params, result)
    check_attributes(response.attributes())
    if row.output_messages is not None:
        json.dumps(row.output_messages(params, result), default=str)
    return response


def read_stream(operation: str, params: Any, events: list[Any], capture: bool) -> None:
    row = BEDROCK_OPERATIONS[operation]
    assert row.stream is not None
    accumulator = row.stream.accumulator(params, capture)
    for event in events:
        accumulator.feed(event)
    check_attributes(accumulator.response().attributes())
    json.dumps(accumulator.output_messages(), default=str)
    for step in accumulator.steps:
        check_attributes(step.attributes)


@given(params=shaped_like(CONVERSE_PARAMS) | HOSTILE_LEAF, result=shaped_like(CONVERSE_RESPONSE) | HOSTILE_LEAF)
def test_converse(params: Any, result: Any) -> None:
    read_request("Converse", params)
    read_result("Converse", params, result)


@given(params=shaped_like(CONVERSE_PARAMS), events=st.lists(st.one_of(*map(shaped_like, CONVERSE_EVENTS)), max_size=12))
def test_converse_stream(params: Any, events: list[Any]) -> None:
    read_request("ConverseStream", params)
    read_stream("ConverseStream", params, events, capture=True)


@given(
    case=st.sampled_from(REQUEST_CASES).flatmap(lambda c: st.tuples(st.just(c[0]), body_like(c[1]))),
    stream=st.booleans(),
)
def test_invoke_model_request_of_every_family(case: tuple[str, bytes], stream: bool) -> None:
    model, body = case
    params = {"modelId": model, "body": body, "guardrailIdentifier": "g", "guardrailVersion": "1"}
    read_request("InvokeModelWithResponseStream" if stream else "InvokeModel", params)


@given(
    case=st.sampled_from(RESPONSE_CASES).flatmap(lambda c: st.tuples(st.just(c[0]), body_like(c[1]))),
    model=st.sampled_from(FAMILY_MODELS) | st.text(max_size=40),
    headers=TOKEN_HEADERS,
    decoded=st.booleans(),
)
def test_invoke_model_answer_of_every_family(
    case: tuple[str, bytes], model: str, headers: dict[str, str], decoded: bool
) -> None:
    answered_model, body = case
    params = {"modelId": answered_model if decoded else model, "body": b"{}"}
    try:
        body_value: Any = json.loads(body) if decoded else body  # the wiring hands over the parsed object
    except (ValueError, RecursionError):
        body_value = None
    result = {"body": body_value, "ResponseMetadata": {"HTTPHeaders": headers}}
    response = read_result("InvokeModel", params, result)
    for key in ("x-amzn-bedrock-input-token-count",):
        if key in headers and headers[key].isdigit() and response.usage.input_tokens is not None:
            assert response.usage.input_tokens >= 0


@given(
    case=st.sampled_from(STREAM_CASES).flatmap(
        lambda c: st.tuples(st.just(c[0]), st.lists(st.one_of(*map(shaped_like, c[1])), max_size=10))
    ),
    wrap=st.sampled_from(["event", "bytes", "text", "dict"]),
)
def test_invoke_model_stream_of_every_family(case: tuple[str, list[Any]], wrap: str) -> None:
    model, chunks = case

    def on_the_wire(chunk: Any) -> Any:
        data = json.dumps(chunk, default=str).encode()
        return {"bytes": data, "text": data.decode(), "dict": chunk, "event": {"chunk": {"bytes": data}}}[wrap]

    read_stream("InvokeModelWithResponseStream", {"modelId": model}, [on_the_wire(c) for c in chunks], capture=True)


@given(
    params=shaped_like({"guardrailIdentifier": "g", "guardrailVersion": "1", "source": "INPUT"}),
    result=shaped_like(GUARDRAIL_RESULT),
)
def test_apply_guardrail(params: Any, result: Any) -> None:
    read_request("ApplyGuardrail", params)
    read_result("ApplyGuardrail", params, result)


@given(params=shaped_like(RETRIEVE_PARAMS), result=shaped_like(RETRIEVE_RESULT))
def test_retrieve(params: Any, result: Any) -> None:
    read_request("Retrieve", params)
    read_result("Retrieve", params, result)


@given(params=shaped_like(RAG_PARAMS), result=shaped_like(RAG_RESULT))
def test_retrieve_and_generate(params: Any, result: Any) -> None:
    read_request("RetrieveAndGenerate", params)
    read_result("RetrieveAndGenerate", params, result)


@given(
    params=shaped_like(AGENT_PARAMS),
    events=st.lists(st.one_of(*map(shaped_like, AGENT_EVENTS)), max_size=12),
    capture=st.booleans(),
)
def test_invoke_agent(params: Any, events: list[Any], capture: bool) -> None:
    read_request("InvokeAgent", params)
    read_stream("InvokeAgent", params, events, capture)


def test_every_operation_is_fuzzed() -> None:
    fuzzed = {"Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream", "ApplyGuardrail",
              "Retrieve", "RetrieveAndGenerate", "InvokeAgent"}  # fmt: skip
    assert set(BEDROCK_OPERATIONS) == fuzzed
