"""Real backends for the collector end-to-end test, each a subprocess on loopback.

* :class:`Prometheus`: Debian's ``prometheus`` (remote-write receiver, exemplar storage),
  TSDB in a temporary directory, queried through its HTTP API;
* :class:`Moto`: ``moto_server``, the CloudWatch Logs endpoint for ``awsemf``;
* :class:`ChatbotApp`: ``opentelemetry-instrument uvicorn otel_chatbot.demo.chatbot.app:app``;
* :func:`self_metrics`: the collector's own Prometheus metrics, parsed.

Every process gets its own session (process group) and is killed with it; every wait
polls with a deadline.
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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from otelcol_harness import free_ports

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
T = TypeVar("T")

_UVICORN_RUNNING = re.compile(r"Uvicorn running on http://([0-9.]+):(\d+)")


def poll(check: Callable[[], T], timeout: float, what: str, interval: float = 0.25) -> T:
    """Call ``check`` until it returns something truthy; AssertionError (with the last value) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")
        time.sleep(interval)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return 200 <= int(resp.status) < 300
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


class Process:
    """A subprocess in its own session, output to a log file; ``stop`` ends the whole group."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], log_path: Path, cwd: Path = REPO) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def exited(self) -> bool:
        return self.proc is None or self.proc.poll() is not None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the group, SIGKILL it if it is still there after ``timeout``."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        # Whatever is left of the group (children included) goes now.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


def prometheus_binary() -> str | None:
    return shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)


class Prometheus(Process):
    """Prometheus with no scrape jobs: everything arrives by remote write."""

    def __init__(self, binary: str, workdir: Path) -> None:
        (self.port,) = free_ports(1)
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / "prometheus.yml"
        config.write_text(json.dumps({"global": {"evaluation_interval": "1m"}, "scrape_configs": []}))
        super().__init__(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-remote-write-receiver",
                "--enable-feature=exemplar-storage",
            ],
            {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir)},
            workdir / "prometheus.log",
            cwd=workdir,
        )

    @property
    def remote_write_url(self) -> str:
        return f"{self.url}/api/v1/write"

    def start(self, timeout: float = 30.0) -> Prometheus:
        self.spawn()
        poll(
            lambda: _http_ok(f"{self.url}/-/ready") or (self.exited() and self._died()),
            timeout,
            "prometheus to be ready",
            0.2,
        )
        return self

    def _died(self) -> bool:
        raise RuntimeError(f"prometheus exited:\n{self.log_tail()}")

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.loads(resp.read())
        if body.get("status") != "success":
            raise RuntimeError(f"{url}: {body}")
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant vector query: ``[{"metric": {...}, "value": [ts, "v"]}, ...]``."""
        data = self.api("query", query=promql)
        assert data["resultType"] == "vector", data
        return list(data["result"])

    def vector(self, promql: str, *labels: str) -> dict[tuple[str, ...], float]:
        """An instant vector as ``{(label values...): value}`` (missing labels are "")."""
        return {
            tuple(item["metric"].get(label, "") for label in labels): float(item["value"][1])
            for item in self.query(promql)
        }

    def names(self) -> set[str]:
        return set(self.api("label/__name__/values"))

    def exemplars(self, promql: str, start: float, end: float) -> list[dict[str, Any]]:
        return list(self.api("query_exemplars", query=promql, start=str(start), end=str(end)))


class Moto(Process):
    """``moto_server``: an AWS emulator; ``awsemf`` writes its EMF log events to it."""

    def __init__(self, workdir: Path) -> None:
        (self.port,) = free_ports(1)
        self.url = f"http://127.0.0.1:{self.port}"
        server = VENV_BIN / "moto_server"
        argv = [str(server)] if server.exists() else [sys.executable, "-m", "moto.server"]
        super().__init__(
            [*argv, "-H", "127.0.0.1", "-p", str(self.port)],
            {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir)},
            workdir / "moto.log",
            cwd=workdir,
        )

    def start(self, timeout: float = 30.0) -> Moto:
        self.spawn()

        def ready() -> bool:
            if self.exited():
                raise RuntimeError(f"moto_server exited:\n{self.log_tail()}")
            return _http_ok(f"{self.url}/moto-api/data.json")

        poll(ready, timeout, "moto_server to be ready", 0.2)
        return self

    def logs_client(self, region: str) -> Any:
        import boto3

        return boto3.client(
            "logs",
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


class ChatbotApp(Process):
    """The example chatbot under the distro, exactly as users run it."""

    def __init__(self, env: Mapping[str, str], log_path: Path, uvicorn_log_config: Path | None = None) -> None:
        self.base_url = ""
        extra = ["--log-config", str(uvicorn_log_config)] if uvicorn_log_config is not None else []
        super().__init__(
            [
                str(VENV_BIN / "opentelemetry-instrument"),
                str(VENV_BIN / "uvicorn"),
                "otel_chatbot.demo.chatbot.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                *extra,
            ],
            env,
            log_path,
        )

    def start(self, timeout: float = 45.0) -> ChatbotApp:
        self.spawn()

        def running() -> str | None:
            found = _UVICORN_RUNNING.search(self.log())
            if found:
                return f"http://{found.group(1)}:{found.group(2)}"
            if self.exited():
                raise RuntimeError(f"the app exited:\n{self.log_tail()}")
            return None

        self.base_url = str(poll(running, timeout, "uvicorn to listen", 0.05))
        return self


def self_metrics(port: int | str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """The collector's own metrics (Prometheus text format) as ``{name: [(labels, value), ...]}``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    line_re = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = line_re.match(line)
        if match is None:
            continue
        labels = dict(label_re.findall(match.group(2) or ""))
        found.setdefault(match.group(1), []).append((labels, float(match.group(3))))
    return found


def self_metric_sum(port: int | str, name: str, **labels: str) -> float:
    """Sum of one of the collector's own metrics over the series whose labels include ``labels``."""
    series = self_metrics(port).get(name, [])
    return sum(value for found, value in series if all(found.get(k) == v for k, v in labels.items()))
