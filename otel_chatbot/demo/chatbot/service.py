"""What the routes do, independent of HTTP: one chat turn, one streamed turn, one agent call.

A turn goes to a provider (:mod:`otel_chatbot.demo.chatbot.providers`): the one it names, or
the default (``CHATBOT_PROVIDER``). A turn that names neither provider nor model is the
app's default path: it may be answered from the semantic cache (``CHATBOT_SEMANTIC_CACHE``)
and may fail over to a second provider and model when the first throttles or is
unavailable (``CHATBOT_FALLBACK_PROVIDER`` / ``CHATBOT_FALLBACK_MODEL_ID``); both are
recorded with the distro's helpers (``cache_lookup``, ``failover``), which record nothing
when the app runs without the distro. The chain calls every candidate but the last without
client retries: a throttled provider answers at once and the next one is asked. A turn that
names its provider or model gets it, or its error. A handbook turn sends the shop handbook
as cacheable context (:mod:`otel_chatbot.demo.chatbot.handbook`) and has a semantic cache of
its own: its answers are grounded in other context. History is updated on the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from otel_chatbot import cache_lookup, failover
from otel_chatbot.demo.chatbot.cache import CachedAnswer, SemanticCache
from otel_chatbot.demo.chatbot.config import ChatbotConfig, ProviderName
from otel_chatbot.demo.chatbot.handbook import HANDBOOK, SYSTEM_PROMPT
from otel_chatbot.demo.chatbot.history import ConversationStore
from otel_chatbot.demo.chatbot.providers import (
    ChatProvider,
    Completion,
    Delta,
    Prompt,
    ProviderError,
    create_providers,
)
from otel_chatbot.demo.chatbot.providers.base import translated
from otel_chatbot.demo.chatbot.providers.bedrock import BedrockGateway
from otel_chatbot.demo.chatbot.providers.bedrock import translate as translate_bedrock
from otel_chatbot.demo.chatbot.schemas import AgentReply, ChatReply, Turn, Usage


class SimulatedFailure(RuntimeError):
    """Raised on purpose by the failure route, so error telemetry can be seen and tested."""


FAILOVER_STATUSES = frozenset({429, 503})
"""Throttled or unavailable: worth trying the next candidate; any other error is the request's."""


@dataclass
class StreamedTurn:
    """Accumulates a streamed answer; ``reply`` and ``usage`` are complete once the stream ends."""

    session_id: str
    provider: str
    model: str
    parts: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)

    def add(self, delta: Delta) -> None:
        if delta.text:
            self.parts.append(delta.text)
        if delta.stop_reason is not None:
            self.stop_reason = delta.stop_reason
        if delta.input_tokens is not None:
            self.usage = Usage(input_tokens=delta.input_tokens, output_tokens=delta.output_tokens or 0)

    @property
    def reply(self) -> str:
        return "".join(self.parts)

    def result(self) -> ChatReply:
        return ChatReply(
            session_id=self.session_id,
            provider=self.provider,
            model=self.model,
            reply=self.reply,
            stop_reason=self.stop_reason,
            usage=self.usage,
        )


async def complete(provider: ChatProvider, model: str, prompt: Prompt, fail_fast: bool = False) -> Completion:
    """``provider.complete`` with its client's errors translated into the API's."""
    with translated(provider.translate):
        return await provider.complete(model, prompt, fail_fast=fail_fast)


