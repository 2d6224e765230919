"""The example chatbot under ``opentelemetry-instrument uvicorn`` with the live view on, and a known workload.

Shared by the live page's browser test and ``otel-chatbot top``'s terminal test: both must
show exactly the numbers of :data:`WORKLOAD`, then the numbers after :func:`send_more`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from tests.e2e.distro.distro_harness import AppProcess, Call, Launcher, Mode, chat, chat_fail, chat_stream, send

LIVE_ENV = {
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    "OTEL_CHATBOT_STATS_PORT": "0",
}
"""Nothing exported: the live view alone (a free port, logged by the distro)."""

_LIVE_URL = re.compile(r"live stats at (http://127\.0\.0\.1:\d+/) ")


@dataclass(frozen=True)
class Workload:
    chats: int = 6
    failures: int = 2
    streams: int = 2
    missing: int = 1

    def calls(self, tag: str) -> list[Call]:
        return (
            [chat(f"{tag}-chat-{i}") for i in range(self.chats)]
            + [chat_fail(f"{tag}-fail-{i}") for i in range(self.failures)]
            + [chat_stream(f"{tag}-stream-{i}") for i in range(self.streams)]
            + [Call("GET", f"/no/such/page/{i}") for i in range(self.missing)]
        )

    @property
    def requests(self) -> int:
        return self.chats + self.failures + self.streams + self.missing


WORKLOAD = Workload()
MORE = Workload(chats=5, failures=0, streams=0, missing=0)


@dataclass
class LiveApp:
    app: AppProcess
    stats_url: str

    def send(self, workload: Workload, tag: str) -> None:
        for call in workload.calls(tag):
            reply = send(self.app.base_url, call)
            assert reply.status in (200, 404, 500), (call, reply.status, reply.body[:200])


def start_live_app(launcher: Launcher, name: str) -> LiveApp:
    app = launcher.start(name, Mode.AUTO, telemetry=LIVE_ENV)
    deadline = time.monotonic() + 10
    while (found := _LIVE_URL.search(app.output())) is None:
        assert time.monotonic() < deadline, f"no live stats URL in the app's output:\n{app.output()}"
        time.sleep(0.05)
    return LiveApp(app, found.group(1))
