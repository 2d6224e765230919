"""The local Bedrock server against real boto3 / aiobotocore clients over loopback.

Every check goes through the SDKs' own parsers (rest-json, event streams with CRC checks),
because the point of the server is that unmodified clients cannot tell it from Bedrock.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.eventstream
import botocore.exceptions
import pytest
import urllib3.exceptions
from botocore.config import Config

from otel_chatbot.testing.bedrock import BedrockServer
from otel_chatbot.testing.standin.generation import INPUT_TOKEN_OVERHEAD, REPLY_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[3]
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA = "amazon.nova-micro-v1:0"
QUESTION = "tell me about otel"
# ``max_attempts`` counts retries in botocore; ``total_max_attempts`` = 1 really disables them.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


def expected_reply(question: str = QUESTION) -> str:
    return f"{REPLY_PREFIX} {question}"


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="module")
def server() -> Iterator[BedrockServer]:
    with BedrockServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_server(server: BedrockServer) -> None:
    server.reset()


def _client(server: BedrockServer, service: str) -> Iterator[Any]:
    client = boto3.client(service, endpoint_url=server.endpoint_url, config=NO_RETRIES, **CREDENTIALS)
    yield client
    client.close()


@pytest.fixture(scope="module")
def runtime(server: BedrockServer) -> Iterator[Any]:
    yield from _client(server, "bedrock-runtime")


@pytest.fixture(scope="module")
def agents(server: BedrockServer) -> Iterator[Any]:
    yield from _client(server, "bedrock-agent-runtime")


def user(text: str = QUESTION) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def ledger_tokens(server: BedrockServer, model: str, operation: str) -> tuple[int, int, int, int]:
    entry = server.ledger.entry(model, operation)
    return (
        entry.input_tokens,
        entry.output_tokens,
        entry.cache_read_input_tokens,
        entry.cache_write_input_tokens,
    )


# -- Converse ---------------------------------------------------------------------------------


def test_converse_reply_usage_and_ledger_agree(server: BedrockServer, runtime: Any) -> None:
    system = "You are terse."
    response = runtime.converse(modelId=CLAUDE, system=[{"text": system}], messages=user())

    assert response["output"]["message"]["content"][0]["text"] == expected_reply()
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["inputTokens"] == words(system) + words(QUESTION) + INPUT_TOKEN_OVERHEAD
    assert usage["outputTokens"] == words(expected_reply())
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert "cacheReadInputTokens" not in usage
    assert response["metrics"]["latencyMs"] >= 0
    assert ledger_tokens(server, CLAUDE, "Converse") == (usage["inputTokens"], usage["outputTokens"], 0, 0)
    assert server.ledger.entry(CLAUDE, "Converse").calls == 1


def test_converse_max_tokens_cuts_the_reply(runtime: Any) -> None:
    response = runtime.converse(modelId=CLAUDE, messages=user(), inferenceConfig={"maxTokens": 3})
    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] == 3
    assert response["output"]["message"]["content"][0]["text"] == "Hello! This is"


def test_converse_cache_point_writes_then_reads(server: BedrockServer, runtime: Any) -> None:
    prefix = "A long shared system prompt worth caching."
    system = [{"text": prefix}, {"cachePoint": {"type": "default"}}]
    cached = words(prefix)

    first = runtime.converse(modelId=NOVA, system=system, messages=user())["usage"]
    second = runtime.converse(modelId=NOVA, system=system, messages=user())["usage"]

    assert (first["cacheWriteInputTokens"], first["cacheReadInputTokens"]) == (cached, 0)
    assert (second["cacheWriteInputTokens"], second["cacheReadInputTokens"]) == (0, cached)
    assert first["inputTokens"] == words(QUESTION) + INPUT_TOKEN_OVERHEAD
    assert first["totalTokens"] == first["inputTokens"] + first["outputTokens"] + cached
    assert ledger_tokens(server, NOVA, "Converse") == (
        first["inputTokens"] + second["inputTokens"],
        first["outputTokens"] + second["outputTokens"],
        cached,
        cached,
    )


def test_converse_stream_events_match_converse(server: BedrockServer, runtime: Any) -> None:
    response = runtime.converse_stream(modelId=CLAUDE, messages=user())
    with contextlib.closing(response["stream"]) as stream:
        events = list(stream)

    kinds = [next(iter(event)) for event in events]
    assert kinds[0] == "messageStart"
    assert kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    deltas = [event["contentBlockDelta"]["delta"]["text"] for event in events if "contentBlockDelta" in event]
    assert len(deltas) > 2
    assert "".join(deltas) == expected_reply()
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    usage = events[-1]["metadata"]["usage"]
    assert usage["inputTokens"] == words(QUESTION) + INPUT_TOKEN_OVERHEAD
    assert usage["outputTokens"] == words(expected_reply())
    assert events[-1]["metadata"]["metrics"]["latencyMs"] >= 0
    assert ledger_tokens(server, CLAUDE, "ConverseStream") == (
        usage["inputTokens"],
        usage["outputTokens"],
        0,
        0,
    )


@pytest.mark.parametrize(
    "model_id",
    [
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "eu.anthropic.claude-3-5-haiku-20241022-v1:0",
        "apac.amazon.nova-lite-v1:0",
        "global.anthropic.claude-sonnet-4-20250514-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
    ],
)
def test_inference_profiles_and_arns_are_accepted(server: BedrockServer, runtime: Any, model_id: str) -> None:
    response = runtime.converse(modelId=model_id, messages=user())
    assert response["output"]["message"]["content"][0]["text"] == expected_reply()
    assert server.ledger.entry(model_id, "Converse").calls == 1


WEATHER_TOOL = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }
}


def test_converse_tool_call_round_trip(server: BedrockServer, runtime: Any) -> None:
    question = "use get_weather for Paris"
    tool_config = {"tools": [WEATHER_TOOL]}
    first = runtime.converse(modelId=CLAUDE, messages=user(question), toolConfig=tool_config)

    assert first["stopReason"] == "tool_use"
    text_block, tool_block = first["output"]["message"]["content"]
    tool_use = tool_block["toolUse"]
    assert (tool_use["name"], tool_use["input"]) == ("get_weather", {"city": question})
    assert tool_use["toolUseId"].startswith("tooluse_")
    assert first["usage"]["outputTokens"] == words(text_block["text"]) + words(
        json.dumps(tool_use["input"], separators=(",", ":"))
    )

    result = {"toolResult": {"toolUseId": tool_use["toolUseId"], "content": [{"text": "sunny 21C"}]}}
    messages = [*user(question), first["output"]["message"], {"role": "user", "content": [result]}]
    second = runtime.converse(modelId=CLAUDE, messages=messages, toolConfig=tool_config)
    assert second["stopReason"] == "end_turn"
    assert second["output"]["message"]["content"][0]["text"] == expected_reply("sunny 21C")
    entry = server.ledger.entry(CLAUDE, "Converse")
    assert entry.output_tokens == first["usage"]["outputTokens"] + second["usage"]["outputTokens"]


def test_converse_stream_tool_call(runtime: Any) -> None:
    response = runtime.converse_stream(
        modelId=NOVA, messages=user("get_weather in Rome"), toolConfig={"tools": [WEATHER_TOOL]}
    )
    with contextlib.closing(response["stream"]) as stream:
        events = list(stream)
    start = next(event["contentBlockStart"] for event in events if "contentBlockStart" in event)
    assert start["start"]["toolUse"]["name"] == "get_weather"
    tool_input = "".join(
        event["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for event in events
        if "toolUse" in event.get("contentBlockDelta", {}).get("delta", {})
    )
    assert json.loads(tool_input) == {"city": "get_weather in Rome"}
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


def test_anthropic_invoke_model_tool_use(runtime: Any) -> None:
    tool = {
        "name": "get_weather",
        "input_schema": {"type": "object", "properties": {"days": {"type": "integer"}}},
    }
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "tools": [tool],
        "messages": [{"role": "user", "content": "call get_weather please"}],
    }
    response = runtime.invoke_model(modelId=CLAUDE, body=json.dumps(body))
    with contextlib.closing(response["body"]) as stream:
        document = json.loads(stream.read())
    assert document["stop_reason"] == "tool_use"
    tool_use = document["content"][1]
    assert (tool_use["type"], tool_use["name"], tool_use["input"]) == ("tool_use", "get_weather", {"days": 1})
    assert tool_use["id"].startswith("toolu_bdrk_")

    response = runtime.invoke_model_with_response_stream(modelId=CLAUDE, body=json.dumps(body))
    with contextlib.closing(response["body"]) as stream:
        chunks = [json.loads(event["chunk"]["bytes"]) for event in stream]
    partial = "".join(
        c["delta"]["partial_json"] for c in chunks if c.get("delta", {}).get("type") == "input_json_delta"
    )
    assert json.loads(partial) == {"days": 1}
    assert chunks[-2]["delta"]["stop_reason"] == "tool_use"


# -- InvokeModel per family -------------------------------------------------------------------


def _first(value: Any, *path: Any) -> Any:
    for key in path:
        value = value[key]
    return value


LLAMA_PROMPT = (
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
    f"{QUESTION}<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
)

# model id, request body, words of input text (raw prompt strings count their markup too),
# the (text, input, output) reader of the body and the stream delta reader.
# Cohere and Mistral report no token counts in their bodies.
FAMILIES: dict[str, tuple[str, dict[str, Any], int, Callable[[Any], Any], Callable[[Any], Any]]] = {
    "anthropic": (
        CLAUDE,
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
        },
        4,
        lambda b: (b["content"][0]["text"], b["usage"]["input_tokens"], b["usage"]["output_tokens"]),
        lambda c: c["delta"]["text"] if c["type"] == "content_block_delta" else "",
    ),
    "nova": (
        NOVA,
        {
            "schemaVersion": "messages-v1",
            "messages": user(QUESTION),
            "inferenceConfig": {"max_new_tokens": 99},
        },
        4,
        lambda b: (
            _first(b, "output", "message", "content", 0, "text"),
            b["usage"]["inputTokens"],
            b["usage"]["outputTokens"],
        ),
        lambda c: c["contentBlockDelta"]["delta"]["text"] if "contentBlockDelta" in c else "",
    ),
    "titan": (
        "amazon.titan-text-express-v1",
        {"inputText": f"User: {QUESTION}\nBot:", "textGenerationConfig": {"maxTokenCount": 99}},
        6,
        lambda b: (b["results"][0]["outputText"], b["inputTextTokenCount"], b["results"][0]["tokenCount"]),
        lambda c: c["outputText"],
    ),
    "llama": (
        "us.meta.llama3-1-8b-instruct-v1:0",
        {"prompt": LLAMA_PROMPT, "max_gen_len": 99},
        words(LLAMA_PROMPT),
        lambda b: (b["generation"], b["prompt_token_count"], b["generation_token_count"]),
        lambda c: c["generation"],
    ),
    "cohere": (
        "cohere.command-r-v1:0",
        {"message": QUESTION, "max_tokens": 99},
        4,
        lambda b: (b["text"], None, None),
        lambda c: c.get("text", "") if c["event_type"] == "text-generation" else "",
    ),
    "mistral": (
        "mistral.mistral-7b-instruct-v0:2",
        {"prompt": f"<s>[INST] {QUESTION} [/INST]", "max_tokens": 99},
        words(QUESTION) + 2,
        lambda b: (b["outputs"][0]["text"], None, None),
        lambda c: c["outputs"][0]["text"],
    ),
    "mistral-chat": (
        "mistral.mistral-large-2407-v1:0",
        {"messages": [{"role": "user", "content": QUESTION}], "max_tokens": 99},
        4,
        lambda b: (b["choices"][0]["message"]["content"], None, None),
        lambda c: c["choices"][0]["message"]["content"],
    ),
    "jamba": (
        "ai21.jamba-1-5-mini-v1:0",
        {"messages": [{"role": "user", "content": QUESTION}], "max_tokens": 99},
        4,
        lambda b: (
            b["choices"][0]["message"]["content"],
            b["usage"]["prompt_tokens"],
            b["usage"]["completion_tokens"],
        ),
        lambda c: c["choices"][0]["delta"].get("content", ""),
    ),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_invoke_model_bodies_and_headers(server: BedrockServer, runtime: Any, family: str) -> None:
    model_id, body, input_words, read_body, _ = FAMILIES[family]
    response = runtime.invoke_model(modelId=model_id, body=json.dumps(body))
    with contextlib.closing(response["body"]) as stream:
        document = json.loads(stream.read())
    headers = response["ResponseMetadata"]["HTTPHeaders"]

    text, input_tokens, output_tokens = read_body(document)
    assert text == expected_reply()
    assert response["contentType"] == "application/json"
    expected_input = input_words + INPUT_TOKEN_OVERHEAD
    assert int(headers["x-amzn-bedrock-input-token-count"]) == expected_input
    assert int(headers["x-amzn-bedrock-output-token-count"]) == words(text)
    assert int(headers["x-amzn-bedrock-invocation-latency"]) >= 0
    if input_tokens is not None:
        assert (input_tokens, output_tokens) == (expected_input, words(text))
    assert ledger_tokens(server, model_id, "InvokeModel") == (expected_input, words(text), 0, 0)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_invoke_model_stream_chunks_and_metrics(server: BedrockServer, runtime: Any, family: str) -> None:
    model_id, body, input_words, _, read_delta = FAMILIES[family]
    response = runtime.invoke_model_with_response_stream(modelId=model_id, body=json.dumps(body))
    with contextlib.closing(response["body"]) as stream:
        chunks = [json.loads(event["chunk"]["bytes"]) for event in stream]

    assert response["contentType"] == "application/json"
    assert len(chunks) > 2
    assert "".join(read_delta(chunk) for chunk in chunks) == expected_reply()
    assert all("amazon-bedrock-invocationMetrics" not in chunk for chunk in chunks[:-1])
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    expected = (input_words + INPUT_TOKEN_OVERHEAD, words(expected_reply()))
    assert (metrics["inputTokenCount"], metrics["outputTokenCount"]) == expected
    assert metrics["invocationLatency"] >= metrics["firstByteLatency"] >= 0
    assert ledger_tokens(server, model_id, "InvokeModelWithResponseStream") == (*expected, 0, 0)


def test_anthropic_stream_reports_usage_like_claude(runtime: Any) -> None:
    body = FAMILIES["anthropic"][1]
    response = runtime.invoke_model_with_response_stream(modelId=CLAUDE, body=json.dumps(body))
    with contextlib.closing(response["body"]) as stream:
        chunks = [json.loads(event["chunk"]["bytes"]) for event in stream]
    types = [chunk["type"] for chunk in chunks]
    assert types[:2] == ["message_start", "content_block_start"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert chunks[0]["message"]["usage"]["input_tokens"] == 4 + INPUT_TOKEN_OVERHEAD
    assert chunks[-2]["usage"]["output_tokens"] == words(expected_reply())
    assert chunks[-2]["delta"]["stop_reason"] == "end_turn"


def test_anthropic_cache_control_and_cache_headers(server: BedrockServer, runtime: Any) -> None:
    system_text = "Cached instructions for every request."
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 5,
        "system": [{"type": "text", "text": system_text, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": QUESTION}],
    }
    seen = []
    for _ in range(2):
        response = runtime.invoke_model(modelId=CLAUDE, body=json.dumps(body))
        with contextlib.closing(response["body"]) as stream:
            document = json.loads(stream.read())
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        usage = document["usage"]
        assert document["stop_reason"] == "max_tokens"
        assert int(headers["x-amzn-bedrock-cache-write-input-token-count"]) == usage["cache_creation_input_tokens"]
        assert int(headers["x-amzn-bedrock-cache-read-input-token-count"]) == usage["cache_read_input_tokens"]
        seen.append((usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"]))
    assert seen == [(words(system_text), 0), (0, words(system_text))]
    cached = words(system_text)
    assert ledger_tokens(server, CLAUDE, "InvokeModel")[2:] == (cached, cached)


# -- errors -----------------------------------------------------------------------------------


def test_modeled_errors_for_bad_requests(runtime: Any) -> None:
    with pytest.raises(runtime.exceptions.ValidationException, match="model identifier is invalid"):
        runtime.converse(modelId="does-not-exist", messages=user())
    with pytest.raises(runtime.exceptions.ValidationException, match="Malformed input request"):
        runtime.invoke_model(modelId=CLAUDE, body=b"{not json")
    with pytest.raises(runtime.exceptions.ValidationException):
        runtime.invoke_model(modelId=CLAUDE, body=json.dumps({"prompt": "no messages"}))
    with pytest.raises(runtime.exceptions.ValidationException):
        runtime.invoke_model(modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "x"}))
    with pytest.raises(runtime.exceptions.ResourceNotFoundException):
        runtime.converse(modelId="anthropic.claude-notfound-v1:0", messages=user())


def test_every_response_has_a_fresh_request_id(runtime: Any) -> None:
    ids = {runtime.converse(modelId=CLAUDE, messages=user())["ResponseMetadata"]["RequestId"] for _ in range(3)}
    assert len(ids) == 3
    assert all(uuid.UUID(request_id) for request_id in ids)


# -- guardrails and agents --------------------------------------------------------------------


def test_apply_guardrail_verdicts(runtime: Any) -> None:
    def apply(text: str) -> Any:
        return runtime.apply_guardrail(
            guardrailIdentifier="gr123",
            guardrailVersion="1",
            source="INPUT",
            content=[{"text": {"text": text}}],
        )

    passed = apply("hello there")
    assert (passed["action"], passed["outputs"], passed["assessments"]) == ("NONE", [], [])
    assert passed["usage"]["contentPolicyUnits"] == 1
    masked = apply("mail me at jane@example.com")
    assert masked["action"] == "GUARDRAIL_INTERVENED"
    assert masked["outputs"] == [{"text": "mail me at {EMAIL}"}]
    pii = masked["assessments"][0]["sensitiveInformationPolicy"]["piiEntities"][0]
    assert (pii["type"], pii["action"]) == ("EMAIL", "ANONYMIZED")
    blocked = apply("this is forbidden")
    assert blocked["assessments"][0]["wordPolicy"]["customWords"][0]["action"] == "BLOCKED"


def _invoke_agent(agents: Any, text: str, **kwargs: Any) -> tuple[Any, list[dict[str, Any]]]:
    response = agents.invoke_agent(
        agentId="AGENT12345", agentAliasId="ALIAS12345", sessionId="session-1", inputText=text, **kwargs
    )
    with contextlib.closing(response["completion"]) as stream:
        return response, list(stream)


def test_invoke_agent_trace_usage_matches_ledger(server: BedrockServer, agents: Any) -> None:
    response, events = _invoke_agent(agents, "what is our refund policy", enableTrace=True)

    assert response["contentType"] == "application/json"
    assert response["sessionId"] == "session-1"
    parts = [event["trace"]["trace"]["orchestrationTrace"] for event in events if "trace" in event]
    kinds = [next(iter(part)) for part in parts]
    assert kinds.count("modelInvocationInput") == kinds.count("modelInvocationOutput") == 2
    lookup = next(part["invocationInput"] for part in parts if "invocationInput" in part)
    assert lookup["invocationType"] == "KNOWLEDGE_BASE"
    assert lookup["knowledgeBaseLookupInput"]["text"] == "what is our refund policy"
    observations = [part["observation"] for part in parts if "observation" in part]
    assert observations[0]["knowledgeBaseLookupOutput"]["retrievedReferences"]
    usages = [part["modelInvocationOutput"]["metadata"]["usage"] for part in parts if "modelInvocationOutput" in part]
    chunk = events[-1]["chunk"]
    assert chunk["bytes"].decode() == expected_reply("what is our refund policy")
    assert chunk["attribution"]["citations"][0]["retrievedReferences"]
    key = "agent/AGENT12345/ALIAS12345"
    assert ledger_tokens(server, key, "InvokeAgent") == (
        sum(usage["inputTokens"] for usage in usages),
        sum(usage["outputTokens"] for usage in usages),
        0,
        0,
    )


def test_invoke_agent_action_group_and_streamed_answer(server: BedrockServer, agents: Any) -> None:
    text = "please book a table for two"
    _, events = _invoke_agent(agents, text, enableTrace=True, streamingConfigurations={"streamFinalResponse": True})
    parts = [event["trace"]["trace"]["orchestrationTrace"] for event in events if "trace" in event]
    action = next(part["invocationInput"] for part in parts if "invocationInput" in part)
    assert action["invocationType"] == "ACTION_GROUP"
    assert action["actionGroupInvocationInput"]["parameters"][0]["value"] == text
    chunks = [event["chunk"]["bytes"].decode() for event in events if "chunk" in event]
    assert len(chunks) > 1
    assert "".join(chunks) == expected_reply(text)


def test_invoke_agent_without_trace_reports_no_tokens(server: BedrockServer, agents: Any) -> None:
    _, events = _invoke_agent(agents, "hello agent")
    assert [next(iter(event)) for event in events] == ["chunk"]
    assert ledger_tokens(server, "agent/AGENT12345/ALIAS12345", "InvokeAgent") == (0, 0, 0, 0)


def test_retrieve_and_retrieve_and_generate(server: BedrockServer, agents: Any) -> None:
    results = agents.retrieve(
        knowledgeBaseId="KB12345678",
        retrievalQuery={"text": "refund policy"},
        retrievalConfiguration={"vectorSearchConfiguration": {"numberOfResults": 4}},
    )["retrievalResults"]
    assert len(results) == 4
    assert [result["score"] for result in results] == sorted((r["score"] for r in results), reverse=True)
    assert results[0]["location"]["s3Location"]["uri"].startswith("s3://")

    model_arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    config = {
        "type": "KNOWLEDGE_BASE",
        "knowledgeBaseConfiguration": {"knowledgeBaseId": "KB12345678", "modelArn": model_arn},
    }
    generated = agents.retrieve_and_generate(input={"text": "refund policy"}, retrieveAndGenerateConfiguration=config)
    assert generated["output"]["text"] == expected_reply("refund policy")
    assert generated["citations"][0]["retrievedReferences"]
    again = agents.retrieve_and_generate(
        input={"text": "and exchanges?"},
        retrieveAndGenerateConfiguration=config,
        sessionId=generated["sessionId"],
    )
    assert again["sessionId"] == generated["sessionId"]
    assert server.ledger.entry(model_arn, "RetrieveAndGenerate").calls == 2
    assert server.ledger.entry("knowledge-base/KB12345678", "Retrieve").calls == 1


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        ("throttle", "ThrottlingException", 429),
        ("server_error", "InternalServerException", 500),
        ("unavailable", "ServiceUnavailableException", 503),
        ("timeout", "ModelTimeoutException", 408),
    ],
)
def test_error_faults_raise_modeled_exceptions(
    server: BedrockServer, runtime: Any, fault: str, code: str, status: int
) -> None:
    server.inject(fault)
    with pytest.raises(getattr(runtime.exceptions, code)) as raised:
        runtime.converse(modelId=CLAUDE, messages=user())
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert runtime.converse(modelId=CLAUDE, messages=user())["stopReason"] == "end_turn"
    entry = server.ledger.entry(CLAUDE, "Converse")
    assert (entry.calls, dict(entry.errors), entry.output_tokens) == (2, {code: 1}, words(expected_reply()))


def test_faults_match_operation_model_and_count(server: BedrockServer, runtime: Any) -> None:
    server.inject("throttle", count=2, operation="Converse", model=NOVA)
    runtime.converse(modelId=CLAUDE, messages=user())  # other model: untouched
    for _ in range(2):
        with pytest.raises(runtime.exceptions.ThrottlingException):
            runtime.converse(modelId=NOVA, messages=user())
    assert runtime.converse(modelId=NOVA, messages=user())["stopReason"] == "end_turn"
    assert server.faults.pending() == []


def test_malformed_fault_breaks_the_body(server: BedrockServer, runtime: Any) -> None:
    server.inject("malformed", operation="InvokeModel")
    response = runtime.invoke_model(modelId=CLAUDE, body=json.dumps(FAMILIES["anthropic"][1]))
    with contextlib.closing(response["body"]) as stream:
        raw = stream.read()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    assert "x-amzn-bedrock-input-token-count" not in response["ResponseMetadata"]["HTTPHeaders"]
    server.inject("malformed")
    assert "output" not in runtime.converse(modelId=CLAUDE, messages=user())
    entry = server.ledger.entry(CLAUDE, "InvokeModel")
    assert (entry.calls, entry.input_tokens, dict(entry.errors)) == (1, 0, {"malformed": 1})


def test_body_cut_fault_announces_the_whole_body_and_closes_halfway(server: BedrockServer, runtime: Any) -> None:
    server.inject("body_cut", operation="InvokeModel")
    response = runtime.invoke_model(modelId=CLAUDE, body=json.dumps(FAMILIES["anthropic"][1]))
    announced = int(response["ResponseMetadata"]["HTTPHeaders"]["content-length"])
    with pytest.raises(botocore.exceptions.ResponseStreamingError, match="IncompleteRead"):
        response["body"].read()
    assert announced > 0
    assert runtime.invoke_model(modelId=CLAUDE, body=json.dumps(FAMILIES["anthropic"][1]))["body"].read()
    entry = server.ledger.entry(CLAUDE, "InvokeModel")
    assert (entry.calls, dict(entry.errors)) == (2, {"body_cut": 1})


def _drain(stream: Any, seen: list[Any]) -> None:
    with contextlib.closing(stream):
        for event in stream:
            seen.append(event)


def test_stream_cut_raises_while_iterating(server: BedrockServer, runtime: Any) -> None:
    server.inject("stream_cut", after_events=2)
    seen: list[Any] = []
    with pytest.raises((urllib3.exceptions.ProtocolError, botocore.exceptions.BotoCoreError)):
        _drain(runtime.converse_stream(modelId=CLAUDE, messages=user())["stream"], seen)
    assert len(seen) == 2
    entry = server.ledger.entry(CLAUDE, "ConverseStream")
    assert (entry.input_tokens, dict(entry.errors)) == (0, {"stream_cut": 1})
    seen.clear()
    _drain(runtime.converse_stream(modelId=CLAUDE, messages=user())["stream"], seen)
    assert "metadata" in seen[-1]


@pytest.mark.parametrize("exception", ["throttlingException", "modelStreamErrorException", "internalServerException"])
def test_stream_exception_is_an_event_stream_error(server: BedrockServer, runtime: Any, exception: str) -> None:
    server.inject("stream_exception", after_events=3, exception=exception, message="boom")
    seen: list[Any] = []
    body = json.dumps(FAMILIES["nova"][1])
    response = runtime.invoke_model_with_response_stream(modelId=NOVA, body=body)
    with pytest.raises(botocore.exceptions.EventStreamError) as raised:
        _drain(response["body"], seen)
    assert raised.value.response["Error"] == {"Code": exception, "Message": "boom"}
    assert len(seen) == 3
    assert dict(server.ledger.entry(NOVA, "InvokeModelWithResponseStream").errors) == {exception: 1}


def test_stream_exception_in_converse_stream(server: BedrockServer, runtime: Any) -> None:
    server.inject("stream_exception", operation="ConverseStream", after_events=1)
    with pytest.raises(botocore.exceptions.EventStreamError, match="throttlingException"):
        _drain(runtime.converse_stream(modelId=CLAUDE, messages=user())["stream"], [])


def test_bad_crc_raises_checksum_mismatch(server: BedrockServer, runtime: Any) -> None:
    server.inject("bad_crc", after_events=2)
    seen: list[Any] = []
    with pytest.raises(botocore.eventstream.ChecksumMismatch):
        _drain(runtime.converse_stream(modelId=CLAUDE, messages=user())["stream"], seen)
    assert len(seen) == 2
    assert dict(server.ledger.entry(CLAUDE, "ConverseStream").errors) == {"bad_crc": 1}
    assert runtime.converse(modelId=CLAUDE, messages=user())["stopReason"] == "end_turn"


def test_slow_fault_delays_first_byte_and_chunks(server: BedrockServer, runtime: Any) -> None:
    server.inject("slow", delay_s=0.2, chunk_delay_s=0.02)
    started = time.perf_counter()
    response = runtime.converse_stream(modelId=CLAUDE, messages=user())
    assert time.perf_counter() - started >= 0.2
    seen: list[Any] = []
    _drain(response["stream"], seen)
    assert time.perf_counter() - started >= 0.2 + 0.02 * (len(seen) - 1)
    assert seen[-1]["metadata"]["metrics"]["latencyMs"] >= 200


def test_stream_pace_spaces_every_streamed_answer(runtime: Any) -> None:
    with BedrockServer(stream_pace_s=0.03) as paced:
        client = boto3.client("bedrock-runtime", endpoint_url=paced.endpoint_url, config=NO_RETRIES, **CREDENTIALS)
        seen: list[Any] = []
        started = time.perf_counter()
        _drain(client.converse_stream(modelId=CLAUDE, messages=user())["stream"], seen)
        paced_s = time.perf_counter() - started
        client.close()
    started = time.perf_counter()
    _drain(runtime.converse_stream(modelId=CLAUDE, messages=user())["stream"], [])
    unpaced_s = time.perf_counter() - started
    assert len(seen) > 5
    assert paced_s >= 0.03 * (len(seen) - 1)
    assert unpaced_s < paced_s


@pytest.mark.parametrize("pace", [-0.1, 2.5])
def test_stream_pace_out_of_bounds_is_refused(pace: float) -> None:
    with pytest.raises(ValueError, match="stream_pace_s must be between 0 and 2"):
        BedrockServer(stream_pace_s=pace)


def test_inject_rejects_bad_faults(server: BedrockServer) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        server.inject("explode")
    with pytest.raises(ValueError, match="unknown parameters"):
        server.inject("throttle", after_events=1)
    with pytest.raises(ValueError, match="delay_s"):
        server.inject("slow", delay_s=60)
    with pytest.raises(ValueError, match="unknown operation"):
        server.inject("throttle", operation="Nope")
    assert server.faults.pending() == []


# -- inference profiles (the bedrock control plane) --------------------------------------------


@pytest.fixture(scope="module")
def control_plane(server: BedrockServer) -> Iterator[Any]:
    yield from _client(server, "bedrock")


def test_an_application_profile_is_answered_and_runs_its_model(
    server: BedrockServer, runtime: Any, control_plane: Any
) -> None:
    arn = server.create_inference_profile("chatbot-prod", "us.anthropic.claude-3-5-haiku-20241022-v1:0")
    answer = control_plane.get_inference_profile(inferenceProfileIdentifier=arn)
    assert (answer["inferenceProfileArn"], answer["type"], answer["status"]) == (arn, "APPLICATION", "ACTIVE")
    assert answer["inferenceProfileName"] == "chatbot-prod"
    assert [m["modelArn"] for m in answer["models"]] == [
        f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"
        for region in ("us-east-1", "us-east-2", "us-west-2")
    ]
    by_id = control_plane.get_inference_profile(inferenceProfileIdentifier=answer["inferenceProfileId"])
    assert by_id["inferenceProfileArn"] == arn
    response = runtime.converse(modelId=arn, messages=user())
    assert response["output"]["message"]["content"][0]["text"] == expected_reply()
    assert server.ledger.entry(arn, "Converse").calls == 1  # the ledger keys the call by the ARN sent
    assert (server.profiles.lookups(arn), server.profiles.lookups()) == (1, 2)


def test_a_system_profile_and_an_unknown_one(server: BedrockServer, runtime: Any, control_plane: Any) -> None:
    system = control_plane.get_inference_profile(inferenceProfileIdentifier="eu.amazon.nova-lite-v1:0")
    assert system["type"] == "SYSTEM_DEFINED"
    assert system["inferenceProfileId"] == "eu.amazon.nova-lite-v1:0"
    assert len(system["models"]) == 3
    unknown = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/nosuchprofile"
    with pytest.raises(control_plane.exceptions.ResourceNotFoundException):
        control_plane.get_inference_profile(inferenceProfileIdentifier=unknown)
    with pytest.raises(runtime.exceptions.ResourceNotFoundException):
        runtime.converse(modelId=unknown, messages=user())
    assert server.profiles.lookups(unknown) == 1


@pytest.mark.parametrize(
    ("fault", "code"),
    [("access_denied", "AccessDeniedException"), ("throttle", "ThrottlingException"), ("not_found", None)],
)
def test_lookup_faults_are_aimed_by_operation_and_identifier(
    server: BedrockServer, runtime: Any, control_plane: Any, fault: str, code: str | None
) -> None:
    arn = server.create_inference_profile("tenant-a", CLAUDE)
    server.inject(fault, operation="GetInferenceProfile", model=arn)
    runtime.converse(modelId=arn, messages=user())  # runtime calls of the ARN are not aimed at
    error = getattr(control_plane.exceptions, code or "ResourceNotFoundException")
    with pytest.raises(error):
        control_plane.get_inference_profile(inferenceProfileIdentifier=arn)
    assert control_plane.get_inference_profile(inferenceProfileIdentifier=arn)["inferenceProfileArn"] == arn
    assert server.profiles.lookups(arn) == 2  # the faulted lookup is counted too


def test_inference_profile_control_endpoints(server: BedrockServer, runtime: Any) -> None:
    status, made = _control(server, "POST", "inference-profiles", {"name": "team-b", "model": NOVA})
    assert status == 200
    arn = made["inferenceProfileArn"]
    assert runtime.converse(modelId=arn, messages=user())["stopReason"] == "end_turn"
    status, listed = _control(server, "GET", "inference-profiles")
    assert status == 200
    assert listed == {
        "profiles": [{"inferenceProfileArn": arn, "name": "team-b", "model": NOVA, "regions": ["us-east-1"]}],
        "lookups": {},
    }
    assert _control(server, "POST", "inference-profiles", {"name": "bad name!", "model": NOVA})[0] == 400
    assert _control(server, "POST", "inference-profiles", {"name": "x", "model": "gpt-4o"})[0] == 400
    assert _control(server, "POST", "inference-profiles", [1])[0] == 400
    server.reset()
    assert server.profiles.snapshot() == {"profiles": [], "lookups": {}}


# -- control endpoints, HTTP details, concurrency ---------------------------------------------


def _control(server: BedrockServer, method: str, name: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.endpoint_url}/__control/{name}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_control_endpoints(server: BedrockServer, runtime: Any) -> None:
    assert _control(server, "GET", "health") == (200, {"status": "ok"})
    status, queued = _control(server, "POST", "faults", {"fault": "throttle", "count": 1, "model": CLAUDE})
    assert status == 200
    assert queued["queued"]["fault"] == "throttle"
    with pytest.raises(runtime.exceptions.ThrottlingException):
        runtime.converse(modelId=CLAUDE, messages=user())
    usage = runtime.converse(modelId=CLAUDE, messages=user())["usage"]

    status, ledger = _control(server, "GET", "ledger")
    assert status == 200
    assert ledger == server.ledger.snapshot()
    converse = ledger["models"][CLAUDE]["Converse"]
    assert converse["calls"] == 2
    assert converse["errors"] == {"ThrottlingException": 1}
    assert (converse["input_tokens"], converse["output_tokens"]) == (
        usage["inputTokens"],
        usage["outputTokens"],
    )
    assert ledger["totals"]["output_tokens"] == usage["outputTokens"]

    assert _control(server, "POST", "faults", {"fault": "explode"})[0] == 400
    assert _control(server, "POST", "reset") == (200, {"status": "reset"})
    assert _control(server, "GET", "ledger")[1] == {"totals": server.ledger.totals().to_json(), "models": {}}
    assert _control(server, "GET", "nope")[0] == 404


def test_keep_alive_and_unknown_operation(server: BedrockServer) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        for _ in range(2):
            body = json.dumps({"messages": user()})
            connection.request("POST", f"/model/{CLAUDE}/converse", body=body)
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Connection") == "keep-alive"
            assert json.loads(response.read())["stopReason"] == "end_turn"
        connection.request("POST", "/no/such/operation", body=b"{}")
        response = connection.getresponse()
        assert response.status == 404
        assert response.getheader("x-amzn-ErrorType", "").startswith("UnknownOperationException")
        response.read()
    finally:
        connection.close()


def test_concurrent_clients_are_counted_exactly(server: BedrockServer, runtime: Any) -> None:
    outputs: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        for _ in range(5):
            usage = runtime.converse(modelId=CLAUDE, messages=user(f"question {index}"))["usage"]
            with lock:
                outputs.append(usage["outputTokens"])

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entry = server.ledger.entry(CLAUDE, "Converse")
    assert (entry.calls, entry.output_tokens) == (20, sum(outputs))


# -- aiobotocore ----------------------------------------------------------------------------


def test_aiobotocore_converse_and_stream(server: BedrockServer) -> None:
    from aiobotocore.session import get_session

    async def run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        session = get_session()
        async with session.create_client(
            "bedrock-runtime", endpoint_url=server.endpoint_url, config=NO_RETRIES, **CREDENTIALS
        ) as client:
            reply = await client.converse(modelId=CLAUDE, messages=user())
            response = await client.converse_stream(modelId=CLAUDE, messages=user())
            events = [event async for event in response["stream"]]
            return reply, events

    reply, events = asyncio.run(run())
    assert reply["output"]["message"]["content"][0]["text"] == expected_reply()
    streamed = "".join(event["contentBlockDelta"]["delta"]["text"] for event in events if "contentBlockDelta" in event)
    assert streamed == expected_reply()
    assert events[-1]["metadata"]["usage"] == reply["usage"]
    entry = server.ledger.entry(CLAUDE, "ConverseStream")
    assert entry.output_tokens == reply["usage"]["outputTokens"]


# -- CLI --------------------------------------------------------------------------------------


def test_cli_serves_and_exits_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "otel_chatbot.testing.bedrock", "--host", "127.0.0.1", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.removeprefix("listening on ")
        with urllib.request.urlopen(f"{url}/__control/health", timeout=5) as response:
            assert json.loads(response.read()) == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def test_cli_refuses_a_stream_pace_out_of_bounds() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "otel_chatbot.testing.bedrock", "--port", "0", "--stream-pace", "5"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "stream_pace_s must be between 0 and 2 seconds" in done.stderr


def test_base64_chunk_payloads_are_plain_json(runtime: Any) -> None:
    """Guard against double encoding: botocore already decodes the ``bytes`` blob."""
    response = runtime.invoke_model_with_response_stream(modelId=NOVA, body=json.dumps(FAMILIES["nova"][1]))
    with contextlib.closing(response["body"]) as stream:
        first = next(iter(stream))["chunk"]["bytes"]
        rest = list(stream)
    assert json.loads(first) == {"messageStart": {"role": "assistant"}}
    assert rest
    with pytest.raises(ValueError):
        base64.b64decode(first, validate=True)
