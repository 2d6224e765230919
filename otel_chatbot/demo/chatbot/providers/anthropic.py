"""Anthropic's Messages API through the ``anthropic`` SDK (``AsyncAnthropic``), at the model's default temperature.

The handbook goes in its own system block with ``cache_control``: Anthropic writes the
prefix to its prompt cache and later turns read it. A streamed answer's usage comes in two
events (input in ``message_start``, output in ``message_delta``); the input tokens the app
reports include the cache reads and writes, as the GenAI convention counts them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, cast

import anthropic
from anthropic.types import MessageParam, TextBlockParam

from otel_chatbot.demo.chatbot.config import Endpoint
from otel_chatbot.demo.chatbot.providers.base import (
    MAX_TOKENS,
    ClientPair,
    Completion,
    Delta,
    Prompt,
    ProviderError,
    status_of_http,
)

RETRIES = 2
"""The SDK's own default, stated."""


def system_blocks(prompt: Prompt) -> list[TextBlockParam]:
    blocks: list[TextBlockParam] = [{"type": "text", "text": prompt.system}]
    if prompt.context is not None:
        blocks.append({"type": "text", "text": prompt.context, "cache_control": {"type": "ephemeral"}})
    return blocks


def messages_of(prompt: Prompt) -> list[MessageParam]:
    return cast("list[MessageParam]", [{"role": turn.role, "content": turn.text} for turn in prompt.turns])


def input_tokens(usage: Any) -> int:
    """Input as the convention counts it: uncached, cache reads and cache writes."""
    cached = (getattr(usage, "cache_read_input_tokens", None) or 0) + (
        getattr(usage, "cache_creation_input_tokens", None) or 0
    )
    return int(usage.input_tokens or 0) + cached


def translate(error: BaseException) -> ProviderError | None:
    if isinstance(error, anthropic.APIStatusError):
        return ProviderError(type(error).__name__, error.message, status_of_http(error.status_code))
    if isinstance(error, anthropic.APIError):  # no answer (connection, timeout) or an error event in a stream
        return ProviderError(type(error).__name__, error.message, 502)
    return None


def completion_of(message: Any) -> Completion:
    return Completion(
        text="".join(block.text for block in message.content if block.type == "text"),
        stop_reason=message.stop_reason,
        input_tokens=input_tokens(message.usage),
        output_tokens=int(message.usage.output_tokens or 0),
    )


def delta_of(event: Any, started: list[int]) -> Delta | None:
    """One SSE event as a delta; ``started`` keeps ``message_start``'s input count for the closing usage."""
    if event.type == "message_start":
        started[:] = [input_tokens(event.message.usage)]
    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
        return Delta(text=event.delta.text)
    elif event.type == "message_delta":
        return Delta(
            stop_reason=event.delta.stop_reason,
            input_tokens=started[0] if started else 0,
            output_tokens=int(event.usage.output_tokens or 0),
        )
    return None


class AnthropicProvider:
    name = "anthropic"
    system = "anthropic"

    def __init__(self, endpoint: Endpoint, model: str) -> None:
        self.endpoint = endpoint
        self.model = model
        self.clients: ClientPair[anthropic.AsyncAnthropic] = ClientPair("Anthropic")

    async def start(self) -> None:
        self.clients.open(
            anthropic.AsyncAnthropic(
                base_url=self.endpoint.base_url, api_key=self.endpoint.api_key, max_retries=RETRIES
            )
        )

    async def close(self) -> None:
        await self.clients.close()

    async def complete(self, model: str, prompt: Prompt, *, fail_fast: bool = False) -> Completion:
        message = await self.clients.get(fail_fast).messages.create(
            model=model,
            max_tokens=MAX_TOKENS,
            system=system_blocks(prompt),
            messages=messages_of(prompt),
        )
        return completion_of(message)

    async def stream(self, model: str, prompt: Prompt) -> AsyncGenerator[Delta, None]:
        stream = await self.clients.get().messages.create(
            model=model,
            max_tokens=MAX_TOKENS,
            system=system_blocks(prompt),
            messages=messages_of(prompt),
            stream=True,
        )
        started: list[int] = []
        try:
            async for event in stream:
                delta = delta_of(event, started)
                if delta is not None:
                    yield delta
        finally:
            await stream.close()

    def translate(self, error: BaseException) -> ProviderError | None:
        return translate(error)
