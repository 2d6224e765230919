"""Build and run otelcol-chatbot for tests: the cached ocb build, loopback ports, clean shutdown.

Used by tests/collector (config validity, fast) and tests/e2e/collector (running
collectors).  ``scripts/build_collector.sh`` does the building and caching; a
cold build takes minutes, a cached one well under a second.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTOR_DIR = REPO / "collector"
MANIFEST = COLLECTOR_DIR / "manifest.yaml"
BUILD_SCRIPT = REPO / "scripts" / "build_collector.sh"

# A cold build is ~4 minutes on 2 cores; the builder install adds about one.
BUILD_TIMEOUT_S = 1200


def find_go() -> str | None:
    found = shutil.which("go")
    if found:
        return found
    default = Path("/usr/local/go/bin/go")
    return str(default) if default.exists() else None


def build_collector() -> Path:
    """Return the otelcol-chatbot binary, building it first if the cache lacks it."""
    go = find_go()
    if go is None:
        pytest.skip("Go is not installed: cannot build otelcol-chatbot (CI has Go)")
    env = {**os.environ, "GO": go}
    proc = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/build_collector.sh failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    binary = Path(proc.stdout.strip().splitlines()[-1])
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"build script printed {binary}, which is not an executable")
    return binary


@pytest.fixture(scope="session")
def otelcol_binary() -> Path:
    """The otelcol-chatbot binary (built and cached by scripts/build_collector.sh)."""
    return build_collector()


_HANDED_OUT: set[int] = set()


def _below_ephemeral_range() -> range:
    """Ports the kernel never picks for ``bind(0)`` or an outgoing connection: just below its ephemeral range.

    A port from ``bind(0)`` is free only until the collector binds it; in between, another
    collector's outgoing connection or a sink may take it (CI saw "address already in use")."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(max(1024, low - 12_000), low)


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports, never handed out before in this process, outside the ephemeral range."""
    candidates = [p for p in _below_ephemeral_range() if p not in _HANDED_OUT]
    random.shuffle(candidates)
    ports: list[int] = []
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            _HANDED_OUT.update(ports)
            return ports
    raise RuntimeError(f"no {count} free loopback ports below the ephemeral range")


def unreachable_url() -> str:
    """An http URL on loopback where nothing listens."""
    (port,) = free_ports(1)
    return f"http://127.0.0.1:{port}"


def loopback_env(storage_dir: Path, **overrides: str) -> dict[str, str]:
    """Environment for one collector: every listener on its own free loopback port.

    Backends default to loopback ports where nothing listens, so nothing leaves
    the machine; pass overrides (e.g. ``OTELCOL_TEMPO_ENDPOINT``) to wire real ones.
    """
    grpc, http, health, self_metrics, spool_prom, spool_cw, dead, pprof = free_ports(8)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "OTELCOL_STORAGE_DIR": str(storage_dir),
        "OTELCOL_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{grpc}",
        "OTELCOL_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{http}",
        "OTELCOL_HEALTH_ENDPOINT": f"127.0.0.1:{health}",
        "OTELCOL_SELF_METRICS_HOST": "127.0.0.1",
        "OTELCOL_SELF_METRICS_PORT": str(self_metrics),
        "OTELCOL_SPOOL_PROMETHEUS_PORT": str(spool_prom),
        "OTELCOL_SPOOL_CLOUDWATCH_PORT": str(spool_cw),
        "OTELCOL_TEMPO_ENDPOINT": f"127.0.0.1:{dead}",
        "OTELCOL_PROMETHEUS_REMOTE_WRITE_ENDPOINT": f"http://127.0.0.1:{dead}/api/v1/write",
        "OTELCOL_CLOUDWATCH_ENDPOINT": f"http://127.0.0.1:{dead}",
        "OTELCOL_GATEWAY_ENDPOINTS": f"[127.0.0.1:{dead}]",
        "OTELCOL_MIRROR_GATEWAY_ENDPOINTS": f"[127.0.0.1:{dead}]",
        "OTELCOL_LOGS_ENDPOINT": f"127.0.0.1:{dead}",
        "OTELCOL_PPROF_ENDPOINT": f"127.0.0.1:{pprof}",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(overrides)
    return env


def config_args(configs: Sequence[str | Path]) -> list[str]:
    args: list[str] = []
    for config in configs:
        path = Path(config)
        args += ["--config", str(path if path.is_absolute() else COLLECTOR_DIR / path)]
    return args


def validate(binary: Path, configs: Sequence[str | Path], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "validate", *config_args(configs)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class Collector:
    """One running otelcol-chatbot process; output goes to a log file, never a pipe."""

    def __init__(self, binary: Path, configs: Sequence[str | Path], env: Mapping[str, str], log_path: Path) -> None:
        self.binary = binary
        self.configs = list(configs)
        self.env = dict(env)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def grpc_endpoint(self) -> str:
        return self.env["OTELCOL_OTLP_GRPC_ENDPOINT"]

    @property
    def health_url(self) -> str:
        return f"http://{self.env['OTELCOL_HEALTH_ENDPOINT']}/"

    def start(self, timeout: float = 30.0) -> Collector:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), *config_args(self.configs)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"collector exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.health_url, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"collector not healthy after {timeout}s:\n{self.log_tail()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (the collector drains and shuts down), SIGKILL if it does not exit in time."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def running(collectors: Sequence[Collector]) -> Iterator[Sequence[Collector]]:
    """Start the collectors in order; stop all of them (in reverse) however the block ends."""
    started: list[Collector] = []
    try:
        for collector in collectors:
            started.append(collector)
            collector.start()
        yield collectors
    finally:
        for collector in reversed(started):
            collector.stop()


def extend_build_timeout(items: Sequence[pytest.Item]) -> None:
    """A cold build runs inside the first test that needs the binary: give those room for it."""
    for item in items:
        if "otelcol_binary" in getattr(item, "fixturenames", ()) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(BUILD_TIMEOUT_S + 120))


# The shipped configurations, as they are meant to be run (overlays merge in
# order), with the environment each needs beyond its defaults.
TOKEN_ENV = {"OTELCOL_BEARER_TOKEN": "test-token"}
TLS_ENV = {"OTELCOL_TLS_CERT_FILE": "/etc/otelcol/tls.crt", "OTELCOL_TLS_KEY_FILE": "/etc/otelcol/tls.key"}
CONFIG_SETS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "all-in-one": (("config.yaml",), {}),
    "all-in-one+debug": (("config.yaml",), {"OTELCOL_DEBUG_EXPORTER": "debug"}),
    "all-in-one+auth": (("config.yaml", "auth.yaml"), TOKEN_ENV),
    "all-in-one+tls": (("config.yaml", "tls.yaml"), TLS_ENV),
    "all-in-one+pprof": (("config.yaml", "pprof.yaml"), {}),
    "gateway": (("config.yaml", "gateway.yaml"), {}),
    "gateway+auth+tls": (("config.yaml", "gateway.yaml", "auth.yaml", "tls.yaml"), {**TOKEN_ENV, **TLS_ENV}),
    "agent": (("agent.yaml",), {"OTELCOL_GATEWAY_ENDPOINTS": "[gw-1:4317, gw-2:4317]"}),
    "agent+debug": (("agent.yaml",), {"OTELCOL_DEBUG_EXPORTER": "debug"}),
    "agent+auth+tls": (("agent.yaml", "auth.yaml", "tls.yaml"), {**TOKEN_ENV, **TLS_ENV}),
    "agent+mirror": (("agent.yaml", "agent-mirror.yaml"), {}),
}

# Variables a config reads without a default: they must be set when that file is used.
REQUIRED_ENV = {"OTELCOL_BEARER_TOKEN", "OTELCOL_TLS_CERT_FILE", "OTELCOL_TLS_KEY_FILE"}


def shipped_config_files() -> set[str]:
    return {p.name for p in COLLECTOR_DIR.glob("*.yaml") if p.name != MANIFEST.name}


def minimal_env(**extra: str) -> dict[str, str]:
    """Only what a process needs to run, so the configs' own defaults are what is validated."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **extra}
