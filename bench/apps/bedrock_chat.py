"""Chat endpoint that calls the local Bedrock-compatible server through boto3 (overhead benchmark).

``POST /chat`` validates a pydantic request, calls Bedrock ``Converse`` with a synchronous boto3
client in a worker thread (``starlette.concurrency.run_in_threadpool``, as a FastAPI app using
boto3 does) and returns the reply. ``BEDROCK_ENDPOINT_URL`` points the client at
``otel_chatbot/testing/bedrock``; credentials come from the environment (the benchmark sets fake ones).
The app knows nothing about telemetry; like ``bench/apps/minimal.py`` it counts the chat requests
it served and writes the count to ``BENCH_SERVED_FILE`` at lifespan shutdown.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import boto3
from botocore.config import Config
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from bench.apps.schemas import ChatRequest, ChatResponse
from bench.apps.served import Served

MODEL_ID = os.environ.get("BENCH_MODEL_ID", "us.anthropic.claude-3-5-haiku-20241022-v1:0")


def make_client() -> Any:
    """A bedrock-runtime client; the pool is sized for the default thread pool (40 threads)."""
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=os.environ.get("BEDROCK_ENDPOINT_URL") or None,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        config=Config(max_pool_connections=64, retries={"max_attempts": 1, "mode": "standard"}),
    )


def messages_for(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


served = Served()
_client: Any = None


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    global _client
    _client = make_client()
    yield
    served.write()


app = FastAPI(title="bench-bedrock-chat", lifespan=_lifespan)


@app.post("/chat", response_model=ChatResponse)
async def chat(request: ChatRequest) -> ChatResponse:
    served.count += 1
    out = await run_in_threadpool(
        _client.converse,
        modelId=MODEL_ID,
        messages=messages_for(request.message),
        inferenceConfig={"maxTokens": 256},
    )
    text = "".join(block.get("text", "") for block in out["output"]["message"]["content"])
    usage = out.get("usage", {})
    return ChatResponse(
        reply=text,
        conversation_id=request.conversation_id or "c-0",
        input_tokens=usage.get("inputTokens", 0),
        output_tokens=usage.get("outputTokens", 0),
    )
