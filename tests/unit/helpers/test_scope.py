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