class ChatService:
    def __init__(self, config: ChatbotConfig) -> None:
        self.config = config
        self.bedrock = BedrockGateway(config)
        self.providers = create_providers(config, self.bedrock)
        self.history = ConversationStore(config.history_messages)
        self.cache = SemanticCache() if config.semantic_cache else None
        # A handbook answer is grounded in other context: it is never served for a plain question.
        self.handbook_cache = SemanticCache() if config.semantic_cache else None

    async def start(self) -> None:
        """Create every provider's clients (at start-up, after instrumentation is in place)."""
        for provider in self.providers.values():
            await provider.start()

    async def close(self) -> None:
        for provider in self.providers.values():
            await provider.close()

    def provider(self, name: ProviderName | None = None) -> ChatProvider:
        chosen = self.providers.get(name or self.config.provider)
        if chosen is None:
            raise ProviderError("ProviderNotConfigured", f"the {name} provider is not configured", 400)
        return chosen

    def candidates(self) -> list[tuple[ChatProvider, str]]:
        """The default path's providers and models, in order: the default, then the fallback."""
        default = self.provider()
        chain = [(default, default.model)]
        if self.config.fallback is not None:
            fallback = self.provider(self.config.fallback[0])
            chain.append((fallback, self.config.fallback_model_id or fallback.model))
        return chain

    def _prompt(self, session_id: str, message: str, handbook: bool) -> Prompt:
        turns = [*self.history.turns(session_id), Turn(role="user", text=message)]
        return Prompt(SYSTEM_PROMPT, turns, HANDBOOK if handbook else None)

    async def chat(
        self,
        session_id: str,
        message: str,
        model: str | None = None,
        handbook: bool = False,
        provider: ProviderName | None = None,
    ) -> ChatReply:
        prompt = self._prompt(session_id, message, handbook)
        if model is not None or provider is not None:
            chosen = self.provider(provider)
            model = model or chosen.model
            completion = await complete(chosen, model, prompt)
            return self._reply(session_id, message, chosen, model, completion)
        candidates = self.candidates()
        first, first_model = candidates[0]
        cache = self.handbook_cache if handbook else self.cache
        cached = self._cached(cache, message, first_model)
        if cached is not None:
            completion = Completion(cached.reply, cached.stop_reason, cached.input_tokens, cached.output_tokens)
            return self._reply(session_id, message, first, first_model, completion, cached=True)
        if len(candidates) == 1:
            chosen, model, completion = first, first_model, await complete(first, first_model, prompt)
        else:
            chosen, model, completion = await self._complete_with_failover(candidates, prompt)
        if cache is not None:
            answer = CachedAnswer(
                completion.text, completion.stop_reason, completion.input_tokens, completion.output_tokens
            )
            cache.store(message, answer)
        return self._reply(session_id, message, chosen, model, completion)

    @staticmethod
    def _cached(cache: SemanticCache | None, message: str, model_id: str) -> CachedAnswer | None:
        if cache is None:
            return None
        with cache_lookup("semantic", model=model_id) as lookup:
            found, similarity = cache.lookup(message)
            if found is not None:
                lookup.hit(similarity=similarity, input_tokens=found.input_tokens, output_tokens=found.output_tokens)
            else:
                lookup.miss(similarity=similarity)
        return found

    @staticmethod
    async def _complete_with_failover(
        candidates: list[tuple[ChatProvider, str]], prompt: Prompt
    ) -> tuple[ChatProvider, str, Completion]:
        """Each candidate in turn while they throttle or are unavailable; the last one's error otherwise.

        The provider's own exception crosses the attempt (its ``error.type`` is what the helpers
        record); the chain ends normally when exhausted, and the translated error is raised after it.
        """
        failure: tuple[ProviderError, BaseException] | None = None
        with failover("chat") as chain:
            for index, (provider, model) in enumerate(candidates):
                last = index == len(candidates) - 1
                try:
                    with chain.attempt(provider=provider.system, model=model):
                        completion = await provider.complete(model, prompt, fail_fast=not last)
                    return provider, model, completion
                except Exception as exc:
                    error = provider.translate(exc)
                    if error is None:
                        raise
                    failure = (error, exc)
                    if error.status not in FAILOVER_STATUSES:
                        break
        assert failure is not None, "a chain that was not served has a failure"
        raise failure[0] from failure[1]

    def _reply(
        self,
        session_id: str,
        message: str,
        provider: ChatProvider,
        model: str,
        completion: Completion,
        cached: bool = False,
    ) -> ChatReply:
        self.history.add(session_id, message, completion.text)
        usage = Usage(input_tokens=completion.input_tokens, output_tokens=completion.output_tokens)
        return ChatReply(
            session_id=session_id,
            provider=provider.name,
            model=model,
            reply=completion.text,
            stop_reason=completion.stop_reason,
            usage=usage,
            cached=cached,
        )

    def stream(
        self,
        session_id: str,
        message: str,
        model: str | None = None,
        handbook: bool = False,
        provider: ProviderName | None = None,
    ) -> tuple[StreamedTurn, AsyncGenerator[Delta, None]]:
        """Start a streamed turn; history is updated when the returned iterator is exhausted.

        Closing the iterator early (the client left) closes the provider's stream at once.
        """
        chosen = self.provider(provider)
        turn = StreamedTurn(session_id, chosen.name, model or chosen.model)
        prompt = self._prompt(session_id, message, handbook)

        async def recorded() -> AsyncGenerator[Delta, None]:
            with translated(chosen.translate):
                async with aclosing(chosen.stream(turn.model, prompt)) as deltas:
                    async for delta in deltas:
                        turn.add(delta)
                        yield delta
            self.history.add(session_id, message, turn.reply)

        return turn, recorded()

    async def ask_agent(self, session_id: str, message: str) -> AgentReply:
        with translated(translate_bedrock):
            completion = await run_in_threadpool(self.bedrock.invoke_agent, session_id, message)
        usage = Usage(input_tokens=completion.input_tokens, output_tokens=completion.output_tokens)
        return AgentReply(session_id=session_id, agent_id=self.config.agent_id, reply=completion.text, usage=usage)
