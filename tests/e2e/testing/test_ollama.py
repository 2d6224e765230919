"""The Ollama stand-in against plain httpx and aiohttp (NDJSON streams) and the ``openai`` SDK (``/v1/``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import openai
import pytest

from otel_chatbot.testing.ollama import OllamaServer
from otel_chatbot.testing.ollama.native import EVAL_NS_PER_TOKEN, LOAD_NS, PROMPT_EVAL_NS_PER_TOKEN
from otel_chatbot.testing.standin.generation import INPUT_TOKEN_OVERHEAD, REPLY_PREFIX

pytestmark = pytest.mark.e2e

MODEL = "llama3.2"
QUESTION = "why is the sky blue"
EXPECTED_REPLY = f"{REPLY_PREFIX} {QUESTION}"
EXPECTED_INPUT = len(QUESTION.split()) + INPUT_TOKEN_OVERHEAD
EXPECTED_OUTPUT = len(EXPECTED_REPLY.split())


def chat_body(stream: bool | None = None, text: str = QUESTION, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": text}], **extra}
    if stream is not None:
        body["stream"] = stream
    return body


@pytest.fixture(scope="module")
def server() -> Iterator[OllamaServer]:
    with OllamaServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(server: OllamaServer) -> None:
    server.reset()


@pytest.fixture
def client(server: OllamaServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as http:
        yield http


def ndjson(client: httpx.Client, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    with client.stream("POST", path, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        return [json.loads(line) for line in response.iter_lines() if line]


def test_chat_streams_ndjson_by_default(server: OllamaServer, client: httpx.Client) -> None:
    lines = ndjson(client, "/api/chat", chat_body())
    *pieces, last = lines
    assert all(piece["done"] is False and piece["model"] == MODEL for piece in pieces)
    assert "".join(piece["message"]["content"] for piece in pieces) == EXPECTED_REPLY
    assert last["done"] is True and last["done_reason"] == "stop" and last["message"]["content"] == ""
    assert (last["prompt_eval_count"], last["eval_count"]) == (EXPECTED_INPUT, EXPECTED_OUTPUT)
    assert last["prompt_eval_duration"] == EXPECTED_INPUT * PROMPT_EVAL_NS_PER_TOKEN
    assert last["eval_duration"] == EXPECTED_OUTPUT * EVAL_NS_PER_TOKEN
    assert last["total_duration"] == LOAD_NS + last["prompt_eval_duration"] + last["eval_duration"]
    entry = server.ledger.entry(MODEL, "chat")
    assert (entry.calls, entry.input_tokens, entry.output_tokens) == (1, EXPECTED_INPUT, EXPECTED_OUTPUT)


def test_chat_without_stream(server: OllamaServer, client: httpx.Client) -> None:
    answer = client.post("/api/chat", json=chat_body(stream=False)).json()
    assert answer["message"] == {"role": "assistant", "content": EXPECTED_REPLY}
    assert answer["done"] is True and answer["created_at"].endswith("Z")
    limited = client.post("/api/chat", json=chat_body(stream=False, options={"num_predict": 2})).json()
    assert (limited["done_reason"], limited["eval_count"]) == ("length", 2)
    assert limited["message"]["content"] == "Hello! This"
    assert server.ledger.entry(MODEL, "chat").output_tokens == EXPECTED_OUTPUT + 2


def test_chat_tool_calls(client: httpx.Client) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    lines = ndjson(client, "/api/chat", chat_body(text="get_weather for Rome", tools=[tool]))
    (calls,) = [line["message"]["tool_calls"] for line in lines if "tool_calls" in line["message"]]
    assert calls == [{"function": {"name": "get_weather", "arguments": {"city": "get_weather for Rome"}}}]
    assert lines[-1]["done_reason"] == "stop"


def test_generate_stream_and_not(server: OllamaServer, client: httpx.Client) -> None:
    lines = ndjson(client, "/api/generate", {"model": MODEL, "prompt": QUESTION, "system": "be brief"})
    assert "".join(line["response"] for line in lines) == EXPECTED_REPLY
    assert lines[-1]["prompt_eval_count"] == EXPECTED_INPUT + 2
    whole = client.post("/api/generate", json={"model": MODEL, "prompt": QUESTION, "stream": False}).json()
    assert (whole["response"], whole["eval_count"]) == (EXPECTED_REPLY, EXPECTED_OUTPUT)
    entry = server.ledger.entry(MODEL, "generate")
    assert (entry.calls, entry.input_tokens) == (2, 2 * EXPECTED_INPUT + 2)


def test_embed_tags_version(server: OllamaServer, client: httpx.Client) -> None:
    answer = client.post("/api/embed", json={"model": "nomic-embed-text", "input": ["a b", "c"]}).json()
    assert [len(vector) for vector in answer["embeddings"]] == [768, 768]
    assert answer["prompt_eval_count"] == 3
    assert "llama3.2:latest" in [model["name"] for model in client.get("/api/tags").json()["models"]]
    assert client.get("/api/version").json()["version"]
    assert server.ledger.entry("nomic-embed-text", "embed").input_tokens == 3
    assert server.ledger.totals().calls == 1


def test_async_httpx_and_aiohttp_streams(server: OllamaServer) -> None:
    async def with_httpx() -> list[dict[str, Any]]:
        async with (
            httpx.AsyncClient(base_url=server.url) as http,
            http.stream("POST", "/api/chat", json=chat_body()) as response,
        ):
            return [json.loads(line) async for line in response.aiter_lines() if line]

    async def with_aiohttp() -> list[dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{server.url}/api/generate", json={"model": MODEL, "prompt": QUESTION}) as response,
        ):
            return [json.loads(line) async for line in response.content if line.strip()]

    async def both() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return await asyncio.gather(with_httpx(), with_aiohttp())

    chat, generate = asyncio.run(both())
    assert chat[-1]["eval_count"] == generate[-1]["eval_count"] == EXPECTED_OUTPUT
    assert "".join(line["response"] for line in generate) == EXPECTED_REPLY
    assert server.ledger.totals().output_tokens == 2 * EXPECTED_OUTPUT


def test_the_openai_compatible_api(server: OllamaServer) -> None:
    with openai.OpenAI(base_url=server.openai_base_url, api_key="ollama", max_retries=0) as sdk:
        completion = sdk.chat.completions.create(model=MODEL, messages=chat_body()["messages"])
        assert completion.system_fingerprint == "fp_ollama" and completion.model == MODEL
        assert completion.choices[0].message.content == EXPECTED_REPLY
        chunks = list(
            sdk.chat.completions.create(
                model=MODEL, messages=chat_body()["messages"], stream=True, stream_options={"include_usage": True}
            )
        )
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == EXPECTED_OUTPUT
        assert chunks[-1].usage.prompt_tokens_details is None  # Ollama reports no details
        assert sdk.embeddings.create(model="nomic-embed-text", input="a b").usage.prompt_tokens == 2
        assert "llama3.2:latest" in [model.id for model in sdk.models.list()]
        with pytest.raises(openai.NotFoundError, match="try pulling it first"):
            sdk.chat.completions.create(model="notfound", messages=chat_body()["messages"])
    entry = server.ledger.entry(MODEL, "chat.completions")
    assert (entry.calls, entry.output_tokens) == (2, 2 * EXPECTED_OUTPUT)


def test_errors_are_ollama_shaped(client: httpx.Client) -> None:
    missing = client.post("/api/chat", json={"messages": []})
    assert (missing.status_code, missing.json()) == (400, {"error": "model is required"})
    unknown = client.post("/api/chat", json={**chat_body(), "model": "notfound:7b"})
    assert unknown.status_code == 404
    assert unknown.json() == {"error": 'model "notfound:7b" not found, try pulling it first'}
    assert client.post("/api/chat", content=b"{nope").status_code == 400


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "status"), [("rate_limit", 429), ("server_error", 500), ("overloaded", 503)])
def test_error_faults(server: OllamaServer, client: httpx.Client, fault: str, status: int) -> None:
    server.inject(fault, path="/api/chat")
    response = client.post("/api/chat", json=chat_body())
    assert response.status_code == status and set(response.json()) == {"error"}
    if fault == "rate_limit":
        assert response.headers["retry-after"] == "1"
    assert dict(server.ledger.entry(MODEL, "chat").errors) == {str(status): 1}


def test_malformed_body(server: OllamaServer, client: httpx.Client) -> None:
    server.inject("malformed")
    response = client.post("/api/chat", json=chat_body(stream=False))
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert dict(server.ledger.entry(MODEL, "chat").errors) == {"malformed": 1}


def test_a_cut_stream_breaks_httpx_and_aiohttp(server: OllamaServer, client: httpx.Client) -> None:
    server.inject("stream_cut", count=2, after_events=2)
    seen: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError), client.stream("POST", "/api/chat", json=chat_body()) as response:
        seen.extend(line for line in response.iter_lines() if line)
    assert len(seen) == 2

    async def with_aiohttp() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{server.url}/api/chat", json=chat_body()) as response,
        ):
            async for _ in response.content:
                pass

    with pytest.raises(aiohttp.ClientPayloadError):
        asyncio.run(with_aiohttp())
    entry = server.ledger.entry(MODEL, "chat")
    assert (entry.input_tokens, dict(entry.errors)) == (0, {"stream_cut": 2})


def test_an_error_line_ends_the_stream(server: OllamaServer, client: httpx.Client) -> None:
    server.inject("stream_error", after_events=1, message="model runner crashed")
    lines = ndjson(client, "/api/chat", chat_body())
    assert lines[-1] == {"error": "model runner crashed"} and len(lines) == 2
    assert dict(server.ledger.entry(MODEL, "chat").errors) == {"stream_error": 1}


def test_slow_first_token(server: OllamaServer, client: httpx.Client) -> None:
    server.inject("slow", delay_s=0.3)
    started = time.perf_counter()
    with client.stream("POST", "/api/chat", json=chat_body()) as response:
        headers_after = time.perf_counter() - started
        next(response.iter_lines())
        first_after = time.perf_counter() - started
    assert headers_after < 0.25 and first_after >= 0.3
