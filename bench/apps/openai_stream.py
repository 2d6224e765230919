"""SSE streaming chat endpoint over the ``openai`` SDK's streamed Chat Completions (overhead benchmark).

``POST /chat`` validates a pydantic request, opens ``chat.completions.create(stream=True,
stream_options={"include_usage": True})`` on the local OpenAI-compatible server with the app's
``openai.AsyncOpenAI`` client and relays the reply as server-sent events (``text/event-stream``):
one ``delta`` event per text chunk, then a ``done`` event with the token usage of the final chunk.
The app knows nothing about telemetry; it counts the chat requests it served and writes the count
to ``BENCH_SERVED_FILE`` at lifespan shutdown.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from bench.apps import openai_chat
from bench.apps.openai_chat import MAX_TOKENS, MODEL, messages_for
from bench.apps.schemas import ChatRequest

app = FastAPI(title="bench-openai-stream", lifespan=openai_chat.lifespan)


def _sse(data: dict[str, Any], event: str) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _events(stream: Any, conversation_id: str) -> AsyncIterator[str]:
    usage: Any = None
    async with stream:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                yield _sse({"text": chunk.choices[0].delta.content}, "delta")
            if chunk.usage is not None:
                usage = chunk.usage
    yield _sse(
        {
            "conversation_id": conversation_id,
            "input_tokens": usage.prompt_tokens if usage else 0,
            "output_tokens": usage.completion_tokens if usage else 0,
        },
        "done",
    )


@app.post("/chat")
async def chat(request: ChatRequest) -> StreamingResponse:
    openai_chat.served.count += 1
    assert openai_chat.client is not None
    stream = await openai_chat.client.chat.completions.create(
        model=MODEL,
        messages=messages_for(request.message),
        max_tokens=MAX_TOKENS,
        stream=True,
        stream_options={"include_usage": True},
    )
    return StreamingResponse(
        _events(stream, request.conversation_id or "c-0"),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )
