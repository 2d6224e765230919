"""The anthropic SDK's own spans off, so each call has one GenAI span: ours, named by the convention.

The SDK is given a tracer provider of the test's own through its public option (the
global one cannot be set per test): with the patch its spans never start; the option's
other fields are kept, and without an option the resolved one shows traces off.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_chatbot.instrumentation.anthropic_sdk import AnthropicSpansOff
from tests.unit.instrumentation.scripted_server import ScriptedServer, json_reply, scripted_server, sse_reply

MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "Hello!"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0, "output_tokens": 3},
}
ASK = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as srv:
        yield srv


@pytest.fixture
def sdk_spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def sdk_provider(sdk_spans: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(sdk_spans))
    return provider


@pytest.fixture
def wired(kit_factory: Any, server: ScriptedServer) -> Any:
    server.replies.clear()
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    return kit


def test_the_sdk_would_span_without_the_patch(server: ScriptedServer, sdk_provider: Any, sdk_spans: Any) -> None:
    """The premise: given a tracer provider, anthropic 2.x starts its own CLIENT span per call."""
    server.queue(json_reply(MESSAGE))
    client = anthropic.Anthropic(
        base_url=server.url, api_key="k", max_retries=0, open_telemetry={"tracer_provider": sdk_provider}
    )
    client.messages.create(**ASK)
    (span,) = sdk_spans.get_finished_spans()
    assert (span.name, span.instrumentation_scope.name) == ("anthropic.messages.create", "com.anthropic.sdk.python")


def test_one_genai_span_per_call_with_the_users_own_option(
    wired: Any, server: ScriptedServer, sdk_provider: Any, sdk_spans: Any
) -> None:
    server.queue(json_reply(MESSAGE))
    client = anthropic.Anthropic(
        base_url=server.url, api_key="k", max_retries=0, open_telemetry={"tracer_provider": sdk_provider}
    )
    assert client.messages.create(**ASK).content[0].text == "Hello!"  # type: ignore[union-attr]
    assert sdk_spans.get_finished_spans() == ()
    assert client.open_telemetry["tracer_provider"] is sdk_provider  # the rest of the option is the user's
    (span,) = wired.finished()
    assert span.name == "chat claude-sonnet-4-5"
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    assert span.attributes["gen_ai.usage.input_tokens"] == 110
    (duration,) = wired.points("gen_ai.client.operation.duration")
    assert duration.count == 1


def test_one_genai_span_per_streamed_call_without_an_option(wired: Any, server: ScriptedServer) -> None:
    events = [
        ("message_start", {"type": "message_start", "message": {**MESSAGE, "content": [], "stop_reason": None}}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    server.queue(sse_reply(events))

    async def run() -> str:
        client = anthropic.AsyncAnthropic(base_url=server.url, api_key="k", max_retries=0)
        assert client.open_telemetry["traces"]["enabled"] is False
        copy = client.with_options(open_telemetry={"propagation": True})
        assert copy.open_telemetry["traces"]["enabled"] is False
        text = ""
        async with client.messages.stream(**ASK) as stream:
            async for piece in stream.text_stream:
                text += piece
        return text

    assert asyncio.run(run()) == "Hi"
    (span,) = wired.finished()
    assert (span.name, span.attributes["gen_ai.usage.output_tokens"]) == ("chat claude-sonnet-4-5", 1)
    assert json.loads(server.seen[-1].body)["stream"] is True


def test_revert_restores_the_sdk() -> None:
    originals = (anthropic.Anthropic.__init__, anthropic.AsyncAnthropic.copy)
    patch = AnthropicSpansOff()
    patch.apply()
    assert anthropic.Anthropic.__init__ is not originals[0]
    patch.revert()
    assert (anthropic.Anthropic.__init__, anthropic.AsyncAnthropic.copy) == originals
