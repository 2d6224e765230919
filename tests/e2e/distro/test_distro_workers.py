"""gunicorn with uvicorn workers under opentelemetry-instrument: one instance id per worker, nothing lost.

The SDK is set up in the gunicorn master (sitecustomize runs there) and the workers are
forked from it; each worker must export under its own ``service.instance.id`` (else
the workers' cumulative metrics collide) and flush on its own graceful shutdown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from otel_chatbot.testing.otlp_sink import OtlpSink

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
REQUESTS = 80


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def test_forked_workers_export_under_their_own_instance_ids(tmp_path: Path) -> None:
    pytest.importorskip("gunicorn")
    pytest.importorskip("uvicorn_worker")
    with OtlpSink(grpc_port=None) as sink:
        port = free_port()
        env = {
            **os.environ,
            "OTEL_SERVICE_NAME": "workers-test",
            "OTEL_EXPORTER_OTLP_ENDPOINT": sink.http_endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "30000",
            "OTEL_METRIC_EXPORT_INTERVAL": "60000",
            "OTEL_PYTHON_DISTRO": "otel_chatbot",
            "OTEL_PYTHON_CONFIGURATOR": "otel_chatbot",
        }
        proc = subprocess.Popen(
            [
                str(BIN / "opentelemetry-instrument"),
                str(BIN / "gunicorn"),
                "-k",
                "uvicorn_worker.UvicornWorker",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "20",
                "otel_chatbot.demo.chatbot.app:app",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/health", time.monotonic() + 30)
            with ThreadPoolExecutor(max_workers=16) as pool:  # concurrency spreads requests over both workers
                statuses = list(pool.map(lambda n: get(f"http://127.0.0.1:{port}/v1/models"), range(REQUESTS)))
            assert statuses == [200] * REQUESTS
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=40)
        except BaseException:
            proc.kill()
            raise
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        spans = sink.wait_for(
            lambda: s if len(s := sink.spans("GET /v1/models")) >= REQUESTS else None,
            timeout=15,
            what=f"{REQUESTS} model-list spans",
        )
        assert len(spans) == REQUESTS, output[-3000:]
        instances = Counter(span.resource["service.instance.id"] for span in spans)
        pids = {span.resource["process.pid"]: span.resource["service.instance.id"] for span in spans}
        assert proc.pid not in pids, "spans come from the workers, not the master"
        assert len(set(pids.values())) == len(pids), f"one instance id per worker: {pids}"
        assert len(instances) == len(pids)
        points = [
            p
            for p in sink.metric_points("http.server.request.duration")
            if p.attributes.get("http.route") == "/v1/models"
        ]
        latest: dict[str, int] = {}
        for point in points:
            latest[point.resource["service.instance.id"]] = max(
                latest.get(point.resource["service.instance.id"], 0), point.count or 0
            )
        assert sum(latest.values()) == REQUESTS
        assert set(latest) == set(instances)
