"""The httpx patch, fast: real httpx clients and transports against a loopback server in this process.

``httpx.MockTransport`` would bypass ``HTTPTransport.handle_request`` (the method the patch
wraps), so the requests here go over a real socket to :mod:`tests.unit.instrumentation.loopback`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.instrumentation.utils import suppress_http_instrumentation, suppress_instrumentation

from otel_chatbot.guard import set_raise_internal_errors
from otel_chatbot.instrumentation.http_client import ClientTelemetry
from otel_chatbot.instrumentation.httpx_client import HttpxInstrumentation
from tests.unit.instrumentation.loopback import LoopbackServer, loopback_server


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with loopback_server() as srv:
        yield srv


@pytest.fixture
def kit(kit_factory: Any, server: LoopbackServer) -> Iterator[Any]:
    server.seen.clear()
    kit = kit_factory()
    p = kit.instrumentations.pipelines
    patch = HttpxInstrumentation(ClientTelemetry("httpx", p.tracer_provider, p.meter_provider, p.propagator))
    patch.apply()
    yield kit
    patch.revert()


def test_sync_request_gets_a_client_span_and_propagates_its_context(kit: Any, server: LoopbackServer) -> None:
    with httpx.Client() as client:
        assert client.get(f"{server.url}/a?token=abc").text == "ok"
    (span,) = kit.finished()
    assert span.name == "GET"
    assert span.kind.name == "CLIENT"
    assert dict(span.attributes) == {
        "http.request.method": "GET",
        "url.full": f"{server.url}/a?token=REDACTED",
        "server.address": "127.0.0.1",
        "server.port": int(server.url.rsplit(":", 1)[1]),
        "http.response.status_code": 200,
        "network.protocol.version": "1.1",
    }
    ctx = span.context
    assert server.seen[-1]["traceparent"] == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"
    (point,) = kit.points("http.client.request.duration")
    assert point.count == 1
    assert dict(point.attributes)["http.response.status_code"] == 200


def test_async_error_status_is_an_error_type(kit: Any, server: LoopbackServer) -> None:
    async def get() -> int:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{server.url}/status/503")).status_code

    assert asyncio.run(get()) == 503
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "503"
    assert span.status.status_code.name == "ERROR"
    (point,) = kit.points("http.client.request.duration")
    assert dict(point.attributes)["error.type"] == "503"


def test_connection_error_passes_through_unchanged(kit: Any) -> None:
    with httpx.Client() as client, pytest.raises(httpx.ConnectError):
        client.get("http://127.0.0.1:9/")  # discard port: nothing listens
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "ConnectError"
    assert [e.name for e in span.events] == ["exception"]


@pytest.mark.parametrize("suppress", [suppress_http_instrumentation, suppress_instrumentation])
def test_upstream_suppression_silences_the_span_and_metric(kit: Any, server: LoopbackServer, suppress: Any) -> None:
    async def get_async() -> int:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{server.url}/b")).status_code

    with suppress(), httpx.Client() as client:
        assert client.get(f"{server.url}/a").status_code == 200
        assert asyncio.run(get_async()) == 200
    assert kit.finished() == []
    assert kit.points("http.client.request.duration") == []
    assert all("traceparent" not in headers for headers in server.seen)
    with httpx.Client() as client:
        client.get(f"{server.url}/after")
    assert len(kit.finished()) == 1, "only the block was suppressed"


def test_internal_error_leaves_the_request_alone(kit_factory: Any, server: LoopbackServer) -> None:
    class BrokenPropagator:
        def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
            raise RuntimeError("propagator bug")

    p = kit_factory().instrumentations.pipelines
    patch = HttpxInstrumentation(ClientTelemetry("httpx", p.tracer_provider, p.meter_provider, BrokenPropagator()))
    patch.apply()
    set_raise_internal_errors(False)
    try:
        with httpx.Client() as client:
            assert client.get(f"{server.url}/c").text == "ok"
    finally:
        set_raise_internal_errors(True)
        patch.revert()
    assert "traceparent" not in server.seen[-1]


def test_revert_restores_httpx(kit_factory: Any) -> None:
    originals = (httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request)
    p = kit_factory().instrumentations.pipelines
    patch = HttpxInstrumentation(ClientTelemetry("httpx", p.tracer_provider, p.meter_provider, p.propagator))
    patch.apply()
    assert httpx.HTTPTransport.handle_request is not originals[0]
    patch.revert()
    assert (httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request) == originals
