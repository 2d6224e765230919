"""The example app's chat turn: providers, the semantic cache, the failover, and what the helpers record."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from otel_chatbot.demo.chatbot.config import ChatbotConfig
from otel_chatbot.demo.chatbot.handbook import HANDBOOK
from otel_chatbot.demo.chatbot.providers import ProviderError
from otel_chatbot.demo.chatbot.schemas import ChatReply
from otel_chatbot.demo.chatbot.service import ChatService
from tests.unit.demo.chatbot.provider_fakes import FakeProvider
from tests.unit.helpers.helper_kit import Configured

Configure = Callable[..., Configured]
THROTTLED = ("ThrottlingException", 429)


def service(**config: Any) -> tuple[ChatService, FakeProvider, FakeProvider]:
    """A service whose Bedrock is ``primary`` (model-a) and whose OpenAI is ``backup`` (model-b)."""
    chat = ChatService(ChatbotConfig(endpoint_url="http://bedrock.test", fake_credentials=True, **config))
    primary, backup = FakeProvider(), FakeProvider("openai", "openai", "model-b")
    chat.providers = {"bedrock": primary, "openai": backup}
    return chat, primary, backup


def failing_over(**config: Any) -> tuple[ChatService, FakeProvider, FakeProvider]:
    return service(model_id="model-a", fallback_provider="openai", **config)


def chat(chat_service: ChatService, message: str, **options: Any) -> ChatReply:
    return asyncio.run(chat_service.chat("s1", message, **options))


def test_a_question_asked_again_is_answered_from_the_cache(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    cached, primary, _ = service(model_id="model-a", semantic_cache=True)
    first = chat(cached, "Where is my order?")
    again = chat(cached, "where is my order")
    assert [model for model, _ in primary.calls] == ["model-a"], "the second answer came from the cache"
    assert again.reply == first.reply and again.usage == first.usage
    assert (first.cached, again.cached) == (False, True)
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.result") == {("miss",): 1, ("hit",): 1}
    assert kit.values("chatbot.cache.saved.tokens", "gen_ai.token.type", "gen_ai.request.model") == {
        ("input", "model-a"): 10,
        ("output", "model-a"): 3,
    }
    assert chat(cached, "hi", model="model-z").model == "model-z", "a turn that names its model skips the cache"
    assert chat(cached, "hi", provider="openai").provider == "openai", "so does one that names its provider"
    assert len(kit.points("chatbot.cache.lookups")) == 2


def test_handbook_answers_have_a_cache_of_their_own(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    cached, primary, _ = service(semantic_cache=True)
    chat(cached, "Where is my order?")
    chat(cached, "Where is my order?", handbook=True)  # other context: asked of the model
    chat(cached, "where is my order", handbook=True)  # the same context: from its cache
    assert len(primary.calls) == 2
    assert [prompt.context for prompt in primary.prompts] == [None, HANDBOOK]
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.result") == {("miss",): 2, ("hit",): 1}


def test_a_throttled_provider_fails_over_at_once_to_the_fallback_provider(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    chain, primary, backup = failing_over()
    primary.fail("model-a", THROTTLED)
    reply = chat(chain, "hello", handbook=True)
    assert (reply.provider, reply.model) == ("openai", "model-b")
    # The first candidate is called without client retries, the last one with them.
    assert (primary.calls, backup.calls) == ([("model-a", True)], [("model-b", False)])
    assert primary.prompts[0] == backup.prompts[0] and backup.prompts[0].context == HANDBOOK
    assert chat(chain, "again").provider == "bedrock"
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("served",): 2}
    assert kit.values("chatbot.failover.switches", "chatbot.failover.from", "chatbot.failover.to") == {
        ("aws.bedrock", "openai"): 1
    }
    assert kit.values("chatbot.failover.attempts", "gen_ai.provider.name", "chatbot.failover.outcome") == {
        ("aws.bedrock", "failed"): 1,
        ("aws.bedrock", "served"): 1,
        ("openai", "served"): 1,
    }
    assert len(kit.points("chatbot.failover.overhead")) == 1


def test_every_candidate_throttled_exhausts_the_chain_and_answers_the_last_error(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    chain, primary, backup = failing_over()
    primary.fail("model-a", THROTTLED)
    backup.fail("model-b", ("RateLimitError", 429))
    with pytest.raises(ProviderError) as caught:
        chat(chain, "hello")
    assert (caught.value.status, caught.value.code) == (429, "RateLimitError")
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("exhausted",): 1}
    (span,) = kit.finished("failover chat")
    assert span.attributes is not None and span.attributes["error.type"] == "ClientFailure"


def test_errors_of_the_request_do_not_fail_over_and_a_named_model_gets_no_chain(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    chain, primary, backup = failing_over()
    primary.fail("model-a", ("ValidationException", 400))
    with pytest.raises(ProviderError) as caught:
        chat(chain, "hello")
    assert caught.value.status == 400 and backup.calls == []
    primary.fail("example.no-such-model-v1:0", ("ValidationException", 400))
    with pytest.raises(ProviderError):
        chat(chain, "hello", model="example.no-such-model-v1:0")
    assert primary.calls[-1] == ("example.no-such-model-v1:0", False)
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("exhausted",): 1}


def test_a_provider_that_is_not_configured_is_the_requests_error() -> None:
    chat_service, _, _ = service()
    with pytest.raises(ProviderError) as caught:
        chat(chat_service, "hello", provider="ollama")
    assert (caught.value.status, caught.value.code) == (400, "ProviderNotConfigured")


def test_a_streamed_turn_is_kept_in_history_once_it_ends() -> None:
    chat_service, primary, _ = service()

    async def read() -> list[str]:
        turn, deltas = chat_service.stream("s1", "hi", provider="openai")
        texts = [delta.text async for delta in deltas if delta.text]
        assert turn.result().provider == "openai" and turn.usage.output_tokens == 2
        return texts

    assert asyncio.run(read()) == ["Hel", "lo"]
    assert [turn.text for turn in chat_service.history.turns("s1")] == ["hi", "Hello"]
    assert primary.calls == []
