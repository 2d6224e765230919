"""SSE streaming chat endpoint over Bedrock ``ConverseStream`` (overhead benchmark).

``POST /chat`` validates a pydantic request, opens ``ConverseStream`` on the local
Bedrock-compatible server with a synchronous boto3 client in a worker thread
(``starlette.concurrency.run_in_threadpool``), and streams the reply as server-sent events
(``text/event-stream``): one ``delta`` event per text chunk, then a ``done`` event with the token
usage. Reading the event stream blocks, so it is iterated in worker threads too
(``iterate_in_threadpool``). The app knows nothing about telemetry; it counts the chat requests it
served and writes the count to ``BENCH_SERVED_FILE`` at lifespan shutdown.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from bench.apps.bedrock_chat import MODEL_ID, make_client, messages_for
from bench.apps.schemas import ChatRequest
from bench.apps.served import Served

served = Served()
_client: Any = None


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    global _client
    _client = make_client()
    yield
    served.write()


app = FastAPI(title="bench-sse-chat", lifespan=_lifespan)


def _sse(data: dict[str, Any], event: str) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _events(stream: Any, conversation_id: str) -> AsyncIterator[str]:
    usage: dict[str, Any] = {}
    async for event in iterate_in_threadpool(iter(stream)):
        if "contentBlockDelta" in event:
            text = event["contentBlockDelta"].get("delta", {}).get("text", "")
            if text:
                yield _sse({"text": text}, "delta")
        elif "metadata" in event:
            usage = event["metadata"].get("usage", {})
    yield _sse(
        {
            "conversation_id": conversation_id,
            "input_tokens": usage.get("inputTokens", 0),
            "output_tokens": usage.get("outputTokens", 0),
        },
        "done",
    )


@app.post("/chat")
async def chat(request: ChatRequest) -> StreamingResponse:
    served.count += 1
    out = await run_in_threadpool(
        _client.converse_stream,
        modelId=MODEL_ID,
        messages=messages_for(request.message),
        inferenceConfig={"maxTokens": 256},
    )
    return StreamingResponse(
        _events(out["stream"], request.conversation_id or "c-0"),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )
