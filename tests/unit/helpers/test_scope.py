"""current_scope(): the active configuration's helpers' scope, rebuilt when the configuration changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import otel_chatbot.telemetry as telemetry_module
from otel_chatbot.config import load_settings
from otel_chatbot.helpers.scope import HelperScope, current_scope
from otel_chatbot.telemetry import Telemetry, build
from tests.unit.helpers.helper_kit import Configured

Configure = Callable[..., Configured]


def test_no_configuration_no_scope() -> None:
    assert current_scope() is None


def test_a_configuration_with_the_sdk_disabled_has_no_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    disabled = build(load_settings({"sdk_disabled": True}, environ={}))
    monkeypatch.setattr(telemetry_module, "_ACTIVE", disabled)
    assert current_scope() is None


def test_one_scope_per_configuration_and_its_parts_built_once(configure_helpers: Configure) -> None:
    first = configure_helpers()
    scope = current_scope()
    assert scope is not None and scope is current_scope() and scope.telemetry is first.telemetry
    built: list[HelperScope] = []

    def part(owner: HelperScope) -> object:
        built.append(owner)
        return object()

    assert scope.part(part) is scope.part(part) and built == [scope]
    second = configure_helpers()
    assert current_scope() is not scope and current_scope().telemetry is second.telemetry  # type: ignore[union-attr]


def test_new_pipelines_after_a_fork_get_a_new_scope(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    scope = current_scope()
    telemetry: Telemetry = kit.telemetry
    fresh = build(telemetry.settings)._pipelines  # what _after_fork_in_child does
    old, telemetry._pipelines = telemetry._pipelines, fresh
    try:
        renewed = current_scope()
        assert renewed is not None and renewed is not scope and renewed.tracer_provider is telemetry.tracer_provider
    finally:
        assert fresh is not None
        fresh.shutdown()
        telemetry._pipelines = old


def test_a_configuration_shut_down_is_let_go(configure_helpers: Configure, monkeypatch: pytest.MonkeyPatch) -> None:
    import otel_chatbot.helpers.scope as scope_module

    configure_helpers()
    assert current_scope() is not None
    monkeypatch.setattr(telemetry_module, "_ACTIVE", None)
    assert current_scope() is None and scope_module._current is None


@pytest.mark.parametrize("copied", [False, True], ids=["handed itself", "the sdks copy"])
def test_the_helpers_spans_reach_a_processor_that_takes_them_as_themselves(
    monkeypatch: pytest.MonkeyPatch, copied: bool
) -> None:
    from opentelemetry.sdk.trace import ReadableSpan, _Span
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from otel_chatbot import cache_lookup, execute_tool, failover
    from tests.unit.fallbacks import FAST, TakesTheSpan

    taker = TakesTheSpan()
    processors = [taker, *([SimpleSpanProcessor(InMemorySpanExporter())] if copied else [])]
    settings = load_settings(
        {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none"}, environ={}
    )
    telemetry = build(settings, span_processors=processors)
    monkeypatch.setattr(telemetry_module, "_ACTIVE", telemetry)
    try:
        with cache_lookup("semantic") as lookup:
            lookup.miss()
        with failover("chat") as chain, chain.attempt(provider="openai", model="m"):
            pass
        with execute_tool("get_weather"):
            pass
    finally:
        telemetry.shutdown()
    assert [s.name for s in taker.ended] == [
        "cache_lookup semantic",
        "attempt openai",
        "failover chat",
        "execute_tool get_weather",
    ]
    assert taker.ended[0].attributes["chatbot.cache.result"] == "miss"  # recorded before the end
    as_itself = FAST and not copied
    assert [type(s) for s in taker.ended] == [_Span if as_itself else ReadableSpan] * 4
