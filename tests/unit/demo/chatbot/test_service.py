"""The example app's chat turn: the semantic cache and the model failover, and what the helpers record."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from otel_chatbot.demo.chatbot.bedrock import BedrockError, Completion, translate
from otel_chatbot.demo.chatbot.config import DEFAULT_MODEL_ID, ChatbotConfig
from otel_chatbot.demo.chatbot.schemas import ChatReply
from otel_chatbot.demo.chatbot.service import ChatService
from tests.unit.helpers.helper_kit import Configured

FALLBACK = "us.amazon.nova-lite-v1:0"
Configure = Callable[..., Configured]


class Models:
    """Stands in for BedrockGateway.converse: per model, AWS errors to answer with (translated as the gateway does)."""

    def __init__(self) -> None:
        self.failures: dict[str, list[ClientError]] = {}
        self.calls: list[str] = []
        self.systems: list[list[dict[str, Any]]] = []

    def fail(self, model: str, *codes: str) -> None:
        errors = [ClientError({"Error": {"Code": code, "Message": code}}, "Converse") for code in codes]
        self.failures.setdefault(model, []).extend(errors)

    def converse(self, model_id: str, messages: list[dict[str, Any]], system: list[dict[str, Any]]) -> Completion:
        self.calls.append(model_id)
        self.systems.append(system)
        queue = self.failures.get(model_id)
        if queue:
            error = queue.pop(0)
            raise translate(error) from error
        return Completion(f"{model_id}: {messages[-1]['content'][0]['text']}", "end_turn", 100, 20)


def service(models: Models, **config: Any) -> ChatService:
    chat = ChatService(ChatbotConfig(endpoint_url="http://bedrock.test", fake_credentials=True, **config))
    chat.bedrock = models  # type: ignore[assignment]
    return chat


def chat(chat_service: ChatService, message: str, model: str | None = None, handbook: bool = False) -> ChatReply:
    return asyncio.run(chat_service.chat("s1", message, model, handbook))


def test_a_question_asked_again_is_answered_from_the_cache(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    models = Models()
    cached = service(models, semantic_cache=True)
    first = chat(cached, "Where is my order?")
    again = chat(cached, "where is my order")
    assert models.calls == [DEFAULT_MODEL_ID], "the second answer came from the cache"
    assert again.reply == first.reply and again.usage == first.usage
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.result") == {("miss",): 1, ("hit",): 1}
    assert kit.values("chatbot.cache.saved.tokens", "gen_ai.token.type", "gen_ai.request.model") == {
        ("input", DEFAULT_MODEL_ID): 100,
        ("output", DEFAULT_MODEL_ID): 20,
    }
    assert chat(cached, "hi", model=FALLBACK).model == FALLBACK, "a turn that names its model skips the cache"
    assert len(kit.points("chatbot.cache.lookups")) == 2


def test_handbook_answers_have_a_cache_of_their_own(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    models = Models()
    cached = service(models, semantic_cache=True)
    chat(cached, "Where is my order?")
    chat(cached, "Where is my order?", handbook=True)  # other context: asked of the model
    chat(cached, "where is my order", handbook=True)  # the same context: from its cache
    assert models.calls == [DEFAULT_MODEL_ID] * 2
    assert [len(system) for system in models.systems] == [1, 3]  # the handbook and its cache point
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.result") == {("miss",): 2, ("hit",): 1}


def test_a_failover_keeps_the_handbook(configure_helpers: Configure) -> None:
    configure_helpers()
    models = Models()
    models.fail(DEFAULT_MODEL_ID, "ThrottlingException")
    reply = chat(service(models, fallback_model_id=FALLBACK), "returns?", handbook=True)
    assert reply.model == FALLBACK and models.calls == [DEFAULT_MODEL_ID, FALLBACK]
    assert models.systems[0] == models.systems[1] and models.systems[1][-1] == {"cachePoint": {"type": "default"}}


def test_a_throttled_model_fails_over_to_the_fallback(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    models = Models()
    models.fail(DEFAULT_MODEL_ID, "ThrottlingException")
    failing_over = service(models, fallback_model_id=FALLBACK)
    reply = chat(failing_over, "hello")
    assert reply.model == FALLBACK and models.calls == [DEFAULT_MODEL_ID, FALLBACK]
    assert chat(failing_over, "again").model == DEFAULT_MODEL_ID
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("served",): 2}
    assert kit.values("chatbot.failover.switches", "error.type") == {("ThrottlingException",): 1}


def test_every_model_throttled_exhausts_the_chain_and_answers_the_error(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    models = Models()
    models.fail(DEFAULT_MODEL_ID, "ThrottlingException")
    models.fail(FALLBACK, "ThrottlingException")
    with pytest.raises(BedrockError) as caught:
        chat(service(models, fallback_model_id=FALLBACK), "hello")
    assert caught.value.status == 429
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("exhausted",): 1}


def test_errors_of_the_request_do_not_fail_over_and_a_named_model_gets_no_chain(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    models = Models()
    models.fail(DEFAULT_MODEL_ID, "ValidationException")
    failing_over = service(models, fallback_model_id=FALLBACK)
    with pytest.raises(BedrockError):
        chat(failing_over, "hello")
    assert models.calls == [DEFAULT_MODEL_ID]
    models.fail("example.no-such-model-v1:0", "ValidationException")
    with pytest.raises(BedrockError):
        chat(failing_over, "hello", model="example.no-such-model-v1:0")
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("exhausted",): 1}
