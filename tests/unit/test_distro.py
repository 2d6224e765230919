"""Upstream instrumentors that duplicate ours are undone after another distro loaded them."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points

import pytest
from botocore.client import BaseClient
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

from otel_chatbot.distro import retire_instrumentors


def _installed(name: str) -> EntryPoint:
    (found,) = [ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == name]
    return found


ORIGINAL = BaseClient._make_api_call


@pytest.fixture
def upstream_botocore() -> Iterator[BotocoreInstrumentor]:
    assert BaseClient._make_api_call is ORIGINAL
    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


def test_an_active_upstream_duplicate_is_uninstrumented(upstream_botocore: BotocoreInstrumentor) -> None:
    assert BaseClient._make_api_call is not ORIGINAL  # upstream's patch is on
    assert retire_instrumentors([_installed("botocore")]) == ["botocore"]
    assert not upstream_botocore.is_instrumented_by_opentelemetry
    assert BaseClient._make_api_call is ORIGINAL


def test_inactive_or_unrelated_instrumentors_are_left_alone(upstream_botocore: BotocoreInstrumentor) -> None:
    upstream_botocore.uninstrument()
    assert retire_instrumentors([_installed("botocore")]) == []
    # Not one we replace (a made-up entry point of a module nobody imported): never even loaded.
    other = EntryPoint("redis", "opentelemetry.instrumentation.redis:RedisInstrumentor", "opentelemetry_instrumentor")
    assert retire_instrumentors([other]) == []


def test_every_upstream_instrumentor_for_a_library_we_instrument_is_replaced() -> None:
    from otel_chatbot.distro import _REPLACED

    ours = {"fastapi", "asgi", "starlette", "httpx", "aiohttp-client", "botocore", "aiobotocore", "logging"}
    installed = {ep.name for ep in entry_points(group="opentelemetry_instrumentor")}
    assert installed & ours <= _REPLACED
    assert {"botocore", "aiobotocore"} <= installed  # the dev install has upstream's botocore package
