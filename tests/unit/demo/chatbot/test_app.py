"""The example app's HTTP behaviour with a scripted provider (no servers, no instrumentation).

WebSocket chat and the providers' real clients and wire protocols are covered end to end in tests/e2e/demo.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from otel_chatbot.demo.chatbot.app import create_app
from otel_chatbot.demo.chatbot.config import DEFAULT_MODEL_ID, ChatbotConfig
from otel_chatbot.demo.chatbot.handbook import HANDBOOK, SYSTEM_PROMPT
from otel_chatbot.demo.chatbot.history import ConversationStore
from otel_chatbot.demo.chatbot.providers import Completion
from tests.unit.demo.chatbot.provider_fakes import ClientFailure, FakeProvider


class AgentStub:
    """Stands in for BedrockGateway's agent call."""

    def invoke_agent(self, session_id: str, text: str) -> Completion:
        return Completion(f"agent {session_id}", None, 40, 20)


def send(provider: FakeProvider, *requests: tuple[str, str, Any]) -> list[httpx.Response]:
    """(method, path, json body or None) requests, in order, to one app instance answered by ``provider``."""
    app = create_app(ChatbotConfig(endpoint_url="http://bedrock.test", fake_credentials=True))
    app.state.chatbot.providers = {"bedrock": provider}
    app.state.chatbot.bedrock = AgentStub()

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
            return [await client.request(method, path, json=body) for method, path, body in requests]

    return asyncio.run(go())


def call(provider: FakeProvider, method: str, path: str, json: Any = None) -> httpx.Response:
    return send(provider, (method, path, json))[0]


def test_chat_replies_with_usage_and_keeps_history() -> None:
    provider = FakeProvider(model=DEFAULT_MODEL_ID)
    *_, response = send(
        provider,
        ("POST", "/chat/s1", {"message": "one"}),
        ("POST", "/v1/chat/s1", {"message": "two"}),
        ("GET", "/sessions/s1/history", None),
    )
    assert response.status_code == 200
    replies = [f"bedrock/{DEFAULT_MODEL_ID}: {text}" for text in ("one", "two")]
    assert [turn["text"] for turn in response.json()["turns"]] == ["one", replies[0], "two", replies[1]]
    # The second turn sent the first one back as context (the /v1 mount shares the service).
    assert [turn.role for turn in provider.prompts[1].turns] == ["user", "assistant", "user"]


def test_chat_body() -> None:
    response = call(FakeProvider(model=DEFAULT_MODEL_ID), "POST", "/chat/s1", json={"message": "hi"})
    assert response.status_code == 200
    assert response.json() == {
        "session_id": "s1",
        "provider": "bedrock",
        "model": DEFAULT_MODEL_ID,
        "reply": f"bedrock/{DEFAULT_MODEL_ID}: hi",
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 3},
        "cached": False,
    }


def test_handbook_turns_send_the_handbook_as_context() -> None:
    provider = FakeProvider()
    send(
        provider,
        ("POST", "/chat/s1", {"message": "hi"}),
        ("POST", "/chat/s1", {"message": "returns?", "handbook": True}),
        ("POST", "/chat/s1/stream", {"message": "sizes?", "handbook": True}),
        ("POST", "/v1/chat/s1", {"message": "thanks"}),
    )
    plain, *handbook, plain_again = provider.prompts
    assert {prompt.system for prompt in provider.prompts} == {SYSTEM_PROMPT}
    assert plain.context is None and plain_again.context is None
    assert [prompt.context for prompt in handbook] == [HANDBOOK, HANDBOOK]


def test_sse_stream_sends_text_events_then_done() -> None:
    response = call(FakeProvider(), "POST", "/chat/s1/stream", json={"message": "hi", "model": "m"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.strip().split("\n\n")
    assert events[:2] == ['data: {"text":"Hel"}', 'data: {"text":"lo"}']
    head, data = events[2].split("\n")
    assert head == "event: done"
    done = json.loads(data.removeprefix("data: "))
    assert (
        done["reply"] == "Hello" and done["model"] == "m" and done["usage"] == {"input_tokens": 7, "output_tokens": 2}
    )


def test_stream_refused_before_the_first_chunk_gets_a_real_status() -> None:
    provider = FakeProvider()
    provider.fail(provider.model, ("ThrottlingException", 429))
    response = call(provider, "POST", "/chat/s1/stream", json={"message": "hi"})
    assert response.status_code == 429
    assert response.json() == {"error": "ThrottlingException", "message": "bedrock said ThrottlingException"}


def test_stream_broken_midway_reports_in_band() -> None:
    provider = FakeProvider(fail_mid_stream=ClientFailure("InternalServerException", 500))
    response = call(provider, "POST", "/chat/s1/stream", json={"message": "hi"})
    assert response.status_code == 200
    assert response.text.strip().split("\n\n")[-1].startswith("event: error\ndata: ")


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/chat/s1", {"message": ""}, 422),
        ("/chat/bad%20id", {"message": "hi"}, 422),
        ("/chat/s1/fail", {"message": "hi"}, 500),
        ("/sessions/nobody/history", None, 404),
        ("/no-such-route", None, 404),
    ],
)
def test_error_statuses(path: str, body: Any, status: int) -> None:
    method = "GET" if body is None else "POST"
    assert call(FakeProvider(), method, path, json=body).status_code == status


def test_provider_errors_map_to_statuses() -> None:
    provider = FakeProvider()
    provider.fail("nope", ("ValidationException", 400))
    response = call(provider, "POST", "/chat/s1", json={"message": "hi", "model": "nope"})
    assert (response.status_code, response.json()["error"]) == (400, "ValidationException")
    unknown = call(provider, "POST", "/chat/s1", json={"message": "hi", "provider": "ollama"})
    assert (unknown.status_code, unknown.json()["error"]) == (400, "ProviderNotConfigured")
    assert call(provider, "POST", "/chat/s1", json={"message": "hi", "provider": "gemini"}).status_code == 422


def test_agent_health_and_models() -> None:
    provider = FakeProvider(model=DEFAULT_MODEL_ID)
    assert call(provider, "POST", "/agents/s9", json={"message": "book"}).json()["reply"] == "agent s9"
    health = {"status": "ok", "bedrock": "http://bedrock.test", "provider": "bedrock"}
    assert call(provider, "GET", "/health").json() == health
    assert call(provider, "GET", "/v1/models").json() == {"default": DEFAULT_MODEL_ID, "models": [DEFAULT_MODEL_ID]}


def test_history_is_bounded_and_starts_with_a_user_turn() -> None:
    store = ConversationStore(max_messages=5, max_sessions=2)
    for n in range(4):
        store.add("a", f"q{n}", f"a{n}")
    assert [t.text for t in store.turns("a")] == ["q2", "a2", "q3", "a3"]
    store.add("b", "q", "a")
    store.add("c", "q", "a")
    assert store.turns("a") == []  # evicted, oldest first


def test_feedback_takes_the_trace_id_the_answer_came_with(configure_helpers: Any) -> None:
    kit = configure_helpers()
    ok, malformed, out_of_range = send(
        FakeProvider(),
        ("POST", "/feedback", {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "score": 0, "label": "thumbs_down"}),
        ("POST", "/feedback", {"trace_id": "not-a-trace-id", "score": 1}),
        ("POST", "/feedback", {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "score": 5}),
    )
    assert ok.status_code == 204 and ok.content == b""
    assert malformed.status_code == 400 and "32 hex digits" in malformed.json()["detail"]
    assert out_of_range.status_code == 422
    assert kit.values("chatbot.feedback", "gen_ai.evaluation.score.label") == {("thumbs_down",): 1}
