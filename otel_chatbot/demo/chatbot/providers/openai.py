"""OpenAI, or any OpenAI-compatible server (vLLM, LiteLLM, Ollama's ``/v1/``), through the ``openai`` SDK.

``AsyncOpenAI`` on the app's event loop: Chat Completions, streamed with
``stream_options={"include_usage": True}`` so a streamed answer reports its tokens too. The
SDK retries 429 and 5xx itself (:data:`RETRIES`); the fail-fast client (``with_options``, the
same connection pool) does not, for a failover chain's first candidate.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from otel_chatbot.demo.chatbot.config import Endpoint
from otel_chatbot.demo.chatbot.providers.base import (
    MAX_TOKENS,
    TEMPERATURE,
    ClientPair,
    Completion,
    Delta,
    Prompt,
    ProviderError,
    status_of_http,
)

RETRIES = 2
"""The SDK's own default, stated: a load that throttles the last candidate of a chain needs 1 + this."""


def chat_messages(prompt: Prompt) -> list[ChatCompletionMessageParam]:
    """Chat Completions ``messages``: the system prompt (with the context after it), then the turns.

    OpenAI caches a long prefix by itself (from 1,024 tokens), so the context needs no marker.
    """
    system = prompt.system if prompt.context is None else f"{prompt.system}\n\n{prompt.context}"
    messages = [{"role": "system", "content": system}, *({"role": t.role, "content": t.text} for t in prompt.turns)]
    return cast("list[ChatCompletionMessageParam]", messages)


def translate(error: BaseException) -> ProviderError | None:
    if isinstance(error, openai.APIStatusError):
        return ProviderError(type(error).__name__, error.message, status_of_http(error.status_code))
    if isinstance(error, openai.APIError):  # no answer (connection, timeout) or an error event in a stream
        return ProviderError(type(error).__name__, error.message, 502)
    return None


def completion_of(response: Any) -> Completion:
    choice = response.choices[0] if response.choices else None
    usage = response.usage
    return Completion(
        text=(choice.message.content or "") if choice is not None else "",
        stop_reason=choice.finish_reason if choice is not None else None,
        input_tokens=usage.prompt_tokens if usage else 0,
        output_tokens=usage.completion_tokens if usage else 0,
    )


def deltas_of(chunk: Any) -> list[Delta]:
    """The deltas of one ``chat.completion.chunk``: text, a finish reason, the closing usage."""
    deltas = []
    for choice in chunk.choices:
        if choice.delta is not None and choice.delta.content:
            deltas.append(Delta(text=choice.delta.content))
        if choice.finish_reason is not None:
            deltas.append(Delta(stop_reason=choice.finish_reason))
    if chunk.usage is not None:
        deltas.append(Delta(input_tokens=chunk.usage.prompt_tokens, output_tokens=chunk.usage.completion_tokens))
    return deltas


class OpenAIProvider:
    name = "openai"
    system = "openai"

    def __init__(self, endpoint: Endpoint, model: str) -> None:
        self.endpoint = endpoint
        self.model = model
        self.clients: ClientPair[openai.AsyncOpenAI] = ClientPair("OpenAI")

    async def start(self) -> None:
        self.clients.open(
            openai.AsyncOpenAI(base_url=self.endpoint.base_url, api_key=self.endpoint.api_key, max_retries=RETRIES)
        )

    async def close(self) -> None:
        await self.clients.close()

    async def complete(self, model: str, prompt: Prompt, *, fail_fast: bool = False) -> Completion:
        response = await self.clients.get(fail_fast).chat.completions.create(
            model=model,
            messages=chat_messages(prompt),
            max_completion_tokens=MAX_TOKENS,
            temperature=TEMPERATURE,
        )
        return completion_of(response)

    async def stream(self, model: str, prompt: Prompt) -> AsyncGenerator[Delta, None]:
        stream = await self.clients.get().chat.completions.create(
            model=model,
            messages=chat_messages(prompt),
            max_completion_tokens=MAX_TOKENS,
            temperature=TEMPERATURE,
            stream=True,
            stream_options={"include_usage": True},
        )
        try:
            async for chunk in stream:
                for delta in deltas_of(chunk):
                    yield delta
        finally:
            await stream.close()

    def translate(self, error: BaseException) -> ProviderError | None:
        return translate(error)
