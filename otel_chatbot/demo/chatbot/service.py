"""What the routes do, independent of HTTP: one chat turn, one streamed turn, one agent call.

Blocking Bedrock calls run in worker threads (the request's context goes with them, so the
Bedrock spans nest under the request span); history is updated on the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from otel_chatbot.demo.chatbot.bedrock import BedrockGateway, Delta
from otel_chatbot.demo.chatbot.config import ChatbotConfig
from otel_chatbot.demo.chatbot.handbook import system_blocks
from otel_chatbot.demo.chatbot.history import ConversationStore
from otel_chatbot.demo.chatbot.schemas import AgentReply, ChatReply, Usage
from otel_chatbot.demo.chatbot.threads import iterate_in_thread


class SimulatedFailure(RuntimeError):
    """Raised on purpose by the failure route, so error telemetry can be seen and tested."""


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

    async def chat(self, session_id: str, message: str, model: str | None, handbook: bool = False) -> ChatReply:
        model_id = model or self.config.model_id
        messages = self.history.bedrock_messages(session_id, message)
        completion = await run_in_threadpool(self.bedrock.converse, model_id, messages, system_blocks(handbook))
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
