"""The processes of one throughput measurement: otelcol-chatbot under test and its stand-in backends.

The backends (the OTLP sink standing in for Tempo and a log backend, the counting
remote-write / CloudWatch Logs stand-ins) run for the whole benchmark; each step starts a
fresh collector with an empty storage directory, so no step inherits another's queues,
trace buffers or heap.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from otel_chatbot.testing.process import ServerProcess, otlp_sink_process

ROOT = Path(__file__).resolve().parents[2]
CLK_TCK = os.sysconf("SC_CLK_TCK")
IMAGE = ROOT / "docker" / "collector.Dockerfile"


def image_env(dockerfile_text: str) -> dict[str, str]:
    """The ``ENV KEY=VALUE`` lines of the collector image: the distribution's runtime defaults (GOGC)."""
    env = {}
    for line in dockerfile_text.splitlines():
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() == "ENV":
            for pair in rest.split():
                key, sep, value = pair.partition("=")
                if not sep:
                    raise ValueError(f"{IMAGE.name}: ENV {rest!r}: only the KEY=VALUE form is read")
                env[key] = value
    return env


def free_ports(count: int) -> list[int]:
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def system_busy_seconds() -> float:
    """CPU time all CPUs spent not idle (``/proc/stat``)."""
    vals = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals[:8]) - idle) / CLK_TCK


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


class Backends:
    """Tempo / log backend (OTLP sink, count-only) and Prometheus / CloudWatch (counting stand-ins)."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL")}
        env["PYTHONPATH"] = str(ROOT)
        self.sink = otlp_sink_process(grpc=True, count_only=True, env=env, cwd=ROOT)
        grpc = re.search(r"grpc=(\S+)", self.sink.first_line)
        if grpc is None:
            raise RuntimeError(f"the OTLP sink did not say its gRPC address: {self.sink.first_line!r}")
        self.sink_grpc = grpc[1]
        self.standins = ServerProcess("bench.collector.standins", ready=r"stats=(?P<url>\S+)", env=env, cwd=ROOT)
        line = self.standins.first_line
        self.remote_write_url = re.search(r"remote_write=(\S+)", line)[1]  # type: ignore[index]
        self.cloudwatch_url = re.search(r"cloudwatch=(\S+)", line)[1]  # type: ignore[index]

    @property
    def pids(self) -> list[int]:
        return [self.sink.process.pid, self.standins.process.pid]

    def counts(self) -> dict[str, int]:
        """Items the sink got per signal, and the stand-ins' counters."""
        sink = _get_json(f"{self.sink.url}/__sink/stats")
        return {
            "sink_spans": sink["items"]["traces"],
            "sink_log_records": sink["items"]["logs"],
            **_get_json(self.standins.url),
        }

    def stop(self) -> None:
        self.sink.stop()
        self.standins.stop()


class Collector:
    """One otelcol-chatbot process on free loopback ports; output to a log file."""

    def __init__(
        self,
        binary: Path,
        configs: Sequence[Path],
        workdir: Path,
        backends: Backends,
        overrides: Mapping[str, str],
    ) -> None:
        grpc, http, health, metrics, spool_p, spool_c, pprof = free_ports(7)
        shutil.rmtree(workdir, ignore_errors=True)
        (workdir / "storage").mkdir(parents=True)
        self.log_path = workdir / "collector.log"
        self.grpc_endpoint = f"127.0.0.1:{grpc}"
        self.health_url = f"http://127.0.0.1:{health}/"
        self.metrics_url = f"http://127.0.0.1:{metrics}/metrics"
        self.pprof_url = f"http://127.0.0.1:{pprof}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "OTELCOL_STORAGE_DIR": str(workdir / "storage"),
            "OTELCOL_OTLP_GRPC_ENDPOINT": self.grpc_endpoint,
            "OTELCOL_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{http}",
            "OTELCOL_HEALTH_ENDPOINT": f"127.0.0.1:{health}",
            "OTELCOL_SELF_METRICS_HOST": "127.0.0.1",
            "OTELCOL_SELF_METRICS_PORT": str(metrics),
            "OTELCOL_SPOOL_PROMETHEUS_PORT": str(spool_p),
            "OTELCOL_SPOOL_CLOUDWATCH_PORT": str(spool_c),
            "OTELCOL_PPROF_ENDPOINT": f"127.0.0.1:{pprof}",
            "OTELCOL_TEMPO_ENDPOINT": backends.sink_grpc,
            "OTELCOL_LOGS_EXPORTER": "otlp_grpc/logs",
            "OTELCOL_LOGS_ENDPOINT": backends.sink_grpc,
            "OTELCOL_PROMETHEUS_REMOTE_WRITE_ENDPOINT": backends.remote_write_url,
            "OTELCOL_CLOUDWATCH_ENDPOINT": backends.cloudwatch_url,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_EC2_METADATA_DISABLED": "true",
            **image_env(IMAGE.read_text()),  # as the image runs it
            **overrides,
        }
        args: list[str] = []
        for config in configs:
            args += ["--config", str(config)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(binary), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self._wait_healthy(30.0)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"otelcol-chatbot exited with {self.proc.returncode}: see {self.log_path}")
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                urllib.request.urlopen(self.health_url, timeout=1) as resp,
            ):
                if resp.status == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"otelcol-chatbot not healthy after {timeout}s: see {self.log_path}")

    def log_lines_matching(self, pattern: str, keep: int = 3) -> tuple[int, list[str]]:
        """How many log lines match, and the first ``keep`` distinct messages (cut at 300 chars)."""
        regex = re.compile(pattern)
        count, first = 0, list[str]()
        with self.log_path.open(errors="replace") as log:
            for line in log:
                if regex.search(line):
                    count += 1
                    message = line.strip()[:300]
                    if len(first) < keep and message not in first:
                        first.append(message)
        return count, first

    def stop(self) -> int | None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode
