"""``otel-chatbot health`` against a real deployment on loopback, then with its parts taken away.

The app (``opentelemetry-instrument uvicorn`` with its live view on) exports to a real
otelcol-chatbot, which remote-writes to a real Prometheus and sends traces to a Tempo
stand-in (``tempo_standin.py``: Tempo cannot run here; the stand-in receives the collector's
real OTLP/gRPC export and answers Tempo's ``/ready`` and ``/api/traces/{id}``). The command
runs as users run it, a subprocess, and is judged by its exit code and its JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from otelcol_harness import Collector, loopback_env
from stack_harness import App, Prometheus, app_env, free_port, prometheus_binary
from tempo_standin import TempoStandIn

from otel_chatbot.testing.bedrock import BedrockServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SERVICE = "health-checked-chatbot"
CLI = Path(sys.executable).parent / "otel-chatbot"


@dataclass
class Deployment:
    app: App
    collector: Collector
    prometheus: Prometheus
    tempo: TempoStandIn
    stats_url: str

    def health(self, *extra: str, app: bool = True, chat: bool = True) -> tuple[int, dict[str, Any]]:
        argv = [str(CLI), "health"]
        if app:
            argv.append(self.app.base_url)
        if chat:
            argv += ["--chat-path", "/chat/health-check", "--chat-body", '{"message": "are you there?"}']
        argv += [
            "--collector",
            self.collector.health_url,
            "--prometheus",
            self.prometheus.url,
            "--service",
            SERVICE,
            "--tempo",
            self.tempo.url,
            "--stats",
            self.stats_url,
            "--timeout",
            "5",
            "--json",
            *extra,
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        assert proc.stderr == "", proc.stderr
        return proc.returncode, json.loads(proc.stdout.splitlines()[-1])


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


@pytest.fixture(scope="module")
def deployment(otelcol_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    binary = prometheus_binary()
    if binary is None:
        pytest.skip("prometheus is not installed (scripts/install_system_deps.sh installs Debian's prometheus)")
    work = tmp_path_factory.mktemp("health")
    prometheus = Prometheus(binary, work).start()
    try:
        with TempoStandIn() as tempo, BedrockServer() as bedrock:
            env = loopback_env(
                work / "storage",
                OTELCOL_PROMETHEUS_REMOTE_WRITE_ENDPOINT=prometheus.remote_write_url,
                OTELCOL_TEMPO_ENDPOINT=tempo.grpc_endpoint,
                # keep every trace, decided quickly: the round trip's trace must reach "Tempo"
                OTELCOL_TAIL_SAMPLE_PERCENT="100",
                OTELCOL_TAIL_DECISION_WAIT="1s",
            )
            collector = Collector(otelcol_binary, ["config.yaml"], env, work / "otelcol.log").start()
            stats_port = free_port()
            app_environment = {
                **app_env(collector.grpc_endpoint, bedrock.endpoint_url, SERVICE, "e2e"),
                "OTEL_CHATBOT_STATS_PORT": str(stats_port),
            }
            app = App(app_environment, work / "app.log").start()
            try:
                yield Deployment(app, collector, prometheus, tempo, f"http://127.0.0.1:{stats_port}/")
            finally:
                app.stop()
                collector.stop()
    finally:
        prometheus.stop()


def test_healthy_then_degraded_then_unhealthy(deployment: Deployment) -> None:
    # Healthy once the app's first metrics went app -> collector -> Prometheus.
    deadline = time.monotonic() + 90
    while True:
        code, report = deployment.health("--trace-wait", "20")
        if code == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    checks = by_name(report)
    assert (code, report["status"]) == (0, "healthy"), json.dumps(report, indent=1)
    assert list(checks) == ["app", "chat", "collector", "prometheus", "tempo", "stats"]
    assert all(check["status"] == "ok" for check in checks.values()), report
    trace_id = checks["chat"]["details"]["trace_id"]
    assert checks["tempo"]["details"]["trace_id"] == trace_id
    assert f"trace {trace_id} found" in checks["tempo"]["message"]
    # the server span and the Bedrock call under it, as the collector delivered them to "Tempo"
    assert len([s for s in deployment.tempo.sink.spans() if s.trace_id == trace_id]) >= 2
    assert 'job="health-checked-chatbot" has fresh series' in checks["prometheus"]["message"]
    assert checks["collector"]["message"].endswith("→ 200 Server available")

    # Prometheus has nothing of another service; Tempo not ready: degraded, the app unaffected.
    code, report = deployment.health("--service", "no-such-service", chat=False)
    assert code == 1 and by_name(report)["prometheus"]["status"] == "degraded"
    assert 'no series of job="no-such-service"' in by_name(report)["prometheus"]["message"]
    deployment.tempo.ready.clear()
    code, report = deployment.health(chat=False)
    deployment.tempo.ready.set()
    assert code == 1 and by_name(report)["tempo"]["message"] == "not ready: 503 Ingester not ready"

    # The collector goes away: users are still served (degraded), telemetry is not.
    deployment.collector.stop()
    code, report = deployment.health("--trace-wait", "2")
    checks = by_name(report)
    assert (code, report["status"]) == (1, "degraded"), report
    assert (checks["app"]["status"], checks["chat"]["status"]) == ("ok", "ok")
    assert checks["collector"]["status"] == "degraded" and "cannot reach" in checks["collector"]["message"]
    assert checks["tempo"]["status"] == "degraded" and "is not there after 2 s" in checks["tempo"]["message"]

    # The app goes away: unhealthy, and the live view with it.
    deployment.app.stop()
    code, report = deployment.health("--trace-wait", "1")
    checks = by_name(report)
    assert (code, report["status"]) == (2, "unhealthy"), report
    assert (checks["app"]["status"], checks["chat"]["status"], checks["stats"]["status"]) == (
        "unhealthy",
        "unhealthy",
        "degraded",
    )
    assert "cannot reach" in checks["app"]["message"]
