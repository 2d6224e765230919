"""Every provider end to end: the real openai and anthropic SDKs and plain httpx / aiohttp against the stand-ins.

Each call is one span, both the HTTP CLIENT span and the GenAI span; the GenAI metric sums
equal the stand-ins' ledgers exactly; faults (429 with retry-after, 5xx, a malformed body,
a cut stream, an in-stream error, a slow first token) each show; and the app gets the same
answers and the same exceptions as without the distro (each scenario also runs
uninstrumented, and the two runs are compared).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import anthropic
import httpx
import openai
import pytest

from otel_chatbot.testing.anthropic import AnthropicServer
from otel_chatbot.testing.ollama import OllamaServer
from otel_chatbot.testing.openai import OpenAIServer

pytestmark = pytest.mark.e2e

GPT = "gpt-4o-mini"
GPT_SNAPSHOT = "gpt-4o-mini-2024-07-18"
CLAUDE = "claude-sonnet-4-5"
LLAMA = "llama3.2"
QUESTION = [{"role": "user", "content": "tell me about otel please"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CLAUDE_WEATHER = {
    "name": "get_weather",
    "description": "Current weather of a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture(scope="module")
def openai_stand_in() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
def anthropic_stand_in() -> Iterator[AnthropicServer]:
    with AnthropicServer() as server:
        yield server


@pytest.fixture(scope="module")
def ollama_stand_in() -> Iterator[OllamaServer]:
    with OllamaServer() as server:
        yield server


@pytest.fixture
def servers(
    openai_stand_in: OpenAIServer, anthropic_stand_in: AnthropicServer, ollama_stand_in: OllamaServer
) -> tuple[OpenAIServer, AnthropicServer, OllamaServer]:
    for server in (openai_stand_in, anthropic_stand_in, ollama_stand_in):
        server.reset()
    return openai_stand_in, anthropic_stand_in, ollama_stand_in


@pytest.fixture
def kit(kit_factory: Any, servers: tuple[OpenAIServer, AnthropicServer, OllamaServer]) -> Any:
    """Instrumented as the distro does it, content captured, the Ollama stand-in declared by its base URL."""
    kit = kit_factory(capture_message_content=True, genai_endpoints={servers[2].url: "ollama"})
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    return kit


def sums(kit: Any, metric: str, provider: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for point in kit.points(metric):
        if point.attributes["gen_ai.provider.name"] == provider:
            key = str(point.attributes.get("gen_ai.token.type", ""))
            found[key] = found.get(key, 0) + (point.sum if hasattr(point, "sum") else point.value)
    return found


def genai_spans(kit: Any) -> list[Any]:
    return [s for s in kit.finished() if "gen_ai.operation.name" in (s.attributes or {})]


_VOLATILE = frozenset({"id", "created", "created_at", "obfuscation", "system_fingerprint", "request_id", "_request_id"})


def normalized(value: Any) -> Any:
    """An answer without the fields every call makes anew (ids, timestamps, padding)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list | tuple):
        return [normalized(v) for v in value]
    if isinstance(value, bytes):
        return normalized([json.loads(line) for line in value.splitlines() if line.strip() and line[:1] in b"{["])
    return value


