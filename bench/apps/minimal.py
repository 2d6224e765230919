"""Minimal chat endpoint for the overhead benchmark.

Pydantic request and response models and one ``await``: what every chat endpoint has,
with none of the work a real one does, so the telemetry's own cost shows.
The app knows nothing about telemetry; ``bench/overhead.py`` runs it bare, under stock
``opentelemetry-instrument`` and under otel_chatbot.

The handler counts the chat requests it served (one integer increment) and, when
``BENCH_SERVED_FILE`` is set, writes that count there at lifespan shutdown, so the
benchmark can compare the telemetry the receiver got with the requests actually served.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from bench.apps.schemas import ChatRequest
from bench.apps.served import Served


class ChatResponse(BaseModel):
    reply: str
    conversation_id: str


served = Served()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    served.write()


app = FastAPI(title="bench-minimal-chat", lifespan=_lifespan)


@app.post("/chat", response_model=ChatResponse)
async def chat(request: ChatRequest) -> ChatResponse:
    served.count += 1
    await asyncio.sleep(0)
    return ChatResponse(reply=f"echo: {request.message}", conversation_id=request.conversation_id or "c-0")
