"""The example app's providers through their real clients, against the stand-ins, no telemetry.

boto3, the ``openai`` and ``anthropic`` SDKs and httpx (Ollama's NDJSON) talk to the stand-ins
over loopback; the app runs under uvicorn in a thread. What the app answers is held against
what each stand-in's ledger says it answered. The failover from Bedrock to the
OpenAI-compatible stand-in is checked for what makes it fast: the throttled first candidate
is asked once, never retried.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from otel_chatbot.demo.chatbot.app import create_app
from otel_chatbot.demo.chatbot.config import DEFAULT_MODEL_ID, DEFAULT_MODELS, ChatbotConfig, Endpoint
from otel_chatbot.demo.chatbot.providers.openai import RETRIES
from otel_chatbot.demo.servers import AppServer
from otel_chatbot.testing.anthropic import AnthropicServer
from otel_chatbot.testing.bedrock import BedrockServer
from otel_chatbot.testing.ollama import OllamaServer
from otel_chatbot.testing.openai import OpenAIServer
from otel_chatbot.testing.standin.ledger import LedgerEntry

pytestmark = pytest.mark.e2e

PACE_S = 0.05
"""The OpenAI stand-in's pause between stream events: a left stream would still be going."""
REPLY = "Hello! This is a deterministic reply to:"


@dataclass
class Stack:
    app: str
    bedrock: BedrockServer
    openai: OpenAIServer
    anthropic: AnthropicServer
    ollama: OllamaServer

    def ledger(self, provider: str) -> LedgerEntry:
        server: Any = getattr(self, provider)
        totals: LedgerEntry = server.ledger.totals()
        return totals


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with (
        BedrockServer() as bedrock,
        OpenAIServer(stream_pace_s=PACE_S) as openai_server,
        AnthropicServer() as anthropic_server,
        OllamaServer() as ollama_server,
    ):
        config = ChatbotConfig(
            endpoint_url=bedrock.endpoint_url,
            fake_credentials=True,
            endpoints={
                "openai": Endpoint(openai_server.base_url, "testing"),
                "anthropic": Endpoint(anthropic_server.url, "testing"),
                "ollama": Endpoint(ollama_server.url),
            },
            fallback_provider="openai",
        )
        server = AppServer(create_app(config)).start()
        try:
            yield Stack(server.url, bedrock, openai_server, anthropic_server, ollama_server)
        finally:
            server.stop()


@pytest.fixture
def app(stack: Stack) -> Iterator[httpx.Client]:
    for server in (stack.bedrock, stack.openai, stack.anthropic, stack.ollama):
        server.reset()
    with httpx.Client(base_url=stack.app, timeout=15, trust_env=False) as client:
        yield client


def _sse(client: httpx.Client, path: str, body: dict[str, Any], leave_after: int | None = None) -> list[str]:
    """The events of a streamed answer (``event: data`` lines joined), or the first few when leaving."""
    events: list[str] = []
    with client.stream("POST", path, json=body) as response:
        assert response.status_code == 200, response.read()
        lines: list[str] = []
        for line in response.iter_lines():
            if line:
                lines.append(line)
                continue
            events.append("\n".join(lines))
            lines = []
            if leave_after is not None and len(events) >= leave_after:
                break
    return events


def _done(events: list[str]) -> dict[str, Any]:
    head, data = events[-1].split("\n")
    assert head == "event: done", events
    done: dict[str, Any] = json.loads(data.removeprefix("data: "))
    return done


