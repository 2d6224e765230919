"""One overhead scenario in a loop, in one process, for profilers (py-spy, callgrind) to attribute.

    .venv/bin/python bench/profile_scenarios.py --scenario converse --variant ours --calls 500
    .venv/bin/python bench/profile_scenarios.py --scenario minimal --variant bare --calls 50 \\
        --callgrind /tmp/cg.out    # the loop alone is dumped to /tmp/cg.out.1: grep ^totals: /tmp/cg.out.1
    .venv/bin/python bench/profile_scenarios.py --scenario sse --calls 2000 --pyspy /tmp/sse.txt

Scenarios, each the request ``bench/overhead.py`` sends, driven without a server or sockets on
the app side (the ASGI app is called directly, lifespan included):

* ``minimal``: ``bench/apps/minimal.py``'s ``POST /chat``;
* ``converse``: ``bench/apps/bedrock_chat.py`` (boto3 ``Converse`` to the Bedrock stand-in);
* ``sse``: ``bench/apps/sse_chat.py`` (``ConverseStream`` relayed as SSE, read to its end);
* ``openai`` / ``openai-stream``: the ``openai`` SDK's ``chat.completions.create`` (streamed with
  ``include_usage``) to the OpenAI stand-in, no app around it.

``ours`` is the distro as ``opentelemetry-instrument`` loads it (its ``sitecustomize`` on the
path, ``OTEL_PYTHON_DISTRO=otel_chatbot``), every default signal on, traces, metrics and logs
exported over OTLP/HTTP to a sink in a child process; ``bare`` is the same process without it.
Stand-ins and the sink run in child processes without the distro, so a profiler attached to this
process sees the app, the client and the telemetry only. Prints CPU µs per request of the loop
(``process_time``: every thread, the export thread included) and the counts the sink received.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("minimal", "converse", "sse", "openai", "openai-stream")
APPS = {"minimal": "bench.apps.minimal", "converse": "bench.apps.bedrock_chat", "sse": "bench.apps.sse_chat"}
BODY = json.dumps({"message": "hello there, what can you do?", "conversation_id": "c-1"}).encode()
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}


def _child_env() -> dict[str, str]:
    """This environment without the distro's auto-instrumentation (stand-ins and sinks run bare)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _auto_instrumentation_dir() -> str:
    import opentelemetry.instrumentation.auto_instrumentation as auto

    return str(Path(auto.__file__).parent)


def _child(args: argparse.Namespace, sink_url: str) -> int:
    """Run this script again as the measured process (under ``--wrap``), bare or as
    ``opentelemetry-instrument`` would run it: its sitecustomize first on the path."""
    env = _child_env()
    env["BENCH_PROFILE_CHILD"] = "1"
    wrap = shlex.split(args.wrap)
    if args.callgrind:
        wrap = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={args.callgrind}", *wrap]
        env["BENCH_CALLGRIND"] = "1"
        # No export on a timer inside the loop: one HTTP export costs millions of instructions,
        # and whether the timer fires within a short loop is chance. Spans are still encoded and
        # queued at their end (on the calling thread), metrics recorded; exporting is left out.
        env.update({f"OTEL_{name}": "600000" for name in ("BSP_SCHEDULE_DELAY", "BLRP_SCHEDULE_DELAY")})
        env["OTEL_METRIC_EXPORT_INTERVAL"] = "600000"
        # The loop-lag timer records once per interval, not per request: under callgrind's slowdown
        # its ticks would follow the wall clock (and the machine's load) into the count.
        env["OTEL_CHATBOT_LOOP_LAG_INTERVAL"] = "60000"
    command = [*wrap, sys.executable, *sys.argv]
    if args.variant == "bare":
        return subprocess.call(command, env=env)
    env["PYTHONPATH"] = os.pathsep.join((_auto_instrumentation_dir(), str(ROOT)))
    env.update(
        {
            "OTEL_PYTHON_DISTRO": "otel_chatbot",
            "OTEL_PYTHON_CONFIGURATOR": "otel_chatbot",
            "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_SERVICE_NAME": "bench-profile",
        }
    )
    return subprocess.call(command, env=env)


async def _lifespan(
    app: Any,
) -> tuple[asyncio.Task[None], asyncio.Queue[dict[str, Any]], asyncio.Queue[dict[str, Any]]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    message = await outbox.get()
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"lifespan start-up failed: {message}")
    return task, inbox, outbox


