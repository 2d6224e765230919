"""SIGTERM loses nothing: what was recorded before uvicorn stops reaches the collector.

Batches are held back far longer than the test runs (spans and logs 30 s, metrics 60 s),
so only the flush at shutdown can deliver them. uvicorn re-raises SIGTERM after its own
shutdown, so ``atexit`` handlers never run: the distro must flush before that.
"""

from __future__ import annotations

import pytest

from otel_chatbot.testing.otlp_sink import OtlpSink
from tests.e2e.distro.distro_harness import (
    LOGGING_APP,
    MODEL_ID,
    Launcher,
    Mode,
    Received,
    chat,
    describe,
    otlp_env,
    send,
)

pytestmark = pytest.mark.e2e

REQUESTS = 5
HELD_BACK = {
    "OTEL_BSP_SCHEDULE_DELAY": "30000",
    "OTEL_BLRP_SCHEDULE_DELAY": "30000",
    "OTEL_METRIC_EXPORT_INTERVAL": "60000",
}


@pytest.mark.parametrize("mode", [Mode.AUTO, Mode.IN_CODE], ids=lambda mode: mode.value)
def test_sigterm_right_after_the_requests_loses_nothing(launcher: Launcher, otlp_sink: OtlpSink, mode: Mode) -> None:
    name = f"sigterm-{mode.value}"
    app = launcher.start(name, mode, app=LOGGING_APP, telemetry=otlp_env(otlp_sink, **HELD_BACK))
    calls = [chat(f"{name}-{i}") for i in range(REQUESTS)]
    for call in calls:
        assert send(app.base_url, call).status == 200
    assert Received.of(otlp_sink, name).spans == (), "exported before shutdown: the test proves nothing"

    status = app.terminate()

    assert status in (0, -15), f"uvicorn exited with {status}:\n{app.output()[-3000:]}"
    received = Received.of(otlp_sink, name)  # the process is gone: everything has arrived or never will
    for call in calls:
        spans = received.server_spans(call.path)
        assert len(spans) == 1, f"{call.path}: {len(spans)} SERVER spans after SIGTERM:\n{describe(received.spans)}"
    assert len(received.client_spans(f"chat {MODEL_ID}")) == REQUESTS
    duration = received.histogram_count("http.server.request.duration", **{"http.route": "/chat/{session_id}"})
    assert duration == REQUESTS
    logged = [entry for entry in received.logs if str(entry.body).startswith(f"handling POST /chat/{name}-")]
    assert len(logged) == REQUESTS
