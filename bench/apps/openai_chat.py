"""Chat endpoint that calls the local OpenAI-compatible server through the ``openai`` SDK (overhead benchmark).

``POST /chat`` validates a pydantic request and awaits ``chat.completions.create`` on one
``openai.AsyncOpenAI`` client made at start-up: what a FastAPI app using the SDK does (the async
client on the app's own loop; no thread pool). ``OPENAI_BASE_URL`` points it at
``otel_chatbot/testing/openai`` (``OPENAI_API_KEY``: any, the stand-in checks nothing); the SDK's
retries are off so a failure shows as an error, not as latency. The ``openai-stream`` scenario's
app, ``bench/apps/openai_stream.py``, relays the streamed completion instead. The app knows
nothing about telemetry; like the other apps it counts the chat requests it served and writes
the count to ``BENCH_SERVED_FILE`` at lifespan shutdown.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import openai
from fastapi import FastAPI

from bench.apps.schemas import ChatRequest, ChatResponse
from bench.apps.served import Served

MODEL = os.environ.get("BENCH_OPENAI_MODEL", "gpt-4o-mini")
MAX_TOKENS = 256


def make_client() -> openai.AsyncOpenAI:
    """From ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``, as the SDK reads them (its default pool: 1000 connections)."""
    return openai.AsyncOpenAI(max_retries=0)


def messages_for(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


served = Served()
client: openai.AsyncOpenAI | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global client
    client = make_client()
    yield
    await client.close()
    served.write()


app = FastAPI(title="bench-openai-chat", lifespan=lifespan)


@app.post("/chat", response_model=ChatResponse)
async def chat(request: ChatRequest) -> ChatResponse:
    served.count += 1
    assert client is not None
    out = await client.chat.completions.create(
        model=MODEL, messages=messages_for(request.message), max_tokens=MAX_TOKENS
    )
    usage = out.usage
    return ChatResponse(
        reply=out.choices[0].message.content or "",
        conversation_id=request.conversation_id or "c-0",
        input_tokens=usage.prompt_tokens if usage else 0,
        output_tokens=usage.completion_tokens if usage else 0,
    )
