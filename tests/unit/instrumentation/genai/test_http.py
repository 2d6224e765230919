"""GenAI calls over plain HTTP, fast: real httpx / httpx2 / aiohttp clients against a scripted server in this process.

Each call is one CLIENT span, named and attributed as the GenAI convention says, ending when
the app has read (or dropped) the body; its GenAI metrics are recorded once. What the app
reads is byte-for-byte what an uninstrumented client reads.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import httpx2
import pytest

from tests.unit.instrumentation.scripted_server import (
    Reply,
    ScriptedServer,
    json_reply,
    ndjson_reply,
    scripted_server,
    sse_reply,
)

MODEL = "gpt-4o-mini"
SNAPSHOT = "gpt-4o-mini-2024-07-18"
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": SNAPSHOT,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1300, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 1280}},
}
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Hi, I am bob@example.com"}]}


def chunk(
    delta: dict[str, Any] | None, finish: str | None = None, usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "chatcmpl-2",
        "object": "chat.completion.chunk",
        "model": SNAPSHOT,
        "choices": choices,
        "usage": usage,
    }


STREAM = [
    (None, chunk({"role": "assistant", "content": ""})),
    (None, chunk({"content": "Hel"})),
    (None, chunk({"content": "lo"})),
    (None, chunk({}, "stop")),
    (None, chunk(None, usage={"prompt_tokens": 12, "completion_tokens": 2})),
    (None, "[DONE]"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as srv:
        yield srv


@pytest.fixture
def kit(kit_factory: Any, server: ScriptedServer) -> Any:
    server.replies.clear()
    kit = kit_factory(capture_message_content=True)
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    return kit


def genai_span(kit: Any) -> Any:
    (span,) = kit.finished()
    return span


def points(kit: Any, metric: str) -> dict[str, float]:
    return {p.attributes.get("gen_ai.token.type", ""): p.sum for p in kit.points(metric)}


def test_a_chat_completion_is_one_span_both_http_and_genai(kit: Any, server: ScriptedServer) -> None:
    server.queue(json_reply(COMPLETION))
    with httpx.Client() as client:
        response = client.post(f"{server.url}/v1/chat/completions", json=CHAT)
    assert response.json() == COMPLETION
    span = genai_span(kit)
    assert span.name == f"chat {MODEL}"
    assert span.kind.name == "CLIENT"
    attrs = dict(span.attributes)
    assert attrs["http.request.method"] == "POST"
    assert attrs["http.response.status_code"] == 200
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == MODEL
    assert attrs["gen_ai.response.model"] == SNAPSHOT
    assert attrs["gen_ai.response.id"] == "chatcmpl-1"
    assert attrs["gen_ai.usage.input_tokens"] == 1300
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 1280
    assert attrs["gen_ai.usage.cost"] == pytest.approx((20 * 0.15 + 1280 * 0.075 + 2 * 0.6) / 1e6)
    assert "bob@example.com" not in attrs["gen_ai.input.messages"]  # captured, redacted
    assert json.loads(attrs["gen_ai.output.messages"])[0]["parts"] == [{"type": "text", "content": "Hello!"}]
    assert points(kit, "gen_ai.client.token.usage") == {"input": 1300, "output": 2}
    (duration,) = kit.points("gen_ai.client.operation.duration")
    assert duration.count == 1 and duration.attributes["gen_ai.provider.name"] == "openai"
    (http_duration,) = kit.points("http.client.request.duration")
    assert http_duration.count == 1


def test_a_stream_through_httpx2_ends_its_span_when_read_to_the_end(kit: Any, server: ScriptedServer) -> None:
    server.queue(sse_reply(STREAM, pause_s=0.05))

    async def run() -> list[str]:
        async with httpx2.AsyncClient() as client:
            body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
            async with client.stream("POST", f"{server.url}/v1/chat/completions", json=body) as response:
                assert kit.finished() == [], "the span waits for the body"
                return [line async for line in response.aiter_lines()]

    lines = asyncio.run(run())
    assert lines[-2] == "data: [DONE]"
    span = genai_span(kit)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] == 2
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0.05
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert json.loads(span.attributes["gen_ai.output.messages"])[0]["parts"][0]["content"] == "Hello"
    (ttfc,) = kit.points("gen_ai.client.operation.time_to_first_chunk")
    assert ttfc.count == 1 and ttfc.sum >= 0.05
    (per_chunk,) = kit.points("gen_ai.client.operation.time_per_output_chunk")
    assert per_chunk.count == 1  # two content chunks: one gap


def test_a_stream_without_usage_has_no_tokens_and_says_once_how_to_get_them(
    kit: Any, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    without_usage = [event for event in STREAM if not (isinstance(event[1], dict) and event[1]["usage"])]
    server.queue(sse_reply(without_usage), sse_reply(without_usage))
    with caplog.at_level(logging.WARNING, logger="otel_chatbot.genai"), httpx.Client() as client:
        for _ in range(2):
            with client.stream("POST", f"{server.url}/v1/chat/completions", json={**CHAT, "stream": True}) as r:
                r.read()
    spans = kit.finished()
    assert len(spans) == 2
    assert all(
        "gen_ai.usage.input_tokens" not in s.attributes and "gen_ai.usage.cost" not in s.attributes for s in spans
    )
    (hint,) = [r for r in caplog.records if "no token usage" in r.getMessage()]
    assert 'stream_options={"include_usage": true}' in hint.getMessage()
    assert kit.points("gen_ai.client.token.usage") == []


def test_a_throttled_call_records_error_type_retry_after_and_a_throttle(kit: Any, server: ScriptedServer) -> None:
    error = {"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}}
    server.queue(json_reply(error, 429, **{"retry-after": "2", "retry-after-ms": "1500"}))
    with httpx.Client() as client:
        response = client.post(f"{server.url}/v1/chat/completions", json=CHAT)
    assert (response.status_code, response.json()) == (429, error)
    span = genai_span(kit)
    assert span.name == f"chat {MODEL}"
    assert span.attributes["error.type"] == "429"
    assert span.attributes["http.response.header.retry-after"] == ("2",)
    assert span.attributes["http.response.header.retry-after-ms"] == ("1500",)
    (throttle,) = kit.points("gen_ai.client.throttles")
    assert throttle.value == 1 and throttle.attributes["gen_ai.provider.name"] == "openai"
    (duration,) = kit.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "429"


def test_a_cut_stream_ends_its_span_once_with_the_error_the_app_sees(kit: Any, server: ScriptedServer) -> None:
    server.queue(sse_reply(STREAM, cut_after=3))
    url = f"{server.url}/v1/chat/completions"
    with (
        httpx.Client() as client,
        pytest.raises(httpx.RemoteProtocolError) as raised,
        client.stream("POST", url, json={**CHAT, "stream": True}) as r,
    ):
        r.read()
    span = genai_span(kit)
    assert span.attributes["error.type"] == "RemoteProtocolError"
    assert span.status.status_code.name == "ERROR"
    assert "gen_ai.usage.output_tokens" not in span.attributes  # cut before the usage chunk
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    (exception,) = [e for e in span.events if e.name == "exception"]
    assert exception.attributes["exception.message"] == str(raised.value)
    (duration,) = kit.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "RemoteProtocolError"


def test_an_abandoned_stream_ends_its_span_as_cancelled(kit: Any, server: ScriptedServer) -> None:
    server.queue(sse_reply(STREAM), sse_reply(STREAM))
    with httpx.Client() as client:
        with client.stream("POST", f"{server.url}/v1/chat/completions", json={**CHAT, "stream": True}) as r:
            next(r.iter_lines())  # the app stops reading and closes
        response = client.send(
            client.build_request("POST", f"{server.url}/v1/chat/completions", json={**CHAT, "stream": True}),
            stream=True,
        )
        next(response.iter_raw())
        del response  # dropped without a close: the finalizer ends the span
        gc.collect()
    spans = kit.finished()
    assert [s.attributes["error.type"] for s in spans] == ["cancelled", "cancelled"]
    assert len({s.context.span_id for s in spans}) == 2


def test_closing_after_the_last_event_is_the_end_not_a_cancel(kit: Any, server: ScriptedServer) -> None:
    server.queue(sse_reply(STREAM))
    url = f"{server.url}/v1/chat/completions"
    with httpx.Client() as client, client.stream("POST", url, json={**CHAT, "stream": True}) as r:
        for line in r.iter_lines():
            if line == "data: [DONE]":
                break  # as the SDKs do
    assert "error.type" not in genai_span(kit).attributes


def test_a_malformed_answer_is_an_error_and_the_app_gets_it_as_sent(kit: Any, server: ScriptedServer) -> None:
    server.queue(Reply(200, [json.dumps(COMPLETION).encode()[:40]], {"content-type": "application/json"}))
    with httpx.Client() as client:
        response = client.post(f"{server.url}/v1/chat/completions", json=CHAT)
    assert response.content == json.dumps(COMPLETION).encode()[:40]
    span = genai_span(kit)
    assert span.attributes["error.type"] == "malformed_response"
    assert "gen_ai.usage.input_tokens" not in span.attributes


def test_a_gzip_answer_is_read_and_the_app_gets_it_decoded(kit: Any, server: ScriptedServer) -> None:
    reply = json_reply(COMPLETION)
    reply.gzip = True
    server.queue(reply)
    with httpx.Client() as client:
        assert client.post(f"{server.url}/v1/chat/completions", json=CHAT).json() == COMPLETION
    assert genai_span(kit).attributes["gen_ai.usage.output_tokens"] == 2


def test_ollama_ndjson_through_aiohttp(kit: Any, server: ScriptedServer) -> None:
    lines = [
        {"model": "llama3.2", "message": {"role": "assistant", "content": "Hel"}, "done": False},
        {"model": "llama3.2", "message": {"role": "assistant", "content": "lo"}, "done": False},
        {
            "model": "llama3.2",
            "message": {"content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 9,
            "eval_count": 2,
        },
    ]
    server.queue(ndjson_reply(lines), json_reply(lines[-1]))
    url = f"{server.url}/api/chat"

    async def run() -> tuple[list[bytes], dict[str, Any]]:
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json={"model": "llama3.2", "messages": []}) as response:
                streamed = [line async for line in response.content]
            async with session.post(url, json={"model": "llama3.2", "messages": [], "stream": False}) as response:
                whole = await response.json()
        return streamed, whole

    from otel_chatbot.genai.endpoints import Endpoints

    kit.instrumentations._http_genai().endpoints = Endpoints([(server.url, "ollama")])  # a local Ollama on its own port
    streamed, whole = asyncio.run(run())
    assert [json.loads(line) for line in streamed] == lines and whole == lines[-1]
    first, second = kit.finished()
    assert (first.name, second.name) == ("chat llama3.2", "chat llama3.2")
    assert first.attributes["gen_ai.provider.name"] == "ollama"
    assert first.attributes["gen_ai.request.stream"] is True and second.attributes["gen_ai.request.stream"] is False
    assert [s.attributes["gen_ai.usage.output_tokens"] for s in (first, second)] == [2, 2]
    assert "gen_ai.response.time_to_first_chunk" in first.attributes
    assert first.attributes["gen_ai.usage.cost"] == 0.0  # local inference


def test_other_calls_are_plain_http_spans_and_their_bodies_untouched(kit: Any, server: ScriptedServer) -> None:
    server.queue(Reply(200, [b"ok"]), Reply(200, [b"ok"]), json_reply({"n": 1}))
    with httpx.Client() as client:
        client.get(f"{server.url}/v1/chat/completions")
        client.post(
            f"{server.url}/v1/chat/completions", content=b"not json"
        )  # recognised path, not a request of the API
        response = client.post(f"{server.url}/api/orders", json={"model": "x"})
    assert type(response.stream).__name__ != "ObservedStream"
    assert [s.name for s in kit.finished()] == ["GET", "POST", "POST"]
    assert kit.points("gen_ai.client.operation.duration") == []


def test_genai_http_can_be_turned_off(kit_factory: Any, server: ScriptedServer) -> None:
    kit = kit_factory(disabled_instrumentations="genai-http")
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    server.queue(json_reply(COMPLETION))
    with httpx.Client() as client:
        client.post(f"{server.url}/v1/chat/completions", json=CHAT)
    assert genai_span(kit).name == "POST"


def test_the_requests_conversation_id_is_on_the_genai_span(kit: Any, server: ScriptedServer) -> None:
    from otel_chatbot.instrumentation.request_context import CURRENT_REQUEST, RequestInfo

    server.queue(json_reply(COMPLETION))
    token = CURRENT_REQUEST.set(RequestInfo(sources=(("header", "x-session"),), headers={"x-session": "c-7"}, scope={}))
    try:
        with httpx.Client() as client:
            client.post(f"{server.url}/v1/chat/completions", json=CHAT)
    finally:
        CURRENT_REQUEST.reset(token)
    span = genai_span(kit)
    assert span.attributes["gen_ai.conversation.id"] == "c-7"
    (duration,) = kit.points("gen_ai.client.operation.duration")
    assert "gen_ai.conversation.id" not in duration.attributes  # never a metric attribute


def test_a_deflate_answer_is_read(kit: Any, server: ScriptedServer) -> None:
    import zlib

    body = zlib.compress(json.dumps(COMPLETION).encode())
    server.queue(Reply(200, [body], {"content-type": "application/json", "content-encoding": "deflate"}))
    with httpx.Client() as client:
        assert client.post(f"{server.url}/v1/chat/completions", json=CHAT).json() == COMPLETION
    assert genai_span(kit).attributes["gen_ai.usage.output_tokens"] == 2
