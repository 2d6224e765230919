"""The example app's HTTP behaviour with Bedrock stubbed out (no servers, no instrumentation).

WebSocket chat and the real Bedrock wire protocol are covered end to end in tests/e2e/demo.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otel_chatbot.demo.chatbot.app import create_app
from otel_chatbot.demo.chatbot.bedrock import BedrockError, Completion, Delta, translate
from otel_chatbot.demo.chatbot.config import DEFAULT_MODEL_ID, ChatbotConfig
from otel_chatbot.demo.chatbot.handbook import HANDBOOK, SYSTEM_PROMPT
from otel_chatbot.demo.chatbot.history import ConversationStore


class StubGateway:
    """Stands in for BedrockGateway: canned answers, remembers the messages it was sent."""

    def __init__(self, fail_with: BedrockError | None = None, fail_mid_stream: bool = False) -> None:
        self.fail_with = fail_with
        self.fail_mid_stream = fail_mid_stream
        self.seen: list[list[dict[str, Any]]] = []
        self.systems: list[list[dict[str, Any]]] = []

    def converse(self, model_id: str, messages: list[dict[str, Any]], system: list[dict[str, Any]]) -> Completion:
        self.seen.append(messages)
        self.systems.append(system)
        if self.fail_with:
            raise self.fail_with
        return Completion(f"echo {messages[-1]['content'][0]['text']}", "end_turn", 10 * len(messages), 3)

    def converse_stream(
        self, model_id: str, messages: list[dict[str, Any]], system: list[dict[str, Any]]
    ) -> Iterator[Delta]:
        self.seen.append(messages)
        self.systems.append(system)
        if self.fail_with and not self.fail_mid_stream:
            raise self.fail_with
        yield Delta(text="Hel")
        if self.fail_with:
            raise self.fail_with
        yield Delta(text="lo")
        yield Delta(stop_reason="end_turn")
        yield Delta(input_tokens=7, output_tokens=2)

    def invoke_agent(self, session_id: str, text: str) -> Completion:
        return Completion(f"agent {session_id}", None, 40, 20)

    def warm_up(self) -> None: ...

    def close(self) -> None: ...


def send(gateway: StubGateway, *requests: tuple[str, str, Any]) -> list[httpx.Response]:
    """(method, path, json body or None) requests, in order, to one app instance using ``gateway``."""
    app = create_app(ChatbotConfig(endpoint_url="http://bedrock.test", fake_credentials=True))
    app.state.chatbot.bedrock = gateway

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
            return [await client.request(method, path, json=body) for method, path, body in requests]

    return asyncio.run(go())


def call(gateway: StubGateway, method: str, path: str, json: Any = None) -> httpx.Response:
    return send(gateway, (method, path, json))[0]


def test_chat_replies_with_usage_and_keeps_history() -> None:
    gateway = StubGateway()
    *_, response = send(
        gateway,
        ("POST", "/chat/s1", {"message": "one"}),
        ("POST", "/v1/chat/s1", {"message": "two"}),
        ("GET", "/sessions/s1/history", None),
    )
    assert response.status_code == 200
    assert [turn["text"] for turn in response.json()["turns"]] == ["one", "echo one", "two", "echo two"]
    # The second turn sent the first one back as context (the /v1 mount shares the service).
    assert [m["role"] for m in gateway.seen[1]] == ["user", "assistant", "user"]


def test_chat_body() -> None:
    response = call(StubGateway(), "POST", "/chat/s1", json={"message": "hi"})
    assert response.status_code == 200
    assert response.json() == {
        "session_id": "s1",
        "model": DEFAULT_MODEL_ID,
        "reply": "echo hi",
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 3},
    }


def test_handbook_turns_send_the_handbook_and_a_cache_point_after_it() -> None:
    gateway = StubGateway()
    send(
        gateway,
        ("POST", "/chat/s1", {"message": "hi"}),
        ("POST", "/chat/s1", {"message": "returns?", "handbook": True}),
        ("POST", "/chat/s1/stream", {"message": "sizes?", "handbook": True}),
        ("POST", "/v1/chat/s1", {"message": "thanks"}),
    )
    plain, *handbook, plain_again = gateway.systems
    assert plain == plain_again == [{"text": SYSTEM_PROMPT}]
    assert handbook == [[{"text": SYSTEM_PROMPT}, {"text": HANDBOOK}, {"cachePoint": {"type": "default"}}]] * 2


def test_sse_stream_sends_text_events_then_done() -> None:
    response = call(StubGateway(), "POST", "/chat/s1/stream", json={"message": "hi", "model": "m"})
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
    gateway = StubGateway(BedrockError("ThrottlingException", "slow down", 429))
    response = call(gateway, "POST", "/chat/s1/stream", json={"message": "hi"})
    assert response.status_code == 429
    assert response.json() == {"error": "ThrottlingException", "message": "slow down"}


def test_stream_broken_midway_reports_in_band() -> None:
    gateway = StubGateway(BedrockError("InternalServerException", "boom", 502), fail_mid_stream=True)
    response = call(gateway, "POST", "/chat/s1/stream", json={"message": "hi"})
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
    assert call(StubGateway(), method, path, json=body).status_code == status


def test_bedrock_errors_map_to_statuses() -> None:
    gateway = StubGateway(BedrockError("ValidationException", "bad model", 400))
    response = call(gateway, "POST", "/chat/s1", json={"message": "hi", "model": "nope"})
    assert (response.status_code, response.json()["error"]) == (400, "ValidationException")


def test_agent_health_and_models() -> None:
    assert call(StubGateway(), "POST", "/agents/s9", json={"message": "book"}).json()["reply"] == "agent s9"
    assert call(StubGateway(), "GET", "/health").json() == {"status": "ok", "bedrock": "http://bedrock.test"}
    assert call(StubGateway(), "GET", "/v1/models").json()["default"] == DEFAULT_MODEL_ID


def test_translate_client_errors() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "Converse")
    assert (translate(throttled).status, translate(throttled).code) == (429, "ThrottlingException")
    odd = ClientError({"Error": {"Code": "Weird"}}, "Converse")
    assert translate(odd).status == 502
    down = translate(EndpointConnectionError(endpoint_url="http://x"))
    assert (down.status, down.code) == (502, "EndpointConnectionError")


def test_config_from_env() -> None:
    local = ChatbotConfig.from_env({"BEDROCK_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": "eu-west-1"})
    assert local.endpoint_url == "http://127.0.0.1:9" and local.region == "eu-west-1" and local.fake_credentials
    assert not ChatbotConfig.from_env({"BEDROCK_ENDPOINT_URL": "http://x", "AWS_PROFILE": "dev"}).fake_credentials
    real = ChatbotConfig.from_env({"CHATBOT_MODEL_ID": "amazon.nova-lite-v1:0"})
    assert real.endpoint_url is None and not real.fake_credentials and real.model_id == "amazon.nova-lite-v1:0"


def test_history_is_bounded_and_starts_with_a_user_turn() -> None:
    store = ConversationStore(max_messages=5, max_sessions=2)
    for n in range(4):
        store.add("a", f"q{n}", f"a{n}")
    assert [t.text for t in store.turns("a")] == ["q2", "a2", "q3", "a3"]
    store.add("b", "q", "a")
    store.add("c", "q", "a")
    assert store.turns("a") == []  # evicted, oldest first
    assert store.bedrock_messages("c", "next")[0]["role"] == "user"


def test_feedback_takes_the_trace_id_the_answer_came_with(configure_helpers: Any) -> None:
    kit = configure_helpers()
    ok, malformed, out_of_range = send(
        StubGateway(),
        ("POST", "/feedback", {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "score": 0, "label": "thumbs_down"}),
        ("POST", "/feedback", {"trace_id": "not-a-trace-id", "score": 1}),
        ("POST", "/feedback", {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "score": 5}),
    )
    assert ok.status_code == 204 and ok.content == b""
    assert malformed.status_code == 400 and "32 hex digits" in malformed.json()["detail"]
    assert out_of_range.status_code == 422
    assert kit.values("chatbot.feedback", "gen_ai.evaluation.score.label") == {("thumbs_down",): 1}
