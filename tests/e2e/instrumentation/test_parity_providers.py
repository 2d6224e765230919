"""Every provider client, whole and broken, shows the app the same with and without the distro.

The openai and anthropic SDKs (sync and async, plain and streamed) and plain httpx (sync and
async) and aiohttp against the OpenAI, Anthropic and Ollama stand-ins, each with each fault
the stand-ins offer: 429 / 5xx / 529, a malformed body, a body cut short, a stream cut, an
error event inside a stream. Each case is the app's own code (it calls, then reads or
iterates); :func:`~tests.app_view.seen` records every return value, stream item and exception
(module, class, message). The case runs uninstrumented, then instrumented as the distro wires
it; the two records must be equal, every span the call opened must have ended with the
outcome in ``error.type``, and nothing of ours may log.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import anthropic
import httpx
import openai
import pytest

from otel_chatbot.testing.anthropic import AnthropicServer
from otel_chatbot.testing.ollama import OllamaServer
from otel_chatbot.testing.openai import OpenAIServer
from tests.app_view import Seen, failure, seen, with_and_without

pytestmark = pytest.mark.e2e

GPT = "gpt-4o-mini"
CLAUDE = "claude-sonnet-4-5"
LLAMA = "llama3.2"
QUESTION = [{"role": "user", "content": "tell me about otel please"}]


@dataclass
class StandIns:
    openai: OpenAIServer
    anthropic: AnthropicServer
    ollama: OllamaServer

    def reset(self) -> None:
        for server in (self.openai, self.anthropic, self.ollama):
            server.reset()


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")


# -- the app's code ---------------------------------------------------------------------------------


def openai_chat(s: StandIns, app: Seen) -> Any:
    with openai.OpenAI(**s.openai.client_kwargs(), max_retries=0) as client:
        return client.chat.completions.create(model=GPT, messages=QUESTION, max_completion_tokens=40)  # type: ignore[arg-type]


def openai_chat_stream(s: StandIns, app: Seen) -> Any:
    with openai.OpenAI(**s.openai.client_kwargs(), max_retries=0) as client:
        stream = client.chat.completions.create(
            model=GPT,
            messages=QUESTION,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        app.each(stream)
    return "done"


def openai_responses(s: StandIns, app: Seen) -> Any:
    with openai.OpenAI(**s.openai.client_kwargs(), max_retries=0) as client:
        return client.responses.create(model=GPT, input="tell me about otel please")


def openai_responses_stream(s: StandIns, app: Seen) -> Any:
    with openai.OpenAI(**s.openai.client_kwargs(), max_retries=0) as client:
        app.each(client.responses.create(model=GPT, input="tell me about otel please", stream=True))
    return "done"


def openai_embeddings(s: StandIns, app: Seen) -> Any:
    with openai.OpenAI(**s.openai.client_kwargs(), max_retries=0) as client:
        return client.embeddings.create(model="text-embedding-3-small", input=["one", "two"])


def openai_async_chat_stream(s: StandIns, app: Seen) -> Any:
    async def go() -> Any:
        async with openai.AsyncOpenAI(**s.openai.client_kwargs(), max_retries=0) as client:
            stream = await client.chat.completions.create(model=GPT, messages=QUESTION, stream=True)  # type: ignore[arg-type]
            await app.each_async(stream)
        return "done"

    return asyncio.run(go())


def openai_async_chat(s: StandIns, app: Seen) -> Any:
    async def go() -> Any:
        async with openai.AsyncOpenAI(**s.openai.client_kwargs(), max_retries=0) as client:
            return await client.chat.completions.create(model=GPT, messages=QUESTION)  # type: ignore[arg-type]

    return asyncio.run(go())


def anthropic_messages(s: StandIns, app: Seen) -> Any:
    with anthropic.Anthropic(**s.anthropic.client_kwargs(), max_retries=0) as client:
        return client.messages.create(model=CLAUDE, max_tokens=64, messages=QUESTION)  # type: ignore[arg-type]


def anthropic_stream(s: StandIns, app: Seen) -> Any:
    with anthropic.Anthropic(**s.anthropic.client_kwargs(), max_retries=0) as client:
        app.each(client.messages.create(model=CLAUDE, max_tokens=64, messages=QUESTION, stream=True))  # type: ignore[arg-type]
    return "done"


def anthropic_stream_helper(s: StandIns, app: Seen) -> Any:
    with (
        anthropic.Anthropic(**s.anthropic.client_kwargs(), max_retries=0) as client,
        client.messages.stream(model=CLAUDE, max_tokens=64, messages=QUESTION) as stream,  # type: ignore[arg-type]
    ):
        app.each(stream.text_stream)
        return stream.get_final_message()


def anthropic_async_stream(s: StandIns, app: Seen) -> Any:
    async def go() -> Any:
        async with anthropic.AsyncAnthropic(**s.anthropic.client_kwargs(), max_retries=0) as client:
            stream = await client.messages.create(model=CLAUDE, max_tokens=64, messages=QUESTION, stream=True)  # type: ignore[arg-type]
            await app.each_async(stream)
        return "done"

    return asyncio.run(go())


def _http_answer(response: httpx.Response) -> Any:
    return {"status": response.status_code, "body": _json_or_text(response.read())}


def httpx_openai_chat(s: StandIns, app: Seen) -> Any:
    with httpx.Client() as client:
        response = client.post(
            f"{s.openai.base_url}/chat/completions",
            json={"model": GPT, "messages": QUESTION},
            headers={"Authorization": "Bearer testing"},
        )
        app.add(response.status_code)
        return response.json()  # the app's own parse


def httpx_openai_stream_lines(s: StandIns, app: Seen) -> Any:
    body = {"model": GPT, "messages": QUESTION, "stream": True, "stream_options": {"include_usage": True}}
    with (
        httpx.Client() as client,
        client.stream(
            "POST", f"{s.openai.base_url}/chat/completions", json=body, headers={"Authorization": "Bearer testing"}
        ) as response,
    ):
        app.add(response.status_code)
        app.each(response.iter_lines())
    return "done"


def httpx_anthropic(s: StandIns, app: Seen) -> Any:
    headers = {"x-api-key": "testing", "anthropic-version": "2023-06-01"}
    with httpx.Client() as client:
        response = client.post(
            f"{s.anthropic.url}/v1/messages",
            json={"model": CLAUDE, "max_tokens": 64, "messages": QUESTION},
            headers=headers,
        )
        return _http_answer(response)


def httpx_async_anthropic_stream(s: StandIns, app: Seen) -> Any:
    headers = {"x-api-key": "testing", "anthropic-version": "2023-06-01"}
    body = {"model": CLAUDE, "max_tokens": 64, "messages": QUESTION, "stream": True}

    async def go() -> Any:
        async with (
            httpx.AsyncClient() as client,
            client.stream("POST", f"{s.anthropic.url}/v1/messages", json=body, headers=headers) as response,
        ):
            app.add(response.status_code)
            await app.joined_async(response.aiter_bytes())
        return "done"

    return asyncio.run(go())


def httpx_ollama_chat_stream(s: StandIns, app: Seen) -> Any:
    body = {"model": LLAMA, "messages": QUESTION}
    with httpx.Client() as client, client.stream("POST", f"{s.ollama.url}/api/chat", json=body) as r:
        app.add(r.status_code)
        app.each(r.iter_lines())
    return "done"


def httpx_ollama_generate(s: StandIns, app: Seen) -> Any:
    with httpx.Client() as client:
        body = {"model": LLAMA, "prompt": "why is the sky blue", "stream": False}
        return _http_answer(client.post(f"{s.ollama.url}/api/generate", json=body))


def aiohttp_openai_chat(s: StandIns, app: Seen) -> Any:
    async def go() -> Any:
        headers = {"Authorization": "Bearer testing"}
        async with aiohttp.ClientSession() as session:
            body = {"model": GPT, "messages": QUESTION}
            async with session.post(f"{s.openai.base_url}/chat/completions", json=body, headers=headers) as r:
                app.add(r.status)
                return await r.json()

    return asyncio.run(go())


def aiohttp_openai_stream(s: StandIns, app: Seen) -> Any:
    async def go() -> Any:
        headers = {"Authorization": "Bearer testing"}
        body = {"model": GPT, "messages": QUESTION, "stream": True, "stream_options": {"include_usage": True}}
        url = f"{s.openai.base_url}/chat/completions"
        async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as r:
            app.add(r.status)
            await app.each_async(r.content)
        return "done"

    return asyncio.run(go())


def aiohttp_ollama_chat(s: StandIns, app: Seen) -> Any:
    async def go() -> Any:
        async with aiohttp.ClientSession() as session:
            body = {"model": LLAMA, "messages": QUESTION, "stream": False}
            async with session.post(f"{s.ollama.url}/api/chat", json=body) as r:
                app.add(r.status)
                return _json_or_text(await r.read())

    return asyncio.run(go())


def aiohttp_anthropic_stream(s: StandIns, app: Seen) -> Any:
    async def go() -> Any:
        headers = {"x-api-key": "testing", "anthropic-version": "2023-06-01"}
        body = {"model": CLAUDE, "max_tokens": 64, "messages": QUESTION, "stream": True}
        url = f"{s.anthropic.url}/v1/messages"
        async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as r:
            app.add(r.status)
            await app.joined_async(r.content.iter_chunked(64))
        return "done"

    return asyncio.run(go())


# scenario -> (the app's code, which stand-in, streamed?)
SCENARIOS: dict[str, tuple[Callable[[StandIns, Seen], Any], str, bool]] = {
    "openai_chat": (openai_chat, "openai", False),
    "openai_chat_stream": (openai_chat_stream, "openai", True),
    "openai_responses": (openai_responses, "openai", False),
    "openai_responses_stream": (openai_responses_stream, "openai", True),
    "openai_embeddings": (openai_embeddings, "openai", False),
    "openai_async_chat": (openai_async_chat, "openai", False),
    "openai_async_chat_stream": (openai_async_chat_stream, "openai", True),
    "anthropic_messages": (anthropic_messages, "anthropic", False),
    "anthropic_stream": (anthropic_stream, "anthropic", True),
    "anthropic_stream_helper": (anthropic_stream_helper, "anthropic", True),
    "anthropic_async_stream": (anthropic_async_stream, "anthropic", True),
    "httpx_openai_chat": (httpx_openai_chat, "openai", False),
    "httpx_openai_stream_lines": (httpx_openai_stream_lines, "openai", True),
    "httpx_anthropic": (httpx_anthropic, "anthropic", False),
    "httpx_async_anthropic_stream": (httpx_async_anthropic_stream, "anthropic", True),
    "httpx_ollama_chat_stream": (httpx_ollama_chat_stream, "ollama", True),
    "httpx_ollama_generate": (httpx_ollama_generate, "ollama", False),
    "aiohttp_openai_chat": (aiohttp_openai_chat, "openai", False),
    "aiohttp_openai_stream": (aiohttp_openai_stream, "openai", True),
    "aiohttp_ollama_chat": (aiohttp_ollama_chat, "ollama", False),
    "aiohttp_anthropic_stream": (aiohttp_anthropic_stream, "anthropic", True),
}
BODY_FAULTS = ("ok", "rate_limit", "server_error", "overloaded", "malformed", "body_cut")
STREAM_FAULTS = ("ok", "rate_limit", "stream_cut", "stream_error")
FAULT_PARAMS: dict[str, dict[str, Any]] = {
    "rate_limit": {"retry_after_s": 0.25},
    "stream_cut": {"after_events": 3},
    "stream_error": {"after_events": 2},
}
CASES = [
    (name, fault)
    for name, (_, _, streamed) in SCENARIOS.items()
    for fault in (STREAM_FAULTS if streamed else BODY_FAULTS)
]


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[StandIns]:
    with OpenAIServer() as o, AnthropicServer() as a, OllamaServer() as ol:
        yield StandIns(o, a, ol)


def run_case(stand_ins: StandIns, scenario: str, fault: str) -> list[Any]:
    stand_ins.reset()
    app, server, _ = SCENARIOS[scenario]
    if fault != "ok":
        getattr(stand_ins, server).inject(fault, **FAULT_PARAMS.get(fault, {}))
    return seen(lambda record: app(stand_ins, record))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # broken sockets are the app's
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize(("scenario", "fault"), CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_the_app_sees_the_same_with_and_without_the_distro(
    stand_ins: StandIns, kit_factory: Any, caplog: pytest.LogCaptureFixture, scenario: str, fault: str
) -> None:
    runs = with_and_without(
        kit_factory,
        caplog,
        lambda: run_case(stand_ins, scenario, fault),
        capture_message_content=True,
        genai_endpoints={stand_ins.ollama.url: "ollama"},
    )
    assert runs.instrumented == runs.bare
    assert runs.still_open == []
    assert [m for m in runs.logged if "stream_options" not in m] == []  # the one hint a stream without usage gets
    kit, bare = runs.kit, runs.bare
    spans = [s for s in kit.finished() if "gen_ai.operation.name" in (s.attributes or {})]
    assert len(spans) == 1, [s.name for s in kit.finished()]
    error_type = spans[0].attributes.get("error.type")
    the_app_saw = failure(bare)
    if fault == "ok":
        assert error_type is None and the_app_saw is None
    elif fault in ("malformed", "body_cut"):
        assert error_type in ("malformed_response", "RemoteProtocolError", "ClientPayloadError"), error_type
    else:
        assert error_type, f"{fault}: the span has no error.type"
    if the_app_saw is not None and fault != "malformed":
        assert error_type


def test_every_fault_of_the_stand_ins_is_covered() -> None:
    from otel_chatbot.testing.standin.api import HTTP_FAULTS

    covered = set(BODY_FAULTS + STREAM_FAULTS) - {"ok"}
    assert HTTP_FAULTS.names - covered == {"slow"}  # slowness changes no answer (test_genai_providers times it)
