"""The aiohttp patch, fast: real ``ClientSession`` requests to aiohttp's own ``TestServer`` in one event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry.instrumentation.utils import suppress_http_instrumentation, suppress_instrumentation

from otel_chatbot.instrumentation.aiohttp_client import AiohttpInstrumentation
from otel_chatbot.instrumentation.http_client import ClientTelemetry

T = TypeVar("T")
SEEN: list[dict[str, str]] = []


async def _answer(request: web.Request) -> web.Response:
    SEEN.append({k.lower(): v for k, v in request.headers.items()})
    return web.Response(text="ok", status=int(request.match_info.get("status", 200)))


def serve(client: Callable[[str], Awaitable[T]]) -> T:
    """Run ``client(base_url)`` against a fresh aiohttp test server, in one new event loop."""

    async def main() -> T:
        app = web.Application()
        app.router.add_get("/status/{status}", _answer)
        app.router.add_get("/{tail:.*}", _answer)
        async with TestServer(app, host="127.0.0.1") as server:
            return await client(str(server.make_url("")).rstrip("/"))

    return asyncio.run(main())


async def get(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        await response.read()
        return response.status


@pytest.fixture
def kit(kit_factory: Any) -> Iterator[Any]:
    SEEN.clear()
    kit = kit_factory()
    p = kit.instrumentations.pipelines
    patch = AiohttpInstrumentation(ClientTelemetry("aiohttp", p.tracer_provider, p.meter_provider, p.propagator))
    patch.apply()
    yield kit
    patch.revert()


def test_request_gets_a_client_span_and_propagates_its_context(kit: Any) -> None:
    async def client(base: str) -> tuple[str, int]:
        return base, await get(f"{base}/a?sig=secret")

    base, status = serve(client)
    assert status == 200
    (span,) = kit.finished()
    assert span.kind.name == "CLIENT"
    assert span.attributes["url.full"] == f"{base}/a?sig=REDACTED"
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["network.protocol.version"] == "1.1"
    assert SEEN[-1]["traceparent"].split("-")[2] == f"{span.context.span_id:016x}"
    (point,) = kit.points("http.client.request.duration")
    assert point.count == 1


def test_error_status_and_connection_error(kit: Any) -> None:
    async def client(base: str) -> int:
        return await get(f"{base}/status/429")

    assert serve(client) == 429
    with pytest.raises(aiohttp.ClientConnectionError):
        asyncio.run(get("http://127.0.0.1:9/"))  # discard port: nothing listens
    throttled, refused = kit.finished()
    assert throttled.attributes["error.type"] == "429"
    assert refused.attributes["error.type"].endswith("Error")
    assert refused.status.status_code.name == "ERROR"


@pytest.mark.parametrize("suppress", [suppress_http_instrumentation, suppress_instrumentation])
def test_upstream_suppression_silences_the_span_and_metric(kit: Any, suppress: Any) -> None:
    async def client(base: str) -> int:
        with suppress():
            return await get(f"{base}/quiet")

    assert serve(client) == 200
    assert kit.finished() == []
    assert kit.points("http.client.request.duration") == []
    assert "traceparent" not in SEEN[-1]


def test_revert_restores_the_session_class(kit_factory: Any) -> None:
    original = aiohttp.ClientSession.__init__
    p = kit_factory().instrumentations.pipelines
    patch = AiohttpInstrumentation(ClientTelemetry("aiohttp", p.tracer_provider, p.meter_provider, p.propagator))
    patch.apply()
    assert aiohttp.ClientSession.__init__ is not original
    patch.revert()
    assert aiohttp.ClientSession.__init__ is original
