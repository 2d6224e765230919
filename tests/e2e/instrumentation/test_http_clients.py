"""httpx (sync, async) and aiohttp client spans against a real server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.instrumentation.loopback import LoopbackServer, loopback_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with loopback_server() as srv:
        yield srv


@pytest.fixture
def kit(kit_factory: Any, server: LoopbackServer) -> Any:
    server.seen.clear()
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    return kit


def check_client_span(kit: Any, server: LoopbackServer, url: str, status: int) -> Any:
    (span,) = kit.finished()
    assert span.kind.name == "CLIENT"
    assert span.name == "GET"
    attrs = dict(span.attributes)
    assert attrs["http.request.method"] == "GET"
    assert attrs["url.full"] == url.replace("user:secret@", "REDACTED:REDACTED@")
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["http.response.status_code"] == status
    traceparent = server.seen[-1]["traceparent"]
    assert traceparent.split("-")[1] == f"{span.context.trace_id:032x}"
    assert traceparent.split("-")[2] == f"{span.context.span_id:016x}"
    (point,) = kit.points("http.client.request.duration")
    assert point.count == 1
    assert dict(point.attributes)["http.response.status_code"] == status
    return span


def test_httpx_sync(server: LoopbackServer, kit: Any) -> None:
    import httpx

    with httpx.Client() as client:
        assert client.get(f"{server.url}/a?token=abc").status_code == 200
    span = check_client_span(kit, server, f"{server.url}/a?token=REDACTED", 200)
    assert "error.type" not in span.attributes


def test_httpx_async_error_status(server: LoopbackServer, kit: Any) -> None:
    import httpx

    async def go() -> int:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{server.url}/status/503")).status_code

    assert asyncio.run(go()) == 503
    span = check_client_span(kit, server, f"{server.url}/status/503", 503)
    assert span.attributes["error.type"] == "503"


def test_aiohttp(server: LoopbackServer, kit: Any) -> None:
    import aiohttp

    async def go() -> int:
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/b") as response:
            await response.read()
            return response.status

    assert asyncio.run(go()) == 200
    check_client_span(kit, server, f"{server.url}/b", 200)


def test_connection_error_passes_through_with_error_type(kit: Any) -> None:
    import httpx

    with httpx.Client() as client, pytest.raises(httpx.ConnectError):
        client.get("http://127.0.0.1:9/")  # discard port: nothing listens
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "ConnectError"
    assert span.status.status_code.name == "ERROR"