def outcome(scenario: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "answer", normalized(scenario())
    except Exception as exc:  # the app's own view of a failure: its type, status and message
        message = re.sub(r"req_[0-9A-Za-z]+", "req_", str(exc))
        return "raised", (type(exc).__name__, getattr(exc, "status_code", None), message)


def same_with_and_without(kit_factory: Any, servers: Any, scenario: Callable[[], Any]) -> tuple[Any, tuple[str, Any]]:
    """Run ``scenario`` uninstrumented, then instrumented; assert the app saw the same; return the kit."""
    bare = outcome(scenario)
    for server in servers:
        server.reset()
    kit = kit_factory(capture_message_content=True, genai_endpoints={servers[2].url: "ollama"})
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    seen = outcome(scenario)
    assert seen == bare
    return kit, seen


# -- OpenAI SDK ----------------------------------------------------------------------------------


def test_openai_sdk_sync_async_and_streams_match_the_ledger(kit: Any, servers: Any) -> None:
    stand_in = servers[0]
    with openai.OpenAI(**stand_in.client_kwargs(), max_retries=0) as client:
        client.chat.completions.create(model=GPT, messages=QUESTION, max_completion_tokens=50, temperature=0.3)
        chunks = client.chat.completions.create(
            model=GPT, messages=QUESTION, stream=True, stream_options={"include_usage": True}
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        client.responses.create(model=GPT, input="tell me about otel please")
        with client.responses.stream(model=GPT, input="and again please") as events:
            events.until_done()
        client.embeddings.create(model="text-embedding-3-small", input=["one two three", "four"])

    async def run_async() -> None:
        async with openai.AsyncOpenAI(**stand_in.client_kwargs(), max_retries=0) as sdk:
            await sdk.chat.completions.create(model=GPT, messages=QUESTION)
            stream = await sdk.chat.completions.create(
                model=GPT, messages=QUESTION, stream=True, stream_options={"include_usage": True}
            )
            async for _ in stream:
                pass

    asyncio.run(run_async())
    spans = genai_spans(kit)
    assert len(spans) == len(kit.finished()) == 7, "one span per call: the HTTP span is the GenAI span"
    assert sorted(s.name for s in spans) == sorted([f"chat {GPT}"] * 6 + ["embeddings text-embedding-3-small"])
    first = next(s for s in spans if s.attributes.get("gen_ai.request.max_tokens") == 50)
    assert first.attributes["gen_ai.request.temperature"] == 0.3
    assert first.attributes["gen_ai.response.model"] == GPT_SNAPSHOT
    assert first.attributes["http.response.status_code"] == 200
    assert first.attributes["server.address"] == "127.0.0.1"
    assert first.attributes["gen_ai.usage.cost"] > 0
    streamed = [s for s in spans if s.attributes.get("gen_ai.request.stream")]
    assert len(streamed) == 3 and all("gen_ai.response.time_to_first_chunk" in s.attributes for s in streamed)
    ledger = stand_in.ledger.totals()
    assert sums(kit, "gen_ai.client.token.usage", "openai") == {
        "input": ledger.input_tokens,
        "output": ledger.output_tokens,
    }
    assert sum(p.count for p in kit.points("gen_ai.client.operation.duration")) == 7


def test_azure_openai_by_deployment(kit: Any, servers: Any) -> None:
    with openai.AzureOpenAI(**servers[0].azure_kwargs(), max_retries=0) as client:
        client.chat.completions.create(model="chat-prod", messages=QUESTION)
    (span,) = genai_spans(kit)
    assert span.name == "chat chat-prod"
    assert span.attributes["gen_ai.provider.name"] == "azure.ai.openai"
    assert span.attributes["gen_ai.usage.input_tokens"] == servers[0].ledger.totals().input_tokens


def test_tool_calls_streamed_and_not_give_the_conventions_finish_reason(kit: Any, servers: Any) -> None:
    ask = [{"role": "user", "content": "what is the weather in Paris? use get_weather"}]
    with openai.OpenAI(**servers[0].client_kwargs(), max_retries=0) as client:
        whole = client.chat.completions.create(model=GPT, messages=ask, tools=[WEATHER])
        streamed = client.chat.completions.create(model=GPT, messages=ask, tools=[WEATHER], stream=True)
        pieces = list(streamed)
    call = whole.choices[0].message.tool_calls[0]  # type: ignore[index]
    for span in genai_spans(kit):
        assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
        (message,) = json.loads(span.attributes["gen_ai.output.messages"])
        assert message["finish_reason"] == "tool_call"
        (part,) = [p for p in message["parts"] if p["type"] == "tool_call"]
        assert part["name"] == "get_weather" and part["arguments"] == json.loads(call.function.arguments)  # type: ignore[union-attr]
        assert part["id"].startswith("call_")
    assert len(pieces) > 3  # the arguments came in pieces and were assembled


def test_a_stream_without_usage_has_no_tokens(kit: Any, servers: Any, caplog: pytest.LogCaptureFixture) -> None:
    with openai.OpenAI(**servers[0].client_kwargs(), max_retries=0) as client, caplog.at_level("WARNING"):
        for _ in range(2):
            list(client.chat.completions.create(model=GPT, messages=QUESTION, stream=True))
    assert all("gen_ai.usage.input_tokens" not in s.attributes for s in genai_spans(kit))
    assert servers[0].ledger.totals().input_tokens == 0 and kit.points("gen_ai.client.token.usage") == []
    assert sum("include_usage" in r.getMessage() for r in caplog.records) == 1


# -- faults, each with and without the distro -----------------------------------------------------


def _openai(servers: Any, **kwargs: Any) -> Callable[[], Any]:
    def scenario() -> Any:
        with openai.OpenAI(**servers[0].client_kwargs(), max_retries=0) as client:
            answer = client.chat.completions.create(model=GPT, messages=QUESTION, **kwargs)
            return list(answer) if kwargs.get("stream") else answer

    return scenario


@pytest.mark.parametrize(
    ("fault", "params", "stream", "error_type"),
    [
        ("rate_limit", {"retry_after_s": 2}, False, "429"),
        ("server_error", {}, False, "500"),
        ("malformed", {}, False, "malformed_response"),
        ("stream_cut", {"after_events": 3}, True, "RemoteProtocolError"),
        ("stream_error", {"after_events": 2}, True, "server_error"),
    ],
)
def test_openai_faults(
    kit_factory: Any, servers: Any, fault: str, params: dict[str, Any], stream: bool, error_type: str
) -> None:
    def scenario() -> Any:
        servers[0].inject(fault, model=GPT, **params)
        return _openai(servers, stream=stream)() if stream else _openai(servers)()

    kit, (kind, _) = same_with_and_without(kit_factory, servers, scenario)
    assert kind == "raised"
    (span,) = kit.finished()
    assert span.name == f"chat {GPT}"
    assert span.attributes["error.type"] == error_type
    assert span.status.status_code.name == "ERROR"
    (duration,) = kit.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == error_type
    throttles = kit.points("gen_ai.client.throttles")
    assert [p.value for p in throttles] == ([1] if fault == "rate_limit" else [])
    if fault == "rate_limit":
        assert span.attributes["http.response.header.retry-after"] == ("2",)


def test_a_slow_first_token_is_the_time_to_first_chunk(kit: Any, servers: Any) -> None:
    servers[0].inject("slow", model=GPT, delay_s=0.3)
    _openai(servers, stream=True, stream_options={"include_usage": True})()
    (span,) = genai_spans(kit)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0.3
    (ttfc,) = kit.points("gen_ai.client.operation.time_to_first_chunk")
    assert ttfc.count == 1 and ttfc.sum >= 0.3


def test_cut_and_abandoned_streams_still_export_their_span_once(kit: Any, servers: Any) -> None:
    servers[0].inject("stream_cut", model=GPT, after_events=2)
    with openai.OpenAI(**servers[0].client_kwargs(), max_retries=0) as client:
        with pytest.raises(openai.APIConnectionError):
            list(client.chat.completions.create(model=GPT, messages=QUESTION, stream=True))
        stream = client.chat.completions.create(model=GPT, messages=QUESTION, stream=True)
        next(iter(stream))
        stream.close()  # the app stops early
    cut, abandoned = kit.finished()
    assert (cut.attributes["error.type"], abandoned.attributes["error.type"]) == ("RemoteProtocolError", "cancelled")
    assert sum(p.count for p in kit.points("gen_ai.client.operation.duration")) == 2


# -- Anthropic SDK ---------------------------------------------------------------------------------


def test_anthropic_sdk_calls_streams_tools_and_cache_match_the_ledger(kit: Any, servers: Any) -> None:
    stand_in = servers[1]
    system = [{"type": "text", "text": "You are a helpful bot. " * 50, "cache_control": {"type": "ephemeral"}}]
    with anthropic.Anthropic(**stand_in.client_kwargs(), max_retries=0) as client:
        for _ in range(2):  # a cache write, then a cache read
            client.messages.create(model=CLAUDE, max_tokens=64, system=system, messages=QUESTION)
        with client.messages.stream(
            model=CLAUDE,
            max_tokens=128,
            tools=[CLAUDE_WEATHER],
            messages=[{"role": "user", "content": "what is the weather in Oslo? use get_weather"}],
        ) as stream:
            final = stream.get_final_message()

    async def run_async() -> None:
        async with anthropic.AsyncAnthropic(**stand_in.client_kwargs(), max_retries=0) as sdk:
            stream = await sdk.messages.create(model=CLAUDE, max_tokens=64, messages=QUESTION, stream=True)
            async for _ in stream:
                pass

    asyncio.run(run_async())
    spans = kit.finished()
    assert len(spans) == 4 and all(s.name == f"chat {CLAUDE}" for s in spans), "no anthropic.messages.create span"
    first, second, tool, _ = spans
    assert first.attributes["gen_ai.usage.cache_creation.input_tokens"] > 0
    assert second.attributes["gen_ai.usage.cache_read.input_tokens"] > 0
    assert tool.attributes["gen_ai.response.finish_reasons"] == ("tool_use",)
    (message,) = json.loads(tool.attributes["gen_ai.output.messages"])
    (call,) = [p for p in message["parts"] if p["type"] == "tool_call"]
    block = next(b for b in final.content if b.type == "tool_use")
    assert (call["id"], call["name"], call["arguments"]) == (block.id, block.name, block.input)  # type: ignore[union-attr]
    assert message["finish_reason"] == "tool_call"
    ledger = stand_in.ledger.totals()
    # The convention's input tokens include the cache; Anthropic's (the ledger's) do not.
    cached = ledger.cache_read_input_tokens + ledger.cache_write_input_tokens
    assert sums(kit, "gen_ai.client.token.usage", "anthropic") == {
        "input": ledger.input_tokens + cached,
        "output": ledger.output_tokens,
    }
    cost = sums(kit, "gen_ai.client.cost", "anthropic")
    assert set(cost) == {"input", "output", "cache_read", "cache_write"}


def test_anthropic_overloaded_is_a_throttle(kit_factory: Any, servers: Any) -> None:
    def scenario() -> Any:
        servers[1].inject("overloaded", model=CLAUDE)
        with anthropic.Anthropic(**servers[1].client_kwargs(), max_retries=0) as client:
            return client.messages.create(model=CLAUDE, max_tokens=64, messages=QUESTION)

    kit, (kind, (name, status, _)) = same_with_and_without(kit_factory, servers, scenario)
    assert (kind, name, status) == ("raised", "OverloadedError", 529)
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "529"
    assert [p.value for p in kit.points("gen_ai.client.throttles")] == [1]


def test_anthropic_in_stream_error(kit_factory: Any, servers: Any) -> None:
    def scenario() -> Any:
        servers[1].inject("stream_error", model=CLAUDE, after_events=3)
        with anthropic.Anthropic(**servers[1].client_kwargs(), max_retries=0) as client:
            return list(client.messages.create(model=CLAUDE, max_tokens=64, messages=QUESTION, stream=True))

    kit, (kind, _) = same_with_and_without(kit_factory, servers, scenario)
    assert kind == "raised"
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "overloaded_error"
    assert span.attributes["gen_ai.usage.input_tokens"] > 0  # message_start came before the error


# -- plain httpx and aiohttp -----------------------------------------------------------------------


def test_plain_httpx_and_aiohttp_to_ollama_and_openai(kit_factory: Any, servers: Any) -> None:
    openai_stand_in, _, ollama = servers

    def scenario() -> Any:
        answers: list[Any] = []
        with httpx.Client() as client:
            answers.append(client.post(f"{ollama.url}/api/chat", json={"model": LLAMA, "messages": QUESTION}).content)
            body = {"model": LLAMA, "prompt": "why is the sky blue", "stream": False}
            answers.append(client.post(f"{ollama.url}/api/generate", json=body).json())
            answers.append(
                client.post(
                    f"{ollama.openai_base_url}/chat/completions", json={"model": LLAMA, "messages": QUESTION}
                ).json()
            )

        async def with_aiohttp() -> list[Any]:
            headers = {"Authorization": "Bearer k"}
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{ollama.url}/api/chat", json={"model": LLAMA, "messages": QUESTION}) as r:
                    lines = [line async for line in r.content]
                url = f"{openai_stand_in.base_url}/chat/completions"
                body = {"model": GPT, "messages": QUESTION, "stream": True, "stream_options": {"include_usage": True}}
                async with session.post(url, json=body, headers=headers) as r:
                    events = await r.read()
            return [b"".join(lines), events.replace(b"data: ", b"")]

        return answers + asyncio.run(with_aiohttp())

    kit, _ = same_with_and_without(kit_factory, servers, scenario)
    spans = kit.finished()
    assert [(s.name, s.attributes["gen_ai.provider.name"]) for s in spans] == [
        (f"chat {LLAMA}", "ollama"),
        (f"text_completion {LLAMA}", "ollama"),
        (f"chat {LLAMA}", "ollama"),
        (f"chat {LLAMA}", "ollama"),
        (f"chat {GPT}", "openai"),
    ]
    ledger = ollama.ledger.totals()
    assert sums(kit, "gen_ai.client.token.usage", "ollama") == {
        "input": ledger.input_tokens,
        "output": ledger.output_tokens,
    }
    assert sums(kit, "gen_ai.client.token.usage", "openai")["output"] == openai_stand_in.ledger.totals().output_tokens
    assert spans[0].attributes["gen_ai.usage.cost"] == 0.0


def test_ollama_cut_stream_through_aiohttp(kit_factory: Any, servers: Any) -> None:
    ollama = servers[2]

    def scenario() -> Any:
        ollama.inject("stream_cut", model=LLAMA, after_events=2, path="/api/chat")

        async def run() -> Any:
            body = {"model": LLAMA, "messages": QUESTION}
            async with aiohttp.ClientSession() as session, session.post(f"{ollama.url}/api/chat", json=body) as r:
                return [line async for line in r.content]

        return asyncio.run(run())

    kit, (kind, (name, _, _)) = same_with_and_without(kit_factory, servers, scenario)
    assert (kind, name) == ("raised", "ClientPayloadError")
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "ClientPayloadError"
