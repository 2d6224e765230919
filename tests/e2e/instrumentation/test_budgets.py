"""Memory and metric series stay bounded over 10^5 unique paths, sessions (conversation ids) and models.

One configuration as ``configure()`` builds it (spans made and dropped: no exporter, so
only the instrumentation's own memory is measured; the export queue has its own bound),
metrics in an in-memory reader. Each of 10^5 iterations sends one request with a path,
query, request id and conversation id never seen before (half to a route, half to no
route) through the instrumented ASGI app, and makes one OpenAI call with a model id never
seen before through the HTTP clients' instrumentation (``ClientTelemetry``, which the
httpx and aiohttp adapters call). Memory is measured with ``tracemalloc`` over the last
4,000 iterations (after the bounded structures are full: the answers remembered for
feedback, the caches) and with the interpreter's block count over the 9.3·10^4 before.
A second test sends a few hundred distinct models through the real clients (httpx,
botocore) to show they fold the same way.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from otel_chatbot.instrumentation.genai.answers import AnswerMemory
from tests.canned_http import Answer, canned_client
from tests.configured import Distro

pytestmark = pytest.mark.e2e

UNIQUE = 100_000
ANSWERS_KEPT = 1_000
"""The feedback memory's bound for this test (10,000 by default): a smaller one is full sooner."""
WARM_UP = 2_000
"""Iterations before measuring: past the answers kept, so every bounded structure is full."""
TRACED = 5_000
"""Iterations traced by ``tracemalloc``, at the end. Its first ``ANSWERS_KEPT`` replace the answers
remembered before tracing began (freeing what was allocated untraced is invisible to it)."""
TRACED_BLOCKS_LIMIT = 200
"""Traced memory blocks the last 4,000 iterations may leave behind: a leak of one object per value leaves 4,000."""
TRACED_BYTES_LIMIT = 256 * 1024
"""Traced bytes they may leave behind. Measured: ~1 KB, or ~105 KB when the bounded answer memory's
dictionary happens to re-allocate its table inside the window (its old table was allocated before
tracing began, so freeing it does not count): 2 blocks, not one per value."""
BLOCK_GROWTH_LIMIT = 20_000
"""Memory blocks (``sys.getallocatedblocks``) the 93,000 iterations before may leave behind; measured: under 100."""
MAX_MODELS = 100


CONVERSE_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
}


def chat_completion(model: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }
    ).encode()


async def _chat(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _app() -> Starlette:
    return Starlette(routes=[Route("/chat/{session_id}", _chat, methods=["POST"])])


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"{}", "more_body": False}


def _request(app: Any, n: int, statuses: Counter[int]) -> Any:
    path = f"/chat/session-{n}" if n % 2 else f"/nowhere/{n}/page"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": f"q={n}".encode(),
        "root_path": "",
        "headers": [
            (b"host", b"chatbot.example"),
            (b"x-conversation-id", f"conversation-{n}".encode()),
            (b"x-request-id", f"request-{n}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] += 1

    return app(scope, _receive, send)


def _genai_call(client: Any, n: int) -> None:
    model = f"user-model-{n}"
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    call = client.start(
        "POST", "https://api.openai.com/v1/chat/completions", {}, {"content-type": "application/json"}, lambda: body
    )
    observer = call.respond(200, "1.1", {"content-type": "application/json"})
    observer.feed(chat_completion(model))
    observer.complete()


def test_memory_and_series_stay_bounded_over_100k_unique_paths_sessions_and_models() -> None:
    configuration = Distro(conversation_id_sources="header:x-conversation-id", max_models=MAX_MODELS)
    configuration.instrumentations.answers = AnswerMemory(ANSWERS_KEPT)
    app = _app()
    configuration.instrumentations.instrument_app(app)
    client = configuration.instrumentations._client_telemetry("httpx")  # what the httpx adapter calls
    statuses: Counter[int] = Counter()

    async def run(first: int, last: int) -> None:
        for n in range(first, last):
            await _request(app, n, statuses)
            _genai_call(client, n)

    try:
        asyncio.run(run(0, WARM_UP))
        gc.collect()
        blocks = sys.getallocatedblocks()
        asyncio.run(run(WARM_UP, UNIQUE - TRACED))
        gc.collect()
        block_growth = sys.getallocatedblocks() - blocks
        tracemalloc.start()
        try:
            asyncio.run(run(UNIQUE - TRACED, UNIQUE - TRACED + ANSWERS_KEPT))
            gc.collect()
            before = tracemalloc.take_snapshot()
            asyncio.run(run(UNIQUE - TRACED + ANSWERS_KEPT, UNIQUE))
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        traced_blocks = len(after.traces) - len(before.traces)
        traced_bytes = sum(t.size for t in after.traces) - sum(t.size for t in before.traces)
        series = configuration.series()
        assert statuses == {200: UNIQUE // 2, 404: UNIQUE // 2}
        measured = TRACED - ANSWERS_KEPT
        print(f"\nblocks +{block_growth} over {UNIQUE - TRACED - WARM_UP} iterations; traced +{traced_blocks} blocks, "
              f"+{traced_bytes} B over {measured}; series per metric: {series}")  # fmt: skip
        assert block_growth < BLOCK_GROWTH_LIMIT
        assert traced_blocks < TRACED_BLOCKS_LIMIT
        assert traced_bytes < TRACED_BYTES_LIMIT
        # Paths, queries and conversation ids are never metric attributes: one route, one unmatched.
        assert series["http.server.request.duration"] == 2
        assert series["http.client.request.duration"] == 1
        models = {
            p.attributes.get("gen_ai.request.model") for p in configuration.points("gen_ai.client.operation.duration")
        }
        assert len(models) == MAX_MODELS + 1 and "_OTHER" in models
        assert series["gen_ai.client.token.usage"] == 2 * (MAX_MODELS + 1)
        assert max(series.values()) <= 2 * (MAX_MODELS + 1)
    finally:
        configuration.revert()


def _httpx_calls(models: list[str]) -> None:
    def answer(request: Any) -> Answer:
        model = json.loads(b"".join(request.stream))["model"]
        return 200, [(b"content-type", b"application/json")], [chat_completion(model)]

    with canned_client(answer) as client:
        for model in models:
            body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
            client.post("https://api.openai.com/v1/chat/completions", json=body).read()


def _bedrock_calls(models: list[str]) -> None:
    from tests.unit.instrumentation.aws_stub import aws_client, stubbed

    client = aws_client("bedrock-runtime")
    with stubbed(client) as stub:
        for model in models:
            stub.json(CONVERSE_ANSWER)
            client.converse(modelId=model, messages=[{"role": "user", "content": [{"text": "hi"}]}])


@pytest.mark.parametrize("calls", [_httpx_calls, _bedrock_calls], ids=["httpx", "botocore"])
def test_the_real_clients_fold_models_past_the_budget(calls: Callable[[list[str]], None]) -> None:
    configuration = Distro(max_models=20).apply_libraries()
    try:
        calls([f"user-model-{n}" for n in range(300)])
        points = configuration.points("gen_ai.client.operation.duration")
        models = {p.attributes.get("gen_ai.request.model") for p in points}
        assert len(models) == 20 + 1 and "_OTHER" in models
        assert sum(p.count for p in points) == 300
    finally:
        configuration.revert()
