"""Credential query parameters never reach a span: a real uvicorn server span and an httpx client span.

The app still sees every parameter as sent (redaction is of the telemetry, not the request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

pytestmark = pytest.mark.e2e

QUERY = "q=hello&password=hunter2&api_key=sk-live-1&X-Amz-Signature=f00d&X-Amz-Credential=AKIA%2Fx&sig=abc"
REDACTED = "q=hello&password=REDACTED&api_key=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&sig=REDACTED"
SECRETS = ("hunter2", "sk-live-1", "f00d", "AKIA", "abc")


@pytest.fixture
def served(kit_factory: Any) -> Iterator[tuple[Any, str]]:
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    app = FastAPI()

    @app.get("/echo")
    async def echo(request: Request) -> dict[str, str]:
        return dict(request.query_params)

    kit.instrumentations.instrument_app(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield kit, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_credentials_are_redacted_in_server_and_client_spans(served: tuple[Any, str]) -> None:
    kit, base = served
    with httpx.Client() as client:
        response = client.get(f"{base}/echo?{QUERY}")
    assert response.status_code == 200, response.text
    assert response.json()["password"] == "hunter2"  # the app got the request as sent
    deadline = time.monotonic() + 5
    while len(kit.finished()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    spans = {span.kind.name: dict(span.attributes) for span in kit.finished()}
    assert spans["SERVER"]["url.query"] == REDACTED
    assert spans["CLIENT"]["url.full"] == f"{base}/echo?{REDACTED}"
    for attributes in spans.values():
        for value in attributes.values():
            assert not any(secret in str(value) for secret in SECRETS), value
