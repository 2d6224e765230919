"""The kit's servers in a child process: ``python -m <module>``, the address read from its first line.

In-process (``BedrockServer()``, ``OtlpSink()``) is the usual way. A child process is for when
the server must not share an interpreter with what is measured or tested: a benchmark that
counts the app's CPU, an app started under ``opentelemetry-instrument``, a crash or a fork.
Each server prints one line once bound (``--port 0`` picks a free port), so the parent knows
the address; ``stop()`` sends SIGTERM, which every server answers by exiting 0.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class ServerProcess:
    """``python -m module *args`` until :meth:`stop`; ``url`` is the ``url`` group of ``ready`` in its first line."""

    def __init__(
        self,
        module: str,
        *args: str,
        ready: str,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=cwd,
            env=None if env is None else dict(env),
            stdout=subprocess.PIPE,
            text=True,
        )
        self.first_line = self._first_line(startup_timeout_s)
        match = re.search(ready, self.first_line)
        if match is None:
            self.stop()
            raise RuntimeError(
                f"python -m {module} did not start (exit code {self.process.returncode}); "
                f"its first line was {self.first_line!r}"
            )
        self.url: str = match["url"]

    def _first_line(self, timeout_s: float) -> str:
        """The first stdout line, without blocking past ``timeout_s`` on a server that never prints one."""
        assert self.process.stdout is not None
        stdout = self.process.stdout
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout_s)
        return lines[0].strip() if lines else ""

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it has not exited within ``STOP_TIMEOUT_S``; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _stand_in_process(
    provider: str, host: str, port: int, env: Mapping[str, str] | None, cwd: str | Path | None
) -> ServerProcess:
    """``python -m otel_chatbot.testing.<provider>``; every stand-in prints ``listening on <url>``."""
    args = ("--host", host, "--port", str(port))
    module = f"otel_chatbot.testing.{provider}"
    return ServerProcess(module, *args, ready=r"listening on (?P<url>\S+)", env=env, cwd=cwd)


def bedrock_process(
    host: str = "127.0.0.1", port: int = 0, *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None
) -> ServerProcess:
    """The Bedrock stand-in in a child process; ``url`` is its ``endpoint_url``."""
    return _stand_in_process("bedrock", host, port, env, cwd)


def openai_process(
    host: str = "127.0.0.1", port: int = 0, *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None
) -> ServerProcess:
    """The OpenAI stand-in in a child process; OpenAI clients take ``f"{url}/v1"``, Azure clients ``url``."""
    return _stand_in_process("openai", host, port, env, cwd)


def anthropic_process(
    host: str = "127.0.0.1", port: int = 0, *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None
) -> ServerProcess:
    """The Anthropic stand-in in a child process; ``url`` is the SDK's ``base_url``."""
    return _stand_in_process("anthropic", host, port, env, cwd)


def ollama_process(
    host: str = "127.0.0.1", port: int = 0, *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None
) -> ServerProcess:
    """The Ollama stand-in in a child process; native clients take ``url``, OpenAI clients ``f"{url}/v1"``."""
    return _stand_in_process("ollama", host, port, env, cwd)


def otlp_sink_process(
    host: str = "127.0.0.1",
    http_port: int = 0,
    *,
    grpc: bool = False,
    count_only: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> ServerProcess:
    """The OTLP sink in a child process; ``url`` is its OTLP/HTTP base URL.

    Its own HTTP API reads it back: ``GET {url}/__sink/stats``, ``/__sink/spans``,
    ``/__sink/metrics?name=...``, ``/__sink/logs``; ``POST {url}/__sink/reset``.
    """
    args = ["--host", host, "--http-port", str(http_port)]
    args += ["--grpc-port", "0"] if grpc else ["--no-grpc"]
    if count_only:
        args.append("--count-only")
    return ServerProcess("otel_chatbot.testing.otlp_sink", *args, ready=r"http=(?P<url>\S+)", env=env, cwd=cwd)
