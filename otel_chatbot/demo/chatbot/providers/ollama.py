"""Ollama's native chat API (``POST /api/chat``) through plain ``httpx``; streams are NDJSON lines.

No ``ollama`` package: it is a thin httpx wrapper, and the two calls here read the same JSON
it would (``message.content``, ``done_reason``, ``prompt_eval_count``, ``eval_count``). Errors
come as ``{"error": "..."}`` with the status, or as such a line inside a stream; both raise
:class:`OllamaError`, as the ``ollama`` package's ``ResponseError`` does. No retries (httpx
has none), so ``fail_fast`` changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from otel_chatbot.demo.chatbot.config import Endpoint
from otel_chatbot.demo.chatbot.providers.base import (
    MAX_TOKENS,
    TEMPERATURE,
    Completion,
    Delta,
    Prompt,
    ProviderError,
    status_of_http,
)

TIMEOUT = httpx.Timeout(60.0, connect=5.0)


class OllamaError(Exception):
    """An error answer of the Ollama server (status, and its ``error`` message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def request_body(model: str, prompt: Prompt, stream: bool) -> dict[str, Any]:
    system = prompt.system if prompt.context is None else f"{prompt.system}\n\n{prompt.context}"
    messages = [{"role": "system", "content": system}, *({"role": t.role, "content": t.text} for t in prompt.turns)]
    options = {"num_predict": MAX_TOKENS, "temperature": TEMPERATURE}
    return {"model": model, "messages": messages, "stream": stream, "options": options}


def error_message(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:200]
    return str(document.get("error")) if isinstance(document, dict) and "error" in document else str(document)[:200]


def completion_of(document: dict[str, Any]) -> Completion:
    return Completion(
        text=str((document.get("message") or {}).get("content") or ""),
        stop_reason=document.get("done_reason"),
        input_tokens=int(document.get("prompt_eval_count") or 0),
        output_tokens=int(document.get("eval_count") or 0),
    )


def deltas_of(line: str) -> list[Delta]:
    """One NDJSON line: a piece of text, or the last object's stop reason and counts."""
    if not line.strip():
        return []
    document = json.loads(line)
    if "error" in document:
        raise OllamaError(200, str(document["error"]))  # mid-stream: the status line was 200
    if not document.get("done"):
        text = (document.get("message") or {}).get("content") or ""
        return [Delta(text=text)] if text else []
    last = completion_of(document)
    return [
        Delta(stop_reason=last.stop_reason),
        Delta(input_tokens=last.input_tokens, output_tokens=last.output_tokens),
    ]


def translate(error: BaseException) -> ProviderError | None:
    if isinstance(error, OllamaError):
        status = 502 if error.status < 400 else status_of_http(error.status)
        return ProviderError("OllamaError", error.message, status)
    if isinstance(error, httpx.HTTPError):  # no answer: connection refused, timeout, a cut stream
        return ProviderError(type(error).__name__, str(error) or type(error).__name__, 502)
    if isinstance(error, ValueError):  # a body that is not Ollama's JSON
        return ProviderError("MalformedResponse", str(error), 502)
    return None


class OllamaProvider:
    name = "ollama"
    system = "ollama"

    def __init__(self, endpoint: Endpoint, model: str) -> None:
        if endpoint.base_url is None:
            raise ValueError("the Ollama provider needs a base URL (OLLAMA_HOST)")
        self.base_url = endpoint.base_url
        self.model = model
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=TIMEOUT)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("the Ollama provider is not started (the app's lifespan starts it)")
        return self._client

    async def complete(self, model: str, prompt: Prompt, *, fail_fast: bool = False) -> Completion:
        response = await self._http().post("/api/chat", json=request_body(model, prompt, stream=False))
        if response.status_code >= 400:
            raise OllamaError(response.status_code, error_message(response.content))
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("Ollama answered JSON that is not an object")
        return completion_of(document)

    async def stream(self, model: str, prompt: Prompt) -> AsyncGenerator[Delta, None]:
        async with self._http().stream("POST", "/api/chat", json=request_body(model, prompt, stream=True)) as response:
            if response.status_code >= 400:
                raise OllamaError(response.status_code, error_message(await response.aread()))
            async for line in response.aiter_lines():
                for delta in deltas_of(line):
                    yield delta

    def translate(self, error: BaseException) -> ProviderError | None:
        return translate(error)