def _http_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/chat",
        "raw_path": b"/chat",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
            (b"user-agent", b"wrk"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


class _Window:
    """What runs around the measured loop: ``py-spy record --pid`` of this process when asked."""

    def __init__(self, pyspy_out: str | None, rate: int) -> None:
        self.pyspy_out, self.rate, self.profiler = pyspy_out, rate, None
        self.started = 0.0

    def open(self) -> None:
        self._callgrind("--instr=on")
        if self.pyspy_out:
            pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            command = [pyspy, "record", "-r", str(self.rate), "--nonblocking", "--full-filenames", "--format", "raw"]
            command += ["-o", self.pyspy_out, "--pid", str(os.getpid())]
            self.profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # attached before the loop starts
        self.started = time.process_time()

    def close(self) -> float:
        cpu = time.process_time() - self.started
        self._callgrind("--dump=loop")
        if self.profiler is not None:
            self.profiler.send_signal(signal.SIGINT)
            self.profiler.wait(30)
        return cpu

    def _callgrind(self, command: str) -> None:
        """Under ``valgrind --tool=callgrind --instr-atstart=no``: instrument (or dump) from here on.

        Callgrind reads commands only while the program runs code, so this spins until it answered;
        the spin is counted in the loop's dump (a few µs per call at the calls used: measure with
        ``--calls 0``).
        """
        if not os.environ.get("BENCH_CALLGRIND"):
            return
        control = subprocess.Popen(["callgrind_control", command, str(os.getpid())], stdout=subprocess.DEVNULL)
        while control.poll() is None:
            pass


async def _drive_app(module: str, calls: int, warmup: int, window: _Window) -> float:
    import importlib

    app = importlib.import_module(module).app
    task, inbox, outbox = await _lifespan(app)
    chunks = 0

    async def one() -> None:
        nonlocal chunks
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": BODY, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal chunks
            if message["type"] == "http.response.start" and message["status"] != 200:
                raise RuntimeError(f"status {message['status']}")
            if message["type"] == "http.response.body":
                chunks += 1

        await app(_http_scope(), receive, send)

    for _ in range(warmup):
        await one()
    chunks = 0
    window.open()
    for _ in range(calls):
        await one()
    cpu = window.close()
    print(f"body messages per request: {chunks / calls:.1f}")
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()
    await task
    return cpu


def _openai_call(base_url: str, stream: bool) -> Callable[[], None]:
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0)
    messages: Any = [{"role": "user", "content": "tell me about otel please"}]

    def call() -> None:
        if stream:
            for _ in client.chat.completions.create(
                model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
            ):
                pass
        else:
            client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    return call


def _run(args: argparse.Namespace) -> float:
    """CPU seconds of ``args.calls`` requests after ``args.warmup`` unmeasured ones."""
    window = _Window(args.pyspy, args.rate)
    if args.scenario in APPS:
        return asyncio.run(_drive_app(APPS[args.scenario], args.calls, args.warmup, window))
    call = _openai_call(os.environ["BENCH_OPENAI_URL"], stream=args.scenario == "openai-stream")
    for _ in range(args.warmup):
        call()
    window.open()
    for _ in range(args.calls):
        call()
    return window.close()


def _stats(sink_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{sink_url}/__sink/stats", timeout=5) as response:
        stats: dict[str, Any] = json.load(response)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=SCENARIOS, default="minimal")
    parser.add_argument("--variant", choices=("bare", "ours"), default="ours")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--wrap", default="", help="command prefix for the measured process (e.g. valgrind)")
    parser.add_argument(
        "--callgrind", default=None, help="callgrind output file: the measured loop only is instrumented and dumped"
    )
    parser.add_argument("--pyspy", default=None, help="py-spy raw profile of the measured loop only, to this file")
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    args = parser.parse_args(argv)
    if os.environ.get("BENCH_PROFILE_CHILD"):
        cpu = _run(args)
        per_request = cpu / max(args.calls, 1) * 1e6
        print(f"{args.scenario} {args.variant}: {per_request:.1f} CPU µs per request ({args.calls} requests)")
        from opentelemetry import trace

        flush = getattr(trace.get_tracer_provider(), "force_flush", None)
        if flush is not None:
            flush()
        return 0

    sys.path.insert(0, str(ROOT))
    from otel_chatbot.testing.process import bedrock_process, openai_process, otlp_sink_process

    env = _child_env()
    with otlp_sink_process(count_only=True, env=env) as sink:
        servers = []
        os.environ.update(FAKE_AWS)
        if args.scenario in ("converse", "sse"):
            servers.append(bedrock_process(env=env))
            os.environ["BEDROCK_ENDPOINT_URL"] = servers[-1].url
        if args.scenario.startswith("openai"):
            servers.append(openai_process(env=env))
            os.environ["BENCH_OPENAI_URL"] = servers[-1].url + "/v1"
        try:
            code = _child(args, sink.url)
            time.sleep(0.5)
            print(f"sink received: {_stats(sink.url)}")
        finally:
            for server in servers:
                server.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
