"""The OpenAI stand-in against the real ``openai`` SDK (and plain httpx) over loopback.

Every check goes through the SDK's own parsers and exception mapping, because the point of
the stand-in is that unmodified clients cannot tell it from OpenAI (or Azure OpenAI); the
ledger must equal, exactly, the usage those clients received.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from otel_chatbot.testing.openai import OpenAIServer
from otel_chatbot.testing.standin.generation import INPUT_TOKEN_OVERHEAD, REPLY_PREFIX

pytestmark = pytest.mark.e2e

MODEL = "gpt-4o-mini"
SNAPSHOT = "gpt-4o-mini-2024-07-18"
QUESTION = "tell me about otel"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def words(text: str) -> int:
    return len(text.split())


def user(text: str = QUESTION) -> list[Any]:
    return [{"role": "user", "content": text}]


EXPECTED_REPLY = f"{REPLY_PREFIX} {QUESTION}"
EXPECTED_INPUT = words(QUESTION) + INPUT_TOKEN_OVERHEAD
EXPECTED_OUTPUT = words(EXPECTED_REPLY)


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(server: OpenAIServer) -> None:
    server.reset()


@pytest.fixture(scope="module")
def client(server: OpenAIServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(**server.client_kwargs(), max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def azure(server: OpenAIServer) -> Iterator[openai.AzureOpenAI]:
    with openai.AzureOpenAI(**server.azure_kwargs(), max_retries=0) as sdk:
        yield sdk


# -- Chat Completions ---------------------------------------------------------------------


def test_chat_completion(server: OpenAIServer, client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=user())
    completion = raw.parse()
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.headers["x-ratelimit-remaining-requests"] == "9999"
    assert completion.model == SNAPSHOT
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == EXPECTED_REPLY
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (EXPECTED_INPUT, EXPECTED_OUTPUT)
    assert usage.total_tokens == EXPECTED_INPUT + EXPECTED_OUTPUT
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details is not None and usage.completion_tokens_details.reasoning_tokens == 0
    entry = server.ledger.entry(MODEL, "chat.completions")
    assert (entry.calls, entry.input_tokens, entry.output_tokens) == (1, EXPECTED_INPUT, EXPECTED_OUTPUT)


def test_max_tokens_cut_the_reply_with_finish_reason_length(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=user(), max_completion_tokens=3)
    assert completion.choices[0].message.content == "Hello! This is"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 3


def test_async_chat_completion(server: OpenAIServer) -> None:
    async def ask() -> Any:
        async with openai.AsyncOpenAI(**server.client_kwargs(), max_retries=0) as sdk:
            return await asyncio.gather(*(sdk.chat.completions.create(model=MODEL, messages=user()) for _ in range(3)))

    completions = asyncio.run(ask())
    assert [c.choices[0].message.content for c in completions] == [EXPECTED_REPLY] * 3
    assert server.ledger.entry(MODEL, "chat.completions").output_tokens == 3 * EXPECTED_OUTPUT


def test_async_streams_openai_and_azure(server: OpenAIServer) -> None:
    async def stream(sdk: openai.AsyncOpenAI, model: str) -> list[Any]:
        async with sdk:
            chunks = await sdk.chat.completions.create(
                model=model, messages=user(), stream=True, stream_options={"include_usage": True}
            )
            return [chunk async for chunk in chunks]

    async def both() -> list[list[Any]]:
        plain = openai.AsyncOpenAI(**server.client_kwargs(), max_retries=0)
        azure = openai.AsyncAzureOpenAI(**server.azure_kwargs(), max_retries=0)
        return await asyncio.gather(stream(plain, MODEL), stream(azure, "chat-prod"))

    for chunks in asyncio.run(both()):
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == EXPECTED_REPLY
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == EXPECTED_OUTPUT
    assert server.ledger.totals().output_tokens == 2 * EXPECTED_OUTPUT


def test_a_stream_without_include_usage_reports_no_usage(server: OpenAIServer, client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=MODEL, messages=user(), stream=True))
    assert all(chunk.usage is None and len(chunk.choices) == 1 for chunk in chunks)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == EXPECTED_REPLY
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [chunk.choices[0].finish_reason for chunk in chunks][-2:] == [None, "stop"]
    entry = server.ledger.entry(MODEL, "chat.completions")
    assert (entry.calls, entry.input_tokens, entry.output_tokens) == (1, 0, 0)


def test_a_stream_with_include_usage_ends_with_a_usage_chunk(server: OpenAIServer, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL, messages=user(), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    *content, last = chunks
    assert last.choices == [] and last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (EXPECTED_INPUT, EXPECTED_OUTPUT)
    assert all(chunk.usage is None for chunk in content)
    assert {chunk.id for chunk in chunks} == {chunks[0].id}
    entry = server.ledger.entry(MODEL, "chat.completions")
    assert (entry.input_tokens, entry.output_tokens) == (EXPECTED_INPUT, EXPECTED_OUTPUT)


def test_the_raw_stream_is_sse_with_done_and_obfuscation(server: OpenAIServer) -> None:
    body = {"model": MODEL, "messages": user(), "stream": True, "stream_options": {"include_usage": True}}
    headers = {"Authorization": "Bearer k"}
    with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body, headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line[len("data: ") :]) for line in lines[:-1]]
    assert all("obfuscation" in event and "usage" in event for event in events)
    assert events[-1]["choices"] == [] and events[-1]["usage"]["prompt_tokens"] == EXPECTED_INPUT


def test_stream_options_without_stream_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=user(), stream_options={"include_usage": True})
    assert raised.value.param == "stream_options"


def test_tool_calls_when_the_prompt_names_an_offered_tool(server: OpenAIServer, client: openai.OpenAI) -> None:
    messages: list[Any] = user("what does get_weather say for Paris")
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "what does get_weather say for Paris"}
    assert call.id.startswith("call_")
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny and mild"},
    ]
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == f"{REPLY_PREFIX} sunny and mild"


def test_tool_choice_forces_or_forbids_a_call(client: openai.OpenAI) -> None:
    plain = user("hello")
    forced = client.chat.completions.create(model=MODEL, messages=plain, tools=[WEATHER_TOOL], tool_choice="required")
    assert forced.choices[0].finish_reason == "tool_calls"
    named = {"type": "function", "function": {"name": "get_weather"}}
    assert (
        client.chat.completions.create(model=MODEL, messages=plain, tools=[WEATHER_TOOL], tool_choice=named)
        .choices[0]
        .message.tool_calls
    )
    asked = user("use get_weather please")
    none = client.chat.completions.create(model=MODEL, messages=asked, tools=[WEATHER_TOOL], tool_choice="none")
    assert none.choices[0].finish_reason == "stop"


def test_streamed_tool_calls_assemble_in_the_sdk_helper(server: OpenAIServer, client: openai.OpenAI) -> None:
    messages = user("get_weather in Lisbon")
    with client.chat.completions.stream(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL], stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == {"city": "get_weather in Lisbon"}
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None
    assert server.ledger.entry(MODEL, "chat.completions").output_tokens == final.usage.completion_tokens


def test_a_long_shared_prefix_is_cached_automatically(server: OpenAIServer, client: openai.OpenAI) -> None:
    system = {"role": "system", "content": "rule " * 1100}
    replies = [client.chat.completions.create(model=MODEL, messages=[system, *user(text)]) for text in ("a", "b c")]
    details = [reply.usage.prompt_tokens_details.cached_tokens for reply in replies]
    assert details == [0, 1024]  # 1100 tokens of prefix: cached in whole steps of 128
    assert replies[1].usage is not None and replies[1].usage.prompt_tokens == 1100 + 2 + INPUT_TOKEN_OVERHEAD
    entry = server.ledger.entry(MODEL, "chat.completions")
    assert (entry.cache_read_input_tokens, entry.cache_write_input_tokens) == (1024, 0)


# -- Responses, Embeddings, models --------------------------------------------------------


def test_responses_create(server: OpenAIServer, client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input=QUESTION, instructions="be brief")
    assert response.status == "completed" and response.model == SNAPSHOT
    assert response.output_text == EXPECTED_REPLY
    assert response.instructions == "be brief"
    usage = response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens) == (EXPECTED_INPUT + 2, EXPECTED_OUTPUT)
    assert usage.input_tokens_details.cached_tokens == 0
    entry = server.ledger.entry(MODEL, "responses")
    assert (entry.input_tokens, entry.output_tokens) == (usage.input_tokens, usage.output_tokens)


def test_responses_stream_events_in_order(server: OpenAIServer, client: openai.OpenAI) -> None:
    events = list(client.responses.create(model=MODEL, input=QUESTION, stream=True))
    kinds = [event.type for event in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert "".join(deltas) == EXPECTED_REPLY
    completed = events[-1]
    assert completed.type == "response.completed" and completed.response.usage is not None
    assert events[0].type == "response.created" and events[0].response.usage is None
    assert server.ledger.entry(MODEL, "responses").output_tokens == completed.response.usage.output_tokens


def test_responses_stream_helper_with_a_function_call_and_max_output_tokens(client: openai.OpenAI) -> None:
    tool = {"type": "function", "name": "get_weather", "parameters": WEATHER_TOOL["function"]["parameters"]}
    with client.responses.stream(model=MODEL, input="get_weather for Oslo", tools=[tool]) as stream:
        final = stream.get_final_response()
    (item,) = final.output
    assert item.type == "function_call" and json.loads(item.arguments) == {"city": "get_weather for Oslo"}
    cut = client.responses.create(model=MODEL, input=QUESTION, max_output_tokens=2, stream=True)
    last = list(cut)[-1]
    assert last.type == "response.incomplete"
    assert last.response.incomplete_details is not None
    assert last.response.incomplete_details.reason == "max_output_tokens"


def test_embeddings_base64_by_default_and_float_on_request(server: OpenAIServer, client: openai.OpenAI) -> None:
    default = client.embeddings.create(model="text-embedding-3-small", input=["hello world", "three more words"])
    assert [len(item.embedding) for item in default.data] == [1536, 1536]
    assert default.usage.prompt_tokens == 5
    floats = client.embeddings.create(
        model="text-embedding-3-small", input="hello world", dimensions=8, encoding_format="float"
    )
    assert len(floats.data[0].embedding) == 8
    again = client.embeddings.create(model="text-embedding-3-small", input="hello world", dimensions=8)
    assert again.data[0].embedding == pytest.approx(floats.data[0].embedding)
    assert sum(value * value for value in again.data[0].embedding) == pytest.approx(1.0, rel=1e-5)
    assert server.ledger.entry("text-embedding-3-small", "embeddings").input_tokens == 5 + 2 + 2


def test_models_are_listed_and_not_counted(server: OpenAIServer, client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert MODEL in ids and SNAPSHOT in ids
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-notfound")
    assert server.ledger.totals().calls == 0


def test_a_missing_key_is_a_401_and_an_unknown_model_a_404(server: OpenAIServer, client: openai.OpenAI) -> None:
    response = httpx.post(f"{server.base_url}/chat/completions", json={"model": MODEL, "messages": user()})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-notfound", messages=user())
    assert raised.value.code == "model_not_found"
    assert dict(server.ledger.entry(MODEL, "chat.completions").errors) == {"401": 1}


# -- Azure OpenAI ---------------------------------------------------------------------------


def test_azure_deployment_chat(server: OpenAIServer, azure: openai.AzureOpenAI) -> None:
    raw = azure.chat.completions.with_raw_response.create(model="chat-prod", messages=user())
    completion = raw.parse()
    assert raw.http_request.url.path == "/openai/deployments/chat-prod/chat/completions"
    assert raw.http_request.url.params["api-version"] == "2024-10-21"
    assert raw.http_request.headers["api-key"] == "testing"
    assert "apim-request-id" in raw.headers
    assert completion.choices[0].message.content == EXPECTED_REPLY
    assert server.ledger.entry("chat-prod", "chat.completions").output_tokens == EXPECTED_OUTPUT


def test_azure_stream_starts_with_a_chunk_without_choices(server: OpenAIServer, azure: openai.AzureOpenAI) -> None:
    stream = azure.chat.completions.create(
        model="chat-prod", messages=user(), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    first, *middle, last = chunks
    assert first.choices == [] and first.usage is None  # prompt_filter_results only: not the usage chunk
    assert last.choices == [] and last.usage is not None
    assert "".join(chunk.choices[0].delta.content or "" for chunk in middle) == EXPECTED_REPLY
    assert server.ledger.entry("chat-prod", "chat.completions").input_tokens == last.usage.prompt_tokens


def test_azure_embeddings_responses_and_the_v1_paths(server: OpenAIServer, azure: openai.AzureOpenAI) -> None:
    assert azure.embeddings.create(model="embed-prod", input="a b c").usage.prompt_tokens == 3
    assert azure.responses.create(model="chat-prod", input=QUESTION).output_text == EXPECTED_REPLY
    with openai.OpenAI(base_url=f"{server.url}/openai/v1/", api_key="k", max_retries=0) as v1:
        assert v1.chat.completions.create(model="gpt-4o", messages=user()).model == "gpt-4o-2024-08-06"
    assert server.ledger.entry("embed-prod", "embeddings").calls == 1
    assert server.ledger.entry("chat-prod", "responses").calls == 1
    assert server.ledger.entry("gpt-4o", "chat.completions").calls == 1


def test_azure_without_api_version_or_key(server: OpenAIServer) -> None:
    url = f"{server.url}/openai/deployments/chat-prod/chat/completions"
    missing_version = httpx.post(url, json={"messages": user()}, headers={"api-key": "k"})
    assert (missing_version.status_code, missing_version.json()["error"]["code"]) == (404, "404")
    missing_key = httpx.post(url, params={"api-version": "2024-10-21"}, json={"messages": user()})
    assert missing_key.status_code == 401


# -- faults ---------------------------------------------------------------------------------


def test_rate_limit_raises_rate_limit_error_with_retry_after(server: OpenAIServer, client: openai.OpenAI) -> None:
    server.inject("rate_limit", retry_after_s=2)
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model=MODEL, messages=user())
    assert raised.value.code == "rate_limit_exceeded"
    headers = raised.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"], headers["x-ratelimit-remaining-requests"]) == (
        "2",
        "2000",
        "0",
    )
    assert dict(server.ledger.entry(MODEL, "chat.completions").errors) == {"429": 1}


def test_the_sdk_retries_after_retry_after_and_the_ledger_counts_each_try(server: OpenAIServer) -> None:
    server.inject("rate_limit", count=2, retry_after_s=0.05)
    with openai.OpenAI(**server.client_kwargs(), max_retries=2) as retrying:
        raw = retrying.chat.completions.with_raw_response.create(model=MODEL, messages=user())
    assert raw.retries_taken == 2
    entry = server.ledger.entry(MODEL, "chat.completions")
    assert (entry.calls, dict(entry.errors), entry.output_tokens) == (3, {"429": 2}, EXPECTED_OUTPUT)


@pytest.mark.parametrize(("fault", "status"), [("server_error", 500), ("overloaded", 503)])
def test_server_faults_raise_internal_server_error(
    server: OpenAIServer, client: openai.OpenAI, fault: str, status: int
) -> None:
    server.inject(fault)
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model=MODEL, messages=user())
    assert raised.value.status_code == status
    assert client.chat.completions.create(model=MODEL, messages=user()).choices[0].message.content == EXPECTED_REPLY


def test_faults_match_model_and_path(server: OpenAIServer, client: openai.OpenAI) -> None:
    server.inject("server_error", count=2, model="gpt-4o", path="/v1/responses")
    client.chat.completions.create(model="gpt-4o", messages=user())  # another path
    client.responses.create(model=MODEL, input=QUESTION)  # another model
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            client.responses.create(model="gpt-4o", input=QUESTION)
    client.responses.create(model="gpt-4o", input=QUESTION)
    assert server.faults.pending() == []


def test_malformed_body_breaks_the_json(server: OpenAIServer, client: openai.OpenAI) -> None:
    server.inject("malformed")
    with pytest.raises(json.JSONDecodeError):
        client.chat.completions.create(model=MODEL, messages=user())
    entry = server.ledger.entry(MODEL, "chat.completions")
    assert (entry.input_tokens, dict(entry.errors)) == (0, {"malformed": 1})


def test_a_cut_stream_is_a_connection_error(server: OpenAIServer, client: openai.OpenAI) -> None:
    server.inject("stream_cut", after_events=3)
    seen: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(
            model=MODEL, messages=user(), stream=True, stream_options={"include_usage": True}
        ):
            seen.append(chunk)
    assert len(seen) == 3
    entry = server.ledger.entry(MODEL, "chat.completions")
    assert (entry.input_tokens, dict(entry.errors)) == (0, {"stream_cut": 1})


def test_an_in_stream_error_raises_api_error(server: OpenAIServer, client: openai.OpenAI) -> None:
    server.inject("stream_error", after_events=2, message="boom")
    with pytest.raises(openai.APIError, match="boom"):
        list(client.chat.completions.create(model=MODEL, messages=user(), stream=True))
    server.inject("stream_error", after_events=3)
    events = list(client.responses.create(model=MODEL, input=QUESTION, stream=True))
    assert [event.type for event in events][-1] == "error"
    assert events[-1].sequence_number == 3
    assert dict(server.ledger.entry(MODEL, "chat.completions").errors) == {"server_error": 1}
    assert dict(server.ledger.entry(MODEL, "responses").errors) == {"server_error": 1}


def test_slow_delays_the_first_token_not_the_headers(server: OpenAIServer, client: openai.OpenAI) -> None:
    server.inject("slow", delay_s=0.3, chunk_delay_s=0.01)
    started = time.perf_counter()
    stream = client.chat.completions.create(model=MODEL, messages=user(), stream=True)
    headers_after = time.perf_counter() - started
    chunks = iter(stream)
    next(chunks)
    first_token_after = time.perf_counter() - started
    rest = list(chunks)
    assert headers_after < 0.25 <= 0.3 <= first_token_after
    assert time.perf_counter() - started >= 0.3 + 0.01 * len(rest)
    server.inject("slow", delay_s=0.2)
    started = time.perf_counter()
    client.chat.completions.create(model=MODEL, messages=user())
    assert time.perf_counter() - started >= 0.2


def test_an_abandoned_stream_counts_no_usage_and_the_server_keeps_serving(
    server: OpenAIServer, client: openai.OpenAI
) -> None:
    server.inject("slow", delay_s=0, chunk_delay_s=0.05)
    stream = client.chat.completions.create(
        model=MODEL, messages=user(), stream=True, stream_options={"include_usage": True}
    )
    next(iter(stream))
    stream.close()  # the usage chunk is 8 events away: its write meets a closed connection
    time.sleep(0.5)
    assert client.chat.completions.create(model=MODEL, messages=user()).choices[0].message.content == EXPECTED_REPLY
    entry = server.ledger.entry(MODEL, "chat.completions")
    assert (entry.calls, entry.output_tokens, dict(entry.errors)) == (2, EXPECTED_OUTPUT, {})


def test_faults_and_ledger_over_the_control_api(server: OpenAIServer, client: openai.OpenAI) -> None:
    fault = {"fault": "rate_limit", "model": MODEL, "retry_after_s": 1}
    queued = httpx.post(f"{server.url}/__control/faults", json=fault)
    assert queued.status_code == 200 and queued.json()["queued"]["path"] is None
    assert httpx.post(f"{server.url}/__control/faults", json={"fault": "explode"}).status_code == 400
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model=MODEL, messages=user())
    client.chat.completions.create(model=MODEL, messages=user())
    ledger = httpx.get(f"{server.url}/__control/ledger").json()
    assert ledger == server.ledger.snapshot()
    assert ledger["models"][MODEL]["chat.completions"]["errors"] == {"429": 1}
    assert httpx.post(f"{server.url}/__control/reset").json() == {"status": "reset"}
    assert server.ledger.totals().calls == 0


def test_inject_rejects_bad_faults(server: OpenAIServer) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        server.inject("throttle")
    with pytest.raises(ValueError, match="unknown parameters"):
        server.inject("rate_limit", after_events=1)
    with pytest.raises(ValueError, match="delay_s"):
        server.inject("slow", delay_s=60)
    with pytest.raises(ValueError, match="model must be a string"):
        server.inject("rate_limit", model=3)
    assert server.faults.pending() == []
