"""What the routes do, independent of HTTP: one chat turn, one streamed turn, one agent call.

Blocking Bedrock calls run in worker threads (the request's context goes with them, so the
Bedrock spans nest under the request span); history is updated on the event loop.

A chat turn on the default model may be answered from the semantic cache
(``CHATBOT_SEMANTIC_CACHE``) and may fail over to a second model when the first is throttled
or unavailable (``CHATBOT_FALLBACK_MODEL_ID``); both are recorded with the distro's helpers
(``cache_lookup``, ``failover``), which record nothing when the app runs without the distro.
A turn that names its model gets that model, or its error. A handbook turn sends the shop
handbook with a Bedrock prompt-cache point (:mod:`otel_chatbot.demo.chatbot.handbook`) and
has a semantic cache of its own: its answers are grounded in other context.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from otel_chatbot import cache_lookup, failover
from otel_chatbot.demo.chatbot.bedrock import BedrockError, BedrockGateway, Completion, Delta
from otel_chatbot.demo.chatbot.cache import CachedAnswer, SemanticCache
from otel_chatbot.demo.chatbot.config import ChatbotConfig
from otel_chatbot.demo.chatbot.handbook import system_blocks
from otel_chatbot.demo.chatbot.history import ConversationStore
from otel_chatbot.demo.chatbot.schemas import AgentReply, ChatReply, Usage
from otel_chatbot.demo.chatbot.threads import iterate_in_thread


class SimulatedFailure(RuntimeError):
    """Raised on purpose by the failure route, so error telemetry can be seen and tested."""


BEDROCK = "aws.bedrock"
FAILOVER_STATUSES = frozenset({429, 503})
"""Throttled or unavailable: worth trying the next model; any other error is the request's."""


@dataclass
class StreamedTurn:
    """Accumulates a streamed answer; ``reply`` and ``usage`` are complete once the stream ends."""

    session_id: str
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
            model=self.model,
            reply=self.reply,
            stop_reason=self.stop_reason,
            usage=self.usage,
        )


class ChatService:
    def __init__(self, config: ChatbotConfig) -> None:
        self.config = config
        self.bedrock = BedrockGateway(config)
        self.history = ConversationStore(config.history_messages)
        self.cache = SemanticCache() if config.semantic_cache else None
        # A handbook answer is grounded in other context: it is never served for a plain question.
        self.handbook_cache = SemanticCache() if config.semantic_cache else None

    async def chat(self, session_id: str, message: str, model: str | None, handbook: bool = False) -> ChatReply:
        system = system_blocks(handbook)
        if model is not None:
            completion = await self._converse(model, session_id, message, system)
            return self._reply(session_id, message, model, completion)
        model_id = self.config.model_id
        cache = self.handbook_cache if handbook else self.cache
        cached = self._cached(cache, message, model_id)
        if cached is not None:
            completion = Completion(cached.reply, cached.stop_reason, cached.input_tokens, cached.output_tokens)
            return self._reply(session_id, message, model_id, completion)
        if self.config.fallback_model_id is None:
            completion = await self._converse(model_id, session_id, message, system)
        else:
            model_id, completion = await self._converse_with_failover(session_id, message, system)
        if cache is not None:
            answer = CachedAnswer(
                completion.text, completion.stop_reason, completion.input_tokens, completion.output_tokens
            )
            cache.store(message, answer)
        return self._reply(session_id, message, model_id, completion)

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

    async def _converse(
        self, model_id: str, session_id: str, message: str, system: list[dict[str, Any]]
    ) -> Completion:
        messages = self.history.bedrock_messages(session_id, message)
        return await run_in_threadpool(self.bedrock.converse, model_id, messages, system)

    async def _converse_with_failover(
        self, session_id: str, message: str, system: list[dict[str, Any]]
    ) -> tuple[str, Completion]:
        """The default model, then the fallback when the first is throttled or unavailable."""
        candidates = (self.config.model_id, self.config.fallback_model_id or self.config.model_id)
        with failover("chat") as chain:
            for index, model_id in enumerate(candidates):
                try:
                    with chain.attempt(provider=BEDROCK, model=model_id):
                        return model_id, await self._converse(model_id, session_id, message, system)
                except BedrockError as exc:
                    if exc.status not in FAILOVER_STATUSES or index == len(candidates) - 1:
                        raise
        raise AssertionError("unreachable: the last candidate returns or raises")

    def _reply(self, session_id: str, message: str, model_id: str, completion: Completion) -> ChatReply:
        self.history.add(session_id, message, completion.text)
        usage = Usage(input_tokens=completion.input_tokens, output_tokens=completion.output_tokens)
        return ChatReply(
            session_id=session_id,
            model=model_id,
            reply=completion.text,
            stop_reason=completion.stop_reason,
            usage=usage,
        )

    def stream(
        self, session_id: str, message: str, model: str | None, handbook: bool = False
    ) -> tuple[StreamedTurn, AsyncIterator[Delta]]:
        """Start a streamed turn; history is updated when the returned iterator is exhausted."""
        turn = StreamedTurn(session_id, model or self.config.model_id)
        messages = self.history.bedrock_messages(session_id, message)
        system = system_blocks(handbook)
        deltas = iterate_in_thread(
            lambda: self.bedrock.converse_stream(turn.model, messages, system), name="converse-stream"
        )

        async def recorded() -> AsyncIterator[Delta]:
            async for delta in deltas:
                turn.add(delta)
                yield delta
            self.history.add(session_id, message, turn.reply)

        return turn, recorded()

    async def ask_agent(self, session_id: str, message: str) -> AgentReply:
        completion = await run_in_threadpool(self.bedrock.invoke_agent, session_id, message)
        usage = Usage(input_tokens=completion.input_tokens, output_tokens=completion.output_tokens)
        return AgentReply(session_id=session_id, agent_id=self.config.agent_id, reply=completion.text, usage=usage)
