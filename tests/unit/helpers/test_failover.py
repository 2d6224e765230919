"""failover(): the chain and attempt spans, the exact metric points, the rules of a chain."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from opentelemetry.trace import SpanKind, StatusCode

from otel_chatbot import FailoverChain, failover
from tests.unit.helpers.helper_kit import Configured

BEDROCK, OPENAI = "aws.bedrock", "openai"
HAIKU, MINI = "us.anthropic.claude-3-5-haiku-20241022-v1:0", "gpt-4o-mini"
Configure = Callable[..., Configured]


class ProviderError(Exception):
    pass


def throttled() -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Converse")


def run_chain(candidates: list[tuple[str, str, BaseException | None]], name: str = "chat") -> FailoverChain:
    """The issue's loop: try each candidate, stop at the first that answers."""
    with failover(name) as chain:
        for provider, model, failure in candidates:
            try:
                with chain.attempt(provider=provider, model=model):
                    if failure is not None:
                        raise failure
                break
            except (ProviderError, ClientError):
                continue
    return chain


def test_a_chain_served_first_time_has_one_attempt_and_no_switch(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    chain = run_chain([(BEDROCK, HAIKU, None), (OPENAI, MINI, None)])
    assert chain.outcome == "served" and chain.attempts == 1
    spans = {s.name: s for s in kit.finished()}
    assert set(spans) == {"failover chat", "attempt aws.bedrock"}
    root, attempt = spans["failover chat"], spans["attempt aws.bedrock"]
    assert root.kind is SpanKind.INTERNAL and attempt.kind is SpanKind.INTERNAL
    assert attempt.parent is not None and attempt.parent.span_id == root.context.span_id
    assert dict(root.attributes or {}) == {
        "chatbot.failover.name": "chat",
        "chatbot.failover.outcome": "served",
        "chatbot.failover.attempt_count": 1,
        "gen_ai.provider.name": BEDROCK,
        "gen_ai.request.model": HAIKU,
    }
    assert dict(attempt.attributes or {}) == {
        "chatbot.failover.name": "chat",
        "gen_ai.provider.name": BEDROCK,
        "gen_ai.request.model": HAIKU,
        "chatbot.failover.attempt": 1,
        "chatbot.failover.outcome": "served",
    }
    assert kit.values("chatbot.failover.chains", "chatbot.failover.name", "chatbot.failover.outcome") == {
        ("chat", "served"): 1
    }
    assert kit.points("chatbot.failover.switches") == []
    assert kit.points("chatbot.failover.overhead") == [], "only chains that switched have an overhead"


def test_a_throttled_provider_switches_to_the_next_which_serves(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    chain = run_chain([(BEDROCK, HAIKU, throttled()), (OPENAI, MINI, None)])
    assert chain.outcome == "served" and chain.attempts == 2
    assert chain.served_by is not None and chain.served_by.provider == OPENAI
    keys = ("gen_ai.provider.name", "gen_ai.request.model", "chatbot.failover.outcome", "error.type")
    assert kit.values("chatbot.failover.attempts", *keys) == {
        (BEDROCK, HAIKU, "failed", "ThrottlingException"): 1,
        (OPENAI, MINI, "served", None): 1,
    }
    switch_keys = ("chatbot.failover.name", "chatbot.failover.from", "chatbot.failover.to", "error.type")
    assert kit.values("chatbot.failover.switches", *switch_keys) == {
        ("chat", BEDROCK, OPENAI, "ThrottlingException"): 1
    }
    (overhead,) = kit.points("chatbot.failover.overhead")
    assert overhead.count == 1 and dict(overhead.attributes) == {
        "chatbot.failover.name": "chat",
        "gen_ai.provider.name": OPENAI,
    }
    assert 0.15 in overhead.explicit_bounds
    spans = {s.name: s for s in kit.finished()}
    failed = spans["attempt aws.bedrock"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None and failed.attributes["error.type"] == "ThrottlingException"
    root = spans["failover chat"]
    assert root.status.status_code is StatusCode.UNSET
    assert root.attributes is not None
    assert root.attributes["gen_ai.provider.name"] == OPENAI and root.attributes["chatbot.failover.attempt_count"] == 2
    assert root.attributes["chatbot.failover.overhead"] == pytest.approx(overhead.sum)


def test_the_overhead_is_chain_start_to_the_serving_attempts_start(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    with failover("chat") as chain:
        time.sleep(0.05)  # work before the first attempt counts: the user waits for it too
        with pytest.raises(ProviderError), chain.attempt(provider=BEDROCK):
            time.sleep(0.1)
            raise ProviderError
        with chain.attempt(provider=OPENAI):
            time.sleep(0.2)  # the serving attempt's own time is not overhead
    (overhead,) = kit.points("chatbot.failover.overhead")
    assert 0.15 <= overhead.sum < 0.3


def test_every_candidate_failing_exhausts_the_chain(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    chain = run_chain([(BEDROCK, HAIKU, throttled()), (OPENAI, MINI, ProviderError("503"))])
    assert chain.outcome == "exhausted" and chain.served_by is None
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("exhausted",): 1}
    assert kit.values("chatbot.failover.attempts", "chatbot.failover.outcome", "error.type") == {
        ("failed", "ThrottlingException"): 1,
        ("failed", "ProviderError"): 1,
    }
    assert kit.values("chatbot.failover.switches", "chatbot.failover.from", "chatbot.failover.to") == {
        (BEDROCK, OPENAI): 1
    }
    assert kit.points("chatbot.failover.overhead") == []
    root = next(s for s in kit.finished() if s.name == "failover chat")
    assert root.status.status_code is StatusCode.ERROR
    assert root.attributes is not None
    assert root.attributes["chatbot.failover.outcome"] == "exhausted"
    assert root.attributes["error.type"] == "ProviderError", "the last failure"
    assert root.attributes["gen_ai.provider.name"] == OPENAI, "the provider that exhausted it"


def test_the_apps_exceptions_pass_through_unchanged(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    last = ProviderError("all down")
    with pytest.raises(ProviderError) as caught, failover("chat") as chain:
        with pytest.raises(ProviderError), chain.attempt(provider=BEDROCK):
            raise ProviderError("first")
        raise last  # the app gives up: re-raises after the loop
    assert caught.value is last
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("exhausted",): 1}
    with pytest.raises(KeyError) as key_error, failover("chat") as chain:
        with chain.attempt(provider=BEDROCK):
            pass
        raise KeyError("after the answer")  # served, then the app failed: still served
    assert key_error.value.args == ("after the answer",)
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("exhausted",): 1, ("served",): 1}


def test_a_chain_without_any_attempt_is_exhausted(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    with failover("chat") as chain:
        pass
    assert chain.outcome == "exhausted" and chain.attempts == 0
    root = kit.finished()[0]
    assert root.attributes is not None and root.attributes["error.type"] == "exhausted"


def test_provider_spans_nest_under_their_attempt(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    provider = kit.telemetry.tracer_provider
    assert provider is not None
    tracer = provider.get_tracer("client")
    with failover("chat") as chain:
        for name in (BEDROCK, OPENAI):
            try:
                with chain.attempt(provider=name), tracer.start_as_current_span(f"chat {name}"):
                    if name == BEDROCK:
                        raise ProviderError
                break
            except ProviderError:
                continue
    spans = {s.name: s for s in kit.finished()}
    for name in (BEDROCK, OPENAI):
        client, attempt = spans[f"chat {name}"], spans[f"attempt {name}"]
        assert client.parent is not None and client.parent.span_id == attempt.context.span_id


def test_async_chains_work_the_same(configure_helpers: Configure) -> None:
    kit = configure_helpers()

    async def call(provider: str) -> str:
        await asyncio.sleep(0)
        if provider == BEDROCK:
            raise ProviderError
        return "hello"

    async def chat() -> str:
        async with failover("chat") as chain:
            for provider in (BEDROCK, OPENAI):
                try:
                    async with chain.attempt(provider=provider):
                        return await call(provider)
                except ProviderError:
                    continue
        raise AssertionError("unreachable")

    async def many() -> list[str]:
        return await asyncio.gather(*(chat() for _ in range(3)))

    assert asyncio.run(many()) == ["hello"] * 3
    assert kit.values("chatbot.failover.chains", "chatbot.failover.outcome") == {("served",): 3}
    assert kit.values("chatbot.failover.switches", "chatbot.failover.to") == {(OPENAI,): 3}
    roots = [s for s in kit.finished() if s.name == "failover chat"]
    assert len(roots) == 3 and all(s.parent is None for s in roots)


@pytest.mark.parametrize("configured", [True, False], ids=["configured", "not-configured"])
def test_misuse_raises_at_the_call_site(configure_helpers: Configure, configured: bool) -> None:
    if configured:
        configure_helpers()
    chain = failover("chat")
    with pytest.raises(ValueError, match="attempt entered before the chain's block"), chain.attempt(provider=BEDROCK):
        pass
    with chain:
        with (
            chain.attempt(provider=BEDROCK),
            pytest.raises(ValueError, match="attempts run one at a time"),
            chain.attempt(provider=OPENAI),
        ):
            pass
        with pytest.raises(ValueError, match="an attempt already served the chain"), chain.attempt(provider=OPENAI):
            pass
    with pytest.raises(ValueError, match="attempt entered after the chain's block"), chain.attempt(provider=OPENAI):
        pass
    with pytest.raises(ValueError, match="a chain is used for one block only"), chain:
        pass
    bad: list[tuple[Callable[[], Any], type[Exception], str]] = [
        (lambda: failover(""), ValueError, "failover: name must not be empty"),
        (lambda: failover(1), TypeError, "failover: name must be a string"),  # type: ignore[arg-type]
        (lambda: chain.attempt(provider=""), ValueError, r"failover chat: attempt\(\): provider must not be empty"),
        (lambda: chain.attempt(provider="x", model=1), TypeError, "model must be a string"),  # type: ignore[arg-type]
    ]
    for call, error, message in bad:
        with pytest.raises(error, match=message):
            call()


def test_without_configure_the_chain_still_tells_who_served() -> None:
    chain = run_chain([(BEDROCK, HAIKU, ProviderError()), (OPENAI, MINI, None)])
    assert chain.outcome == "served" and chain.served_by is not None and chain.served_by.provider == OPENAI


def test_providers_and_models_past_their_limits_fold_to_other(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    for index in range(22):
        run_chain([(f"provider-{index}", f"model-{index}", None)])
    attempts = kit.values("chatbot.failover.attempts", "gen_ai.request.model", "gen_ai.provider.name")
    assert len(attempts) == 22, "models have a limit of their own (100)"
    assert {provider for _, provider in attempts} == {f"provider-{i}" for i in range(20)} | {"_OTHER"}
    assert attempts[("model-20", "_OTHER")] == attempts[("model-21", "_OTHER")] == 1


def test_an_apps_own_error_raised_from_an_aws_error_reports_the_aws_code(configure_helpers: Configure) -> None:
    kit = configure_helpers()

    class ApiError(ProviderError):
        pass

    def translated() -> ApiError:
        try:
            raise throttled()
        except ClientError as exc:
            try:
                raise ApiError("busy") from exc
            except ApiError as api_error:
                return api_error

    run_chain([(BEDROCK, HAIKU, translated()), (OPENAI, MINI, ProviderError()), (OPENAI, MINI, None)])
    assert kit.values("chatbot.failover.switches", "error.type") == {
        ("ThrottlingException",): 1,
        ("ProviderError",): 1,
    }
