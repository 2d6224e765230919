"""The Anthropic stand-in against the real ``anthropic`` SDK (and plain httpx) over loopback.

The SDK parses every body and event with its own models and maps every error to its own
exception classes; the ledger must equal, exactly, the usage those clients received.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from otel_chatbot.testing.anthropic import AnthropicServer
from otel_chatbot.testing.standin.generation import INPUT_TOKEN_OVERHEAD, REPLY_PREFIX

pytestmark = pytest.mark.e2e

MODEL = "claude-sonnet-4-5"
SNAPSHOT = "claude-sonnet-4-5-20250929"
QUESTION = "tell me about otel"
EXPECTED_REPLY = f"{REPLY_PREFIX} {QUESTION}"
EXPECTED_INPUT = len(QUESTION.split()) + INPUT_TOKEN_OVERHEAD
EXPECTED_OUTPUT = len(EXPECTED_REPLY.split())
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather of a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def user(text: str = QUESTION) -> list[Any]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def server() -> Iterator[AnthropicServer]:
    with AnthropicServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(server: AnthropicServer) -> None:
    server.reset()


@pytest.fixture(scope="module")
def client(server: AnthropicServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(**server.client_kwargs(), max_retries=0) as sdk:
        yield sdk


def test_message_create(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=100, messages=user())
    message = raw.parse()
    assert raw.http_request.headers["anthropic-version"]  # the SDK names its API version
    assert raw.headers["request-id"].startswith("req_011C")
    assert raw.headers["anthropic-ratelimit-requests-remaining"] == "3999"
    assert message.model == SNAPSHOT and message.id.startswith("msg_01")
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == EXPECTED_REPLY
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (EXPECTED_INPUT, EXPECTED_OUTPUT)
    assert (message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens) == (0, 0)
    entry = server.ledger.entry(MODEL, "messages")
    assert (entry.calls, entry.input_tokens, entry.output_tokens) == (1, EXPECTED_INPUT, EXPECTED_OUTPUT)


def test_max_tokens_stop_reason(client: anthropic.Anthropic) -> None:
    message = client.messages.create(model=MODEL, max_tokens=2, messages=user())
    assert (message.stop_reason, message.usage.output_tokens) == ("max_tokens", 2)


def test_async_messages(server: AnthropicServer) -> None:
    async def ask() -> Any:
        async with anthropic.AsyncAnthropic(**server.client_kwargs(), max_retries=0) as sdk:
            calls = (sdk.messages.create(model=MODEL, max_tokens=100, messages=user()) for _ in range(3))
            return await asyncio.gather(*calls)

    messages = asyncio.run(ask())
    assert [message.content[0].text for message in messages] == [EXPECTED_REPLY] * 3
    assert server.ledger.entry(MODEL, "messages").output_tokens == 3 * EXPECTED_OUTPUT


def test_raw_stream_events(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    events = list(client.messages.create(model=MODEL, max_tokens=100, messages=user(), stream=True))
    kinds = [event.type for event in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    start, delta = events[0], events[-2]
    assert start.type == "message_start" and start.message.usage.input_tokens == EXPECTED_INPUT
    assert delta.type == "message_delta" and delta.usage.output_tokens == EXPECTED_OUTPUT
    assert delta.delta.stop_reason == "end_turn"
    texts = [e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"]
    assert "".join(texts) == EXPECTED_REPLY
    entry = server.ledger.entry(MODEL, "messages")
    assert (entry.input_tokens, entry.output_tokens) == (EXPECTED_INPUT, EXPECTED_OUTPUT)


def test_the_wire_has_ping_and_named_events(server: AnthropicServer) -> None:
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    body = {"model": MODEL, "max_tokens": 50, "messages": user(), "stream": True}
    with httpx.stream("POST", f"{server.url}/v1/messages", json=body, headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        names = [line.removeprefix("event: ") for line in response.iter_lines() if line.startswith("event: ")]
    assert names[:3] == ["message_start", "content_block_start", "ping"]


def test_messages_stream_helper_with_tool_use_round_trip(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    messages: list[Any] = user("what does get_weather say for Paris")
    with client.messages.stream(model=MODEL, max_tokens=200, messages=messages, tools=[WEATHER_TOOL]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    tool_use = final.content[-1]
    assert tool_use.type == "tool_use" and tool_use.name == "get_weather"
    assert tool_use.input == {"city": "what does get_weather say for Paris"}
    assert tool_use.id.startswith("toolu_01")
    result = {"type": "tool_result", "tool_use_id": tool_use.id, "content": "sunny and mild"}
    messages += [{"role": "assistant", "content": final.content}, {"role": "user", "content": [result]}]
    answer = client.messages.create(model=MODEL, max_tokens=200, messages=messages, tools=[WEATHER_TOOL])
    assert answer.stop_reason == "end_turn"
    assert answer.content[0].text == f"{REPLY_PREFIX} sunny and mild"
    entry = server.ledger.entry(MODEL, "messages")
    assert entry.output_tokens == final.usage.output_tokens + answer.usage.output_tokens


def test_tool_choice(client: anthropic.Anthropic) -> None:
    forced = client.messages.create(
        model=MODEL, max_tokens=100, messages=user("hi"), tools=[WEATHER_TOOL], tool_choice={"type": "any"}
    )
    assert forced.stop_reason == "tool_use"
    off = client.messages.create(
        model=MODEL, max_tokens=100, messages=user("get_weather"), tools=[WEATHER_TOOL], tool_choice={"type": "none"}
    )
    assert off.stop_reason == "end_turn"


def test_cache_control_writes_then_reads(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    system: Any = [{"type": "text", "text": "policy " * 40, "cache_control": {"type": "ephemeral"}}]
    first = client.messages.create(model=MODEL, max_tokens=50, system=system, messages=user("a"))
    second = client.messages.create(model=MODEL, max_tokens=50, system=system, messages=user("b"))
    assert (first.usage.cache_creation_input_tokens, first.usage.cache_read_input_tokens) == (40, 0)
    assert (second.usage.cache_creation_input_tokens, second.usage.cache_read_input_tokens) == (0, 40)
    assert first.usage.input_tokens == 1 + INPUT_TOKEN_OVERHEAD
    entry = server.ledger.entry(MODEL, "messages")
    assert (entry.cache_write_input_tokens, entry.cache_read_input_tokens) == (40, 40)


def test_async_stream_text(server: AnthropicServer) -> None:
    async def stream() -> str:
        async with (
            anthropic.AsyncAnthropic(**server.client_kwargs(), max_retries=0) as sdk,
            sdk.messages.stream(model=MODEL, max_tokens=100, messages=user()) as events,
        ):
            return await events.get_final_text()

    assert asyncio.run(stream()) == EXPECTED_REPLY


def test_missing_headers_and_unknown_models(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    body = {"model": MODEL, "max_tokens": 10, "messages": user()}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    no_version = httpx.post(f"{server.url}/v1/messages", json=body, headers={"x-api-key": "k"})
    assert no_version.status_code == 400
    assert no_version.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }
    no_key = httpx.post(f"{server.url}/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"})
    assert (no_key.status_code, no_key.json()["error"]["type"]) == (401, "authentication_error")
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="claude-notfound", max_tokens=10, messages=user())
    no_max_tokens = httpx.post(f"{server.url}/v1/messages", json={"model": MODEL, "messages": user()}, headers=headers)
    assert (no_max_tokens.status_code, no_max_tokens.json()["error"]["message"]) == (400, "max_tokens: Field required")
    assert [model.id for model in client.models.list()][:1] == ["claude-opus-4-1-20250805"]


# -- faults ---------------------------------------------------------------------------------


def test_rate_limit(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    server.inject("rate_limit", retry_after_s=3)
    with pytest.raises(anthropic.RateLimitError) as raised:
        client.messages.create(model=MODEL, max_tokens=10, messages=user())
    assert raised.value.response.headers["retry-after"] == "3"
    assert raised.value.body["error"]["type"] == "rate_limit_error"
    assert dict(server.ledger.entry(MODEL, "messages").errors) == {"429": 1}


@pytest.mark.parametrize(
    ("fault", "status", "exception"),
    [("overloaded", 529, anthropic.OverloadedError), ("server_error", 500, anthropic.InternalServerError)],
)
def test_server_faults(
    server: AnthropicServer, client: anthropic.Anthropic, fault: str, status: int, exception: type[Exception]
) -> None:
    server.inject(fault)
    with pytest.raises(exception) as raised:
        client.messages.create(model=MODEL, max_tokens=10, messages=user())
    assert isinstance(raised.value, anthropic.APIStatusError) and raised.value.status_code == status
    assert dict(server.ledger.entry(MODEL, "messages").errors) == {str(status): 1}


def test_malformed_body(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    server.inject("malformed")
    with pytest.raises(ValueError):
        client.messages.create(model=MODEL, max_tokens=10, messages=user())
    entry = server.ledger.entry(MODEL, "messages")
    assert (entry.input_tokens, dict(entry.errors)) == (0, {"malformed": 1})


def test_a_cut_stream_has_counted_what_message_start_said(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    server.inject("stream_cut", after_events=4)
    seen: list[Any] = []
    with pytest.raises(anthropic.APIConnectionError):
        for event in client.messages.create(model=MODEL, max_tokens=100, messages=user(), stream=True):
            seen.append(event)
    assert len(seen) == 3  # message_start, content_block_start, (ping is not yielded), one delta
    entry = server.ledger.entry(MODEL, "messages")
    assert (entry.input_tokens, entry.output_tokens, dict(entry.errors)) == (EXPECTED_INPUT, 0, {"stream_cut": 1})


def test_an_error_event_raises_api_status_error(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    server.inject("stream_error", after_events=5)
    seen: list[Any] = []
    with (
        pytest.raises(anthropic.APIStatusError) as raised,
        client.messages.stream(model=MODEL, max_tokens=100, messages=user()) as stream,
    ):
        seen.extend(stream)
    assert raised.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert seen
    assert dict(server.ledger.entry(MODEL, "messages").errors) == {"overloaded_error": 1}


def test_slow_first_token(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    server.inject("slow", delay_s=0.3)
    started = time.perf_counter()
    stream = client.messages.create(model=MODEL, max_tokens=100, messages=user(), stream=True)
    headers_after = time.perf_counter() - started
    next(iter(stream))
    assert headers_after < 0.25 and time.perf_counter() - started >= 0.3
    stream.close()


def test_a_refused_request_leaves_the_fault_queued(server: AnthropicServer, client: anthropic.Anthropic) -> None:
    server.inject("overloaded")
    no_version = httpx.post(
        f"{server.url}/v1/messages",
        json={"model": MODEL, "max_tokens": 5, "messages": user()},
        headers={"x-api-key": "k"},
    )
    assert no_version.status_code == 400
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(model=MODEL, max_tokens=10, messages=user())
    assert dict(server.ledger.entry(MODEL, "messages").errors) == {"400": 1, "529": 1}
