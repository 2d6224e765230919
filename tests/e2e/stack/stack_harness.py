"""The compose stack's data path on loopback, without Docker: app -> otelcol-chatbot -> Prometheus.

* Prometheus: Debian's ``prometheus`` binary (``scripts/install_system_deps.sh``), started with the
  same flags as the compose service (remote-write receiver, exemplar storage) and the same rule
  files, on a free loopback port, with its TSDB in a temporary directory;
* otelcol-chatbot: the cached ocb build, ``collector/config.yaml`` through the collector tests'
  harness (``tests/collector/otelcol_harness.py``), remote-writing to that Prometheus;
* CloudWatch: ``moto_server`` as the CloudWatch Logs endpoint awsemf writes EMF to (the compose
  ``cloudwatch-emulator``);
* Bedrock: ``otel_chatbot.testing.bedrock`` in-process;
* the app: ``opentelemetry-instrument uvicorn otel_chatbot.demo.chatbot.app:app``, exactly the compose
  service's command, exporting OTLP/gRPC to the collector;
* the workload: ``otel_chatbot.demo.chatbot.load`` (the compose ``loadgen`` service), plus injected
  Bedrock throttles, timeouts and slow streams so the GenAI error panels get data too;
* a second GenAI provider: ``provider_workload.py``, the openai SDK under the distro (a second
  process of the same service) against ``otel_chatbot.testing.openai`` in-process, so the
  per-provider panels compare ``aws.bedrock`` and ``openai``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
PROMETHEUS_DIR = REPO / "prometheus"
BIN = Path(sys.executable).parent
_RUNNING = re.compile(r"Uvicorn running on http://([0-9.]+):(\d+)")


def prometheus_binary() -> str | None:
    return shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Process:
    """A subprocess in its own session with output in a log file; ``stop`` ends the group."""

    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def _spawn(self, argv: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=REPO,
                env=None if env is None else dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self.proc

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (the app flushes its telemetry, Prometheus its TSDB), SIGKILL of the group if stuck."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


class Prometheus(_Process):
    """One Prometheus process with the stack's rule files and remote-write receiver."""

    def __init__(self, binary: str, workdir: Path, scrape_targets: Mapping[str, str] | None = None) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "prometheus.log"
        rules = sorted(str(p) for p in (PROMETHEUS_DIR / "rules").glob("*.yml"))
        scrape = [
            {"job_name": job, "scrape_interval": "1s", "static_configs": [{"targets": [target]}]}
            for job, target in (scrape_targets or {}).items()
        ]
        config = {
            # Fast evaluation so recording rules have samples within a short test.
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": rules,
            "scrape_configs": scrape,
        }
        self.config_path = workdir / "prometheus.yml"
        self.config_path.write_text(json.dumps(config, indent=2))  # JSON is YAML

    @property
    def remote_write_url(self) -> str:
        return f"{self.url}/api/v1/write"

    def start(self, timeout: float = 30.0) -> Prometheus:
        proc = self._spawn(
            [
                self.binary,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-remote-write-receiver",
                "--enable-feature=exemplar-storage",
                "--storage.tsdb.retention.time=1d",
            ]
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"prometheus not ready after {timeout}s:\n{self.log_tail()}")

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=30) as resp:
            body = json.loads(resp.read())
        if body.get("status") != "success":
            raise RuntimeError(f"{url}: {body}")
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        data = self.api("query", query=promql)
        result = data["result"]
        if data["resultType"] == "scalar":
            return [{"value": result}]
        return list(result)

    def query_range(
        self, promql: str, start: float, end: float, step: float
    ) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        data = self.api("query_range", query=promql, start=str(start), end=str(end), step=str(step))
        return [(series["metric"], [(float(t), float(v)) for t, v in series["values"]]) for series in data["result"]]

    def series_names(self) -> set[str]:
        return set(self.api("label/__name__/values"))


class Moto(_Process):
    """``moto_server`` from the venv: the CloudWatch Logs endpoint awsemf writes EMF to (the compose
    stack's ``cloudwatch-emulator``)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "moto.log"

    def start(self, timeout: float = 30.0) -> Moto:
        proc = self._spawn([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise TimeoutError(f"moto_server not ready after {timeout}s:\n{self.log_tail()}")

    def emf_events(self, log_group: str, log_stream: str) -> list[dict[str, Any]]:
        import boto3

        logs = boto3.client(
            "logs", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )  # fmt: skip
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"logGroupName": log_group, "logStreamName": log_stream, "startFromHead": True}
            if token:
                kwargs["nextToken"] = token
            page = logs.get_log_events(**kwargs)
            events += [json.loads(e["message"]) for e in page["events"]]
            if not page["events"] or page["nextForwardToken"] == token:
                return events
            token = page["nextForwardToken"]


class App(_Process):
    """``opentelemetry-instrument uvicorn otel_chatbot.demo.chatbot.app:app`` (the compose ``app`` command)."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.base_url = ""

    def start(self, timeout: float = 30.0) -> App:
        argv = [
            str(BIN / "opentelemetry-instrument"),
            str(BIN / "uvicorn"),
            "otel_chatbot.demo.chatbot.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ]
        proc = self._spawn(argv, self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _RUNNING.search(self.output())
            if found:
                self.base_url = f"http://{found.group(1)}:{found.group(2)}"
                return self
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"app did not start:\n{self.output()[-4000:]}")


class ProviderWorkload(_Process):
    """``opentelemetry-instrument python provider_workload.py``: the openai SDK's calls, a second provider."""

    def __init__(self, env: Mapping[str, str], base_url: str, log_path: Path) -> None:
        self.env = dict(env)
        self.base_url = base_url
        self.log_path = log_path

    def start(self) -> ProviderWorkload:
        script = Path(__file__).resolve().parent / "provider_workload.py"
        argv = [str(BIN / "opentelemetry-instrument"), str(BIN / "python"), str(script), "--base-url", self.base_url]
        self._spawn(argv, self.env)
        return self

    def finish(self) -> int:
        """Stop it (SIGTERM: it ends its round, prints its count, the distro flushes); the calls it made."""
        self.stop()
        found = re.search(r"made (\d+) calls", self.output())
        if found is None:
            raise RuntimeError(f"the provider workload did not finish cleanly:\n{self.log_tail()}")
        return int(found.group(1))


def app_env(collector_grpc: str, bedrock_url: str, service: str, environment: str) -> dict[str, str]:
    """What the compose ``app`` service sets, with loopback endpoints and fast export."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV")}
    return {
        **keep,
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
        "BEDROCK_ENDPOINT_URL": bedrock_url,
        "AWS_REGION": "us-east-1",
        "OTEL_SERVICE_NAME": service,
        "OTEL_CHATBOT_ENVIRONMENT": environment,
        "OTEL_CHATBOT_AWS_DETECTORS": "none",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{collector_grpc}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_LOGS_EXPORTER": "none",
        "CHATBOT_FALLBACK_MODEL_ID": "us.amazon.nova-lite-v1:0",
        "CHATBOT_SEMANTIC_CACHE": "1",
    }


def post_json(url: str, body: Any, timeout: float = 10.0) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