@pytest.mark.parametrize("provider", ["bedrock", "openai", "anthropic", "ollama"])
def test_each_provider_answers_a_turn_and_a_stream_as_its_ledger_says(
    app: httpx.Client, stack: Stack, provider: str
) -> None:
    session = f"/chat/p-{provider}"
    reply = app.post(session, json={"message": "Where is my order?", "provider": provider})
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    model = DEFAULT_MODELS[provider]  # type: ignore[index]
    assert (answer["provider"], answer["model"], answer["cached"]) == (provider, model, False)
    assert answer["reply"].startswith(REPLY) and answer["reply"].endswith("Where is my order?")
    done = _done(_sse(app, f"{session}/stream", {"message": "And the returns?", "provider": provider}))
    assert done["reply"].startswith(REPLY) and done["reply"].endswith("And the returns?")
    assert done["stop_reason"] in ("end_turn", "stop")
    ledger = stack.ledger(provider)
    assert ledger.calls == 2 and not ledger.errors
    # What the app reports is what the provider counted (input as the convention counts it, cache included).
    inputs = ledger.input_tokens + (
        ledger.cache_read_input_tokens + ledger.cache_write_input_tokens if provider in ("bedrock", "anthropic") else 0
    )
    assert answer["usage"]["input_tokens"] + done["usage"]["input_tokens"] == inputs
    assert answer["usage"]["output_tokens"] + done["usage"]["output_tokens"] == ledger.output_tokens
    history = app.get(f"/sessions/p-{provider}/history").json()["turns"]
    assert [turn["text"] for turn in history[::2]] == ["Where is my order?", "And the returns?"]


def test_a_websocket_turn_on_anthropic(app: httpx.Client, stack: Stack) -> None:
    with connect(stack.app.replace("http", "ws") + "/ws/chat/w1", proxy=None) as websocket:
        websocket.send(json.dumps({"message": "hello there", "provider": "anthropic"}))
        frames = []
        while not frames or frames[-1]["type"] == "chunk":
            frames.append(json.loads(websocket.recv(timeout=10)))
    assert frames[-1]["type"] == "done" and frames[-1]["provider"] == "anthropic"
    assert "".join(frame["text"] for frame in frames[:-1]) == frames[-1]["reply"]
    assert stack.ledger("anthropic").output_tokens == frames[-1]["usage"]["output_tokens"]


def test_a_client_leaving_a_stream_closes_the_providers_stream(app: httpx.Client, stack: Stack) -> None:
    question = "Tell me everything about delivery options, returns, sizes and payments, please."
    events = _sse(app, "/chat/l1/stream", {"message": question, "provider": "openai"}, leave_after=2)
    assert len(events) == 2
    time.sleep(40 * PACE_S)  # longer than the whole answer would take
    ledger = stack.ledger("openai")
    # The usage chunk comes last: had the app kept reading, the stand-in would have counted it.
    assert ledger.calls == 1 and ledger.output_tokens == 0
    assert app.get("/sessions/l1/history").status_code == 404, "an answer nobody read is not history"


def test_a_throttled_bedrock_fails_over_to_the_openai_compatible_provider_at_once(
    app: httpx.Client, stack: Stack
) -> None:
    stack.bedrock.inject("throttle", count=4, operation="Converse", model=DEFAULT_MODEL_ID)
    reply = app.post("/chat/f1", json={"message": "Where is my parcel?"})
    assert reply.status_code == 200, reply.text
    assert (reply.json()["provider"], reply.json()["model"]) == ("openai", DEFAULT_MODELS["openai"])
    bedrock = stack.bedrock.ledger.entry(DEFAULT_MODEL_ID, "Converse")
    assert bedrock.calls == 1 and sum(bedrock.errors.values()) == 1, "asked once: no client retries"
    assert stack.ledger("openai").calls == 1
    # The three throttles left are three more chains that each switch after one call.
    for number in range(3):
        assert app.post("/chat/f1", json={"message": f"And parcel {number}?"}).json()["provider"] == "openai"
    assert app.post("/chat/f1", json={"message": "Thanks!"}).json()["provider"] == "bedrock"
    assert stack.bedrock.ledger.entry(DEFAULT_MODEL_ID, "Converse").calls == 5


def test_every_candidate_throttled_answers_the_last_ones_error(app: httpx.Client, stack: Stack) -> None:
    stack.bedrock.inject("throttle", count=1, operation="Converse", model=DEFAULT_MODEL_ID)
    model = DEFAULT_MODELS["openai"]
    # The last candidate keeps its client's retries: every one of its attempts throttled.
    stack.openai.inject("rate_limit", count=1 + RETRIES, model=model, path="/v1/chat/completions", retry_after_s=0.01)
    reply = app.post("/chat/x1", json={"message": "Anyone there?"})
    assert reply.status_code == 429 and reply.json()["error"] == "RateLimitError", reply.text
    assert stack.bedrock.ledger.entry(DEFAULT_MODEL_ID, "Converse").calls == 1
    assert stack.ledger("openai").calls == 1 + RETRIES
