"""Application inference profiles resolved for real: boto3 and aiobotocore against the local Bedrock server.

The lookup is the distro's own (``fetch_profile``): a botocore ``bedrock`` client built from
the app's runtime client (its endpoint, region and credentials), asking the server's
``GetInferenceProfile``, which counts every lookup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from otel_chatbot.genai.pricing import PriceTable
from otel_chatbot.genai.types import TokenUsage
from otel_chatbot.testing.bedrock import BedrockServer

pytestmark = pytest.mark.e2e

BASE = "anthropic.claude-3-5-haiku-20241022-v1:0"
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
MESSAGES = [{"role": "user", "content": [{"text": "which plan suits a team of five"}]}]


@pytest.fixture(scope="module")
def server() -> Iterator[BedrockServer]:
    with BedrockServer() as srv:
        yield srv


@pytest.fixture
def arn(server: BedrockServer) -> str:
    server.reset()
    return server.create_inference_profile("chatbot-prod", f"us.{BASE}")


@pytest.fixture
def runtime(server: BedrockServer) -> Iterator[Any]:
    client = boto3.client("bedrock-runtime", config=NO_RETRY, **server.client_kwargs())
    yield client
    client.close()


def base_cost(usage: dict[str, int]) -> float:
    tokens = TokenUsage(uncached_input_tokens=usage["inputTokens"], output_tokens=usage["outputTokens"])
    cost = PriceTable.default().cost(BASE, tokens)
    assert cost is not None
    return cost.total


def test_boto3_calls_of_a_profile_are_priced_and_counted_as_its_model_after_one_lookup(
    kit_factory: Any, server: BedrockServer, runtime: Any, arn: str
) -> None:
    kit = kit_factory(resolve_inference_profiles=True)
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    profiles = kit.instrumentations.inference_profiles

    first = runtime.converse(modelId=arn, messages=MESSAGES)
    assert profiles.wait_idle(10)
    assert server.profiles.lookups(arn) == 1
    later = runtime.converse(modelId=arn, messages=MESSAGES)
    streamed = runtime.converse_stream(modelId=arn, messages=MESSAGES)
    assert sum(1 for event in streamed["stream"] if "contentBlockDelta" in event) > 1
    assert server.profiles.lookups() == 1

    spans = kit.finished()
    assert [span.name for span in spans] == [f"chat {arn}"] * 3, "the lookup made no span"
    assert all(span.attributes["gen_ai.request.model"] == arn for span in spans)
    assert "gen_ai.usage.cost" not in spans[0].attributes
    assert "gen_ai.response.model" not in spans[0].attributes
    assert spans[0].attributes["gen_ai.usage.input_tokens"] == first["usage"]["inputTokens"]
    assert spans[1].attributes["gen_ai.response.model"] == BASE
    assert spans[1].attributes["gen_ai.usage.cost"] == pytest.approx(base_cost(later["usage"]))
    assert spans[2].attributes["gen_ai.usage.cost"] > 0

    points = kit.points("gen_ai.client.operation.duration")
    durations = {dict(p.attributes)["gen_ai.request.model"]: p.count for p in points}
    assert durations == {arn: 1, BASE: 2}
    (first_chunk,) = kit.points("gen_ai.client.operation.time_to_first_chunk")
    assert dict(first_chunk.attributes)["gen_ai.request.model"] == BASE
    tokens = sum(p.sum for p in kit.points("gen_ai.client.token.usage"))
    totals = server.ledger.totals()
    assert tokens == totals.input_tokens + totals.output_tokens  # every call counted, under one label or the other


def test_an_aiobotocore_clients_profile_is_resolved_with_its_credentials(
    kit_factory: Any, server: BedrockServer, arn: str
) -> None:
    from aiobotocore.session import get_session

    kit = kit_factory(resolve_inference_profiles=True)
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    profiles = kit.instrumentations.inference_profiles

    async def run() -> None:
        async with get_session().create_client("bedrock-runtime", config=NO_RETRY, **server.client_kwargs()) as client:
            await client.converse(modelId=arn, messages=MESSAGES)
            assert await asyncio.to_thread(profiles.wait_idle, 10)
            await client.converse(modelId=arn, messages=MESSAGES)

    asyncio.run(run())
    first, later = kit.finished()
    assert server.profiles.lookups(arn) == 1
    assert "gen_ai.response.model" not in first.attributes
    assert later.attributes["gen_ai.response.model"] == BASE
    assert later.attributes["gen_ai.usage.cost"] > 0


def test_without_the_setting_the_server_is_never_asked(
    kit_factory: Any, server: BedrockServer, runtime: Any, arn: str
) -> None:
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    for _ in range(3):
        runtime.converse(modelId=arn, messages=MESSAGES)
    assert kit.instrumentations.inference_profiles is None
    assert server.profiles.lookups() == 0
    assert {span.attributes["gen_ai.request.model"] for span in kit.finished()} == {arn}
    assert all("gen_ai.usage.cost" not in span.attributes for span in kit.finished())


def test_a_denied_lookup_is_made_once_and_logged_once(
    kit_factory: Any, server: BedrockServer, runtime: Any, arn: str, caplog: pytest.LogCaptureFixture
) -> None:
    kit = kit_factory(resolve_inference_profiles=True)
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    profiles = kit.instrumentations.inference_profiles
    server.inject("access_denied", operation="GetInferenceProfile", model=arn)
    with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
        for _ in range(5):
            answer = runtime.converse(modelId=arn, messages=MESSAGES)
            assert answer["stopReason"] == "end_turn"  # the app's calls are untouched
            assert profiles.wait_idle(10)
    assert server.profiles.lookups(arn) == 1
    denied = [r.getMessage() for r in caplog.records if "AccessDeniedException" in r.getMessage()]
    assert len(denied) == 1
    assert arn in denied[0]
    assert {span.attributes["gen_ai.request.model"] for span in kit.finished()} == {arn}
    assert all("gen_ai.response.model" not in span.attributes for span in kit.finished())
