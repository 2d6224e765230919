"""The anthropic SDK's own spans off, so each call has one GenAI span: ours, named by the convention.

The SDK is given a tracer provider of the test's own through its public option (the
global one cannot be set per test): with the patch its spans never start, and the
option's other fields are kept; without an option the resolved one shows traces off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_chatbot.instrumentation.anthropic_sdk import AnthropicSpansOff
from otel_chatbot.testing.anthropic import AnthropicServer

pytestmark = pytest.mark.e2e

CLAUDE = "claude-sonnet-4-5"
ASK: dict[str, Any] = {"model": CLAUDE, "max_tokens": 64, "messages": [{"role": "user", "content": "Hi there"}]}


@pytest.fixture(scope="module")
def server() -> Iterator[AnthropicServer]:
    with AnthropicServer() as srv:
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
def wired(kit_factory: Any, server: AnthropicServer) -> Any:
    server.reset()
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    return kit


def test_the_sdk_spans_on_its_own_without_the_patch(server: AnthropicServer, sdk_provider: Any, sdk_spans: Any) -> None:
    """The premise: given a tracer provider, anthropic 2.x starts its own CLIENT span per call."""
    with anthropic.Anthropic(
        **server.client_kwargs(), max_retries=0, open_telemetry={"tracer_provider": sdk_provider}
    ) as client:
        client.messages.create(**ASK)
    (span,) = sdk_spans.get_finished_spans()
    assert (span.name, span.instrumentation_scope.name) == ("anthropic.messages.create", "com.anthropic.sdk.python")


def test_one_genai_span_per_call_with_the_users_own_option(
    wired: Any, server: AnthropicServer, sdk_provider: Any, sdk_spans: Any
) -> None:
    with anthropic.Anthropic(
        **server.client_kwargs(), max_retries=0, open_telemetry={"tracer_provider": sdk_provider}
    ) as client:
        message = client.messages.create(**ASK)
        assert client.open_telemetry["tracer_provider"] is sdk_provider  # the rest of the option is the user's
    assert sdk_spans.get_finished_spans() == ()
    (span,) = wired.finished()
    assert span.name == f"chat {CLAUDE}"
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    assert span.attributes["gen_ai.response.id"] == message.id
    assert span.attributes["gen_ai.usage.output_tokens"] == message.usage.output_tokens
    (duration,) = wired.points("gen_ai.client.operation.duration")
    assert duration.count == 1


def test_one_genai_span_per_streamed_call_without_an_option(wired: Any, server: AnthropicServer) -> None:
    async def run() -> str:
        async with anthropic.AsyncAnthropic(**server.client_kwargs(), max_retries=0) as client:
            assert client.open_telemetry["traces"]["enabled"] is False
            copy = client.with_options(open_telemetry={"propagation": True})
            assert copy.open_telemetry["traces"]["enabled"] is False
            assert copy.open_telemetry["propagation"] is True
            async with client.messages.stream(**ASK) as stream:
                return "".join([piece async for piece in stream.text_stream])

    assert asyncio.run(run()).startswith("Hello!")
    (span,) = wired.finished()
    assert span.name == f"chat {CLAUDE}"
    assert span.attributes["gen_ai.usage.output_tokens"] == server.ledger.totals().output_tokens


def test_revert_restores_the_sdk() -> None:
    originals = (anthropic.Anthropic.__init__, anthropic.AsyncAnthropic.copy, anthropic.Anthropic.with_options)
    patch = AnthropicSpansOff()
    patch.apply()
    assert anthropic.Anthropic.__init__ is not originals[0]
    patch.revert()
    assert (anthropic.Anthropic.__init__, anthropic.AsyncAnthropic.copy, anthropic.Anthropic.with_options) == originals
