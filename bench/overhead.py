"""Overhead benchmark: the minimal chat endpoint bare, under stock OpenTelemetry and under otel_chatbot.

Run from the repository root::

    .venv/bin/python bench/overhead.py --quick     # ~3 minutes: 3 repetitions, 1 and 32 connections
    .venv/bin/python bench/overhead.py             # 5 repetitions, 1, 32 and 64 connections

Every run starts a fresh uvicorn process (one worker, ``--no-access-log``) serving
``bench/apps/minimal.py`` in one of three configurations:

* ``bare``   -- plain uvicorn, no OpenTelemetry at all;
* ``stock``  -- ``opentelemetry-instrument`` with the upstream ``opentelemetry-distro``
  (``OTEL_PYTHON_DISTRO=distro``) and the upstream FastAPI instrumentation, OTLP
  http/protobuf to the local sink, traces + metrics + logs, everything else default;
* ``ours``   -- ``opentelemetry-instrument`` with otel_chatbot
  (``OTEL_PYTHON_DISTRO=otel_chatbot``), OTLP http/protobuf to the same sink,
  traces + metrics + logs, everything else default.

Runs are interleaved (repetition -> connections -> configurations, the configuration
order rotating with the repetition). For each run: wrk warm-up, then a timed wrk run
(``--latency``; p50/p99 come from wrk's histogram); server CPU is utime+stime of the
uvicorn process (all threads) from ``/proc/<pid>/stat`` read before and after the timed
run, divided by the requests wrk completed; RSS is ``VmRSS`` after the timed run. The
server is then stopped with SIGINT (so ``atexit`` shutdown hooks run and the SDKs
flush), and after the sink's counters stop moving the spans, metric points and log
records it received during that server's lifetime are recorded next to the exact
number of chat requests the app served (the app writes it at lifespan shutdown).

Output: a markdown table on stdout, and ``bench/results/overhead-<timestamp>.json`` /
``.md`` (plus ``overhead-latest.*``).

``--scenario bedrock`` / ``--scenario sse`` serve ``bench/apps/bedrock_chat.py`` (boto3 Converse in a
worker thread) or ``bench/apps/sse_chat.py`` (ConverseStream relayed as ``text/event-stream``) instead,
against one ``otel_chatbot.testing.bedrock`` started for the whole benchmark; the trace sink then keeps
spans, and the CLIENT spans (the Bedrock calls) received per run are counted. Results go to
``overhead-<scenario>-<timestamp>.*``.

``--scenario openai`` / ``--scenario openai-stream`` serve ``bench/apps/openai_chat.py`` (the ``openai``
SDK's ``AsyncOpenAI.chat.completions.create`` awaited on the app's loop) or ``bench/apps/openai_stream.py``
(the same, ``stream=True`` with ``include_usage``, relayed as ``text/event-stream``) against one
``otel_chatbot.testing.openai``. ``stock`` then runs the upstream ``opentelemetry-instrumentation-openai-v2``
(loaded by ``opentelemetry-instrument``'s own ``initialize()``, as every installed instrumentor is);
``ours`` runs otel_chatbot's GenAI-over-HTTP instrumentation (the SDK's ``httpx2`` requests), which
leaves upstream's openai-v2 out when both are installed. Each call is one GenAI CLIENT span either way.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from otel_chatbot.testing.process import ServerProcess, bedrock_process, openai_process, otlp_sink_process

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
APP = "bench.apps.minimal:app"
SCENARIOS = {
    "minimal": APP,
    "bedrock": "bench.apps.bedrock_chat:app",  # boto3 Converse against otel_chatbot/testing/bedrock
    "sse": "bench.apps.sse_chat:app",  # boto3 ConverseStream relayed as text/event-stream
    "openai": "bench.apps.openai_chat:app",  # openai.AsyncOpenAI chat completion against otel_chatbot/testing/openai
    "openai-stream": "bench.apps.openai_stream:app",  # the same, streamed, relayed as text/event-stream
}
STAND_INS = {"bedrock": "bedrock", "sse": "bedrock", "openai": "openai", "openai-stream": "openai"}
"""The provider stand-in each scenario's app calls (one process for the whole benchmark)."""
# fake credentials for the local Bedrock-compatible server (it checks nothing)
BEDROCK_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}
# the OpenAI-compatible stand-in checks no key either; the SDK wants one
OPENAI_KEY_ENV = {"OPENAI_API_KEY": "test"}
BODY = '{"message":"hello, what can you do?","conversation_id":"c-42"}'
CONFIGS = ("bare", "stock", "ours")
CLK_TCK = os.sysconf("SC_CLK_TCK")

WRK_LUA = f"""
wrk.method = "POST"
wrk.body = '{BODY}'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format('WRKJSON {{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,'
    .. '"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end
"""


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def system_busy_seconds() -> float:
    """CPU time all CPUs spent not idle (``/proc/stat``), in seconds."""
    vals = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    return (sum(vals[:8]) - idle) / CLK_TCK


def children_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def self_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def owns_listener(pid: int, port: int) -> bool:
    """True if process ``pid`` holds the socket listening on 127.0.0.1:``port``.

    The port comes from binding port 0 and closing: another process on a shared machine can
    take it before uvicorn binds it, and then uvicorn exits while the other process answers.
    """
    want = f"0100007F:{port:04X}"
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if f[1] == want and f[3] == "0A":  # 0A = LISTEN
            inodes.add(f"socket:[{f[9]}]")
    if not inodes:
        return False
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd_dir / fd) in inodes for fd in os.listdir(fd_dir))
    except OSError:
        return False


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(ROOT)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def server_command(config: str, port: int, app: str = APP) -> list[str]:
    uvicorn = [str(VENV_BIN / "uvicorn"), app, "--host", "127.0.0.1", "--port", str(port)]
    uvicorn += ["--workers", "1", "--no-access-log"]
    if config == "bare":
        return uvicorn
    if config == "stock":
        # opentelemetry-instrument's own initialize(), with otel_chatbot's entry points hidden
        return [sys.executable, str(ROOT / "bench" / "stock_instrument.py"), *uvicorn[1:]]
    return [str(VENV_BIN / "opentelemetry-instrument"), *uvicorn]


def stand_in_env(provider: str, url: str) -> dict[str, str]:
    """What points the app's client at the ``provider`` stand-in at ``url``, with throw-away credentials."""
    if provider == "bedrock":
        return {**BEDROCK_ENV, "BEDROCK_ENDPOINT_URL": url}
    if provider == "openai":
        return {**OPENAI_KEY_ENV, "OPENAI_BASE_URL": f"{url}/v1"}
    raise ValueError(provider)


def server_env(
    config: str,
    sink_http: str,
    metrics_http: str,
    served_file: str,
    stand_in: tuple[str, str] | None = None,
) -> dict[str, str]:
    """``stand_in``: (provider, url) of the provider stand-in the app calls."""
    env = clean_env()
    env["BENCH_SERVED_FILE"] = served_file
    if stand_in:
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE"):
            env.pop(k, None)
        for k in [k for k in env if k.startswith("OPENAI_")]:
            env.pop(k)
        env.update(stand_in_env(*stand_in))
    if config == "bare":
        return env
    env.update(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": sink_http,
            # metrics go to a second sink that keeps them (few points), so histogram counts can be checked
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": metrics_http + "/v1/metrics",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_SERVICE_NAME": f"bench-{config}",
        }
    )
    if config == "stock":
        env["OTEL_PYTHON_DISTRO"] = "distro"
        env["OTEL_PYTHON_CONFIGURATOR"] = "configurator"
    elif config == "ours":
        env["OTEL_PYTHON_DISTRO"] = "otel_chatbot"
        env["OTEL_PYTHON_CONFIGURATOR"] = "otel_chatbot"
    else:
        raise ValueError(config)
    return env


def post_once(port: int, timeout: float = 2.0) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("POST", "/chat", body=BODY, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        ok = resp.status == 200
        resp.read()  # the SSE scenario streams its body: read it to the end
        conn.close()
        return ok
    except OSError:
        return False


class Sink:
    """The testing kit's OTLP receiver as a child process (count-only unless ``keep``)."""

    def __init__(self, keep: bool = False) -> None:
        self.server = otlp_sink_process(count_only=not keep, env=clean_env(), cwd=ROOT)
        self.proc = self.server.process
        self.http = self.server.url

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.http + "/__sink/stats", timeout=5) as r:
            stats: dict[str, Any] = json.loads(r.read())
        return stats

    def reset(self) -> None:
        req = urllib.request.Request(self.http + "/__sink/reset", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            r.read()

    def metric_points(self, name: str) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.http}/__sink/metrics?name={name}", timeout=10) as r:
            return list(json.loads(r.read()))

    def duration_count(self) -> tuple[str, int] | None:
        """Requests recorded by the HTTP server duration histogram, summed over its series.

        Cumulative series: the latest point of each series; delta: the sum of all points.
        """
        for name in ("http.server.request.duration", "http.server.duration"):
            points = self.metric_points(name)
            if not points:
                continue
            latest: dict[str, dict[str, Any]] = {}
            total = 0
            for pt in points:
                if pt.get("temporality") == "delta":
                    total += pt.get("count") or 0
                    continue
                key = json.dumps(pt.get("attributes"), sort_keys=True) + json.dumps(pt.get("resource"), sort_keys=True)
                if key not in latest or pt["time_ns"] >= latest[key]["time_ns"]:
                    latest[key] = pt
            total += sum(pt.get("count") or 0 for pt in latest.values())
            return name, total
        return None

    def items(self) -> dict[str, int]:
        s = self.stats()
        return {**s["items"], "rejected": s["rejected"], "refused": s["refused"], "abandoned": s["abandoned"]}

    def settle(self, max_wait: float, quiet: float = 0.6) -> dict[str, int]:
        """Poll until the counters have not moved for ``quiet`` seconds (or ``max_wait``)."""
        deadline = time.monotonic() + max_wait
        last = self.items()
        still_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.items()
            if now != last:
                last, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= quiet:
                break
        return last

    def stop(self) -> None:
        self.server.stop()


def count_client_spans(sink: Sink) -> int:
    """CLIENT spans the keeping trace sink holds (the Bedrock calls: the apps make no other)."""
    with urllib.request.urlopen(sink.http + "/__sink/spans", timeout=30) as r:
        spans = json.loads(r.read())
    return sum(1 for s in spans if s.get("kind") == "CLIENT")


def run_wrk(lua: str, port: int, conns: int, duration: int, threads: int) -> dict[str, Any]:
    cmd = ["wrk", f"-t{min(threads, conns)}", f"-c{conns}", f"-d{max(1, duration)}s", "--latency", "--timeout", "5s"]
    cmd += ["-s", lua, f"http://127.0.0.1:{port}/chat"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30, check=True).stdout
    m = re.search(r"^WRKJSON (.*)$", out, re.M)
    if not m:
        raise RuntimeError(f"no WRKJSON in wrk output:\n{out}")
    result: dict[str, Any] = json.loads(m.group(1))
    return result


# --------------------------------------------------------------------------- one run


@dataclass
class Run:
    config: str
    conns: int
    rep: int
    requests: int = 0
    rps: float = 0.0
    cpu_us_per_req: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    rss_mib: float = 0.0
    errors: int = 0
    served: int | None = None  # chat requests the app served over the server's lifetime
    spans: int = 0
    metric_points: int = 0
    duration_metric: str | None = None
    duration_count: int = 0  # requests the HTTP server duration histogram recorded
    log_records: int = 0
    client_spans: int | None = None  # provider scenarios: CLIENT spans (the provider calls) received
    sink_not_accepted: int = 0
    sink_cpu_us_per_req: float = 0.0  # the receiver decoding what this server sent
    wrk_cpu_us_per_req: float = 0.0
    bedrock_cpu_us_per_req: float = 0.0  # the provider stand-in (Bedrock or OpenAI) answering this server's calls
    foreign_cpu_pct: float = 0.0  # other processes on the machine, % of all CPUs, during the timed run
    startup_s: float = 0.0
    exit_code: int | None = None
    notes: list[str] = field(default_factory=list)


class NoTelemetry(RuntimeError):
    """An instrumented server delivered no spans at all: its SDK did not start (see its log).

    Such a run is as fast as bare because it is bare; it must not count as a measurement.
    """

    def __init__(self, run: Run) -> None:
        super().__init__(f"{run.config}: no spans arrived for {run.served} requests served; run excluded")
        self.run = run


def check_telemetry(run: Run) -> Run:
    if run.config != "bare" and run.spans == 0:
        raise NoTelemetry(run)
    return run


@dataclass
class Started:
    proc: subprocess.Popen[bytes]
    port: int
    startup_s: float
    notes: list[str]


def start_server(config: str, app: str, env: dict[str, str], log: Any, served_file: str) -> Started:
    """Start ``config``'s server for ``app`` on a free port; wait until *this* process serves ``POST /chat``.

    On a shared machine another process can take the free port first: then uvicorn exits
    and another port is tried (5 in all).
    """
    notes: list[str] = []
    for _attempt in range(5):
        port = free_port()
        t0 = time.monotonic()
        command = server_command(config, port, app)
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        while proc.poll() is None and not (post_once(port, timeout=1.0) and owns_listener(proc.pid, port)):
            if time.monotonic() - t0 > 30:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"{config} server did not come up (see {log.name})")
            time.sleep(0.05)
        if proc.poll() is None:
            return Started(proc, port, time.monotonic() - t0, notes)
        notes.append(f"server exited at start (exit {proc.returncode}, port {port}); retried")
        if os.path.exists(served_file):
            os.unlink(served_file)
    raise RuntimeError(f"{config} server did not start in 5 attempts (see {log.name})")


def one_run(
    config: str,
    conns: int,
    rep: int,
    args: argparse.Namespace,
    sink: Sink,
    msink: Sink,
    lua: str,
    provider: ServerProcess | None = None,
) -> Run:
    """``provider``: the scenario's provider stand-in (Bedrock or OpenAI), ``None`` for ``minimal``."""
    stand_in = (STAND_INS[args.scenario], provider.url) if provider else None
    app = SCENARIOS[args.scenario]
    tag = config if args.scenario == "minimal" else f"{args.scenario}-{config}"
    run = Run(config, conns, rep)
    with tempfile.NamedTemporaryFile(prefix="bench-served-", delete=False) as f:
        served_file = f.name
    os.unlink(served_file)
    before = sink.settle(max_wait=2.0, quiet=0.3)
    msink.settle(max_wait=2.0, quiet=0.3)
    msink.reset()
    log = open(RESULTS / f"server-{tag}.log", "a", encoding="utf-8")  # noqa: SIM115 (closed in finally)
    env = server_env(config, sink.http, msink.http, served_file, stand_in)
    try:
        started = start_server(config, app, env, log, served_file)
    except RuntimeError:
        log.close()
        raise
    proc, port = started.proc, started.port
    run.notes += started.notes
    try:
        run.startup_s = started.startup_s
        run_wrk(lua, port, conns, args.warmup, args.threads)
        time.sleep(0.3)
        if proc.poll() is not None:
            raise RuntimeError(f"{config} server exited during warm-up (see {log.name})")
        cpu0, sink0, sys0 = cpu_seconds(proc.pid), cpu_seconds(sink.proc.pid), system_busy_seconds()
        msink0 = cpu_seconds(msink.proc.pid)
        provider0 = cpu_seconds(provider.process.pid) if provider else 0.0
        kids0, self0, t_0 = children_cpu_seconds(), self_cpu_seconds(), time.monotonic()
        w = run_wrk(lua, port, conns, args.duration, args.threads)
        time.sleep(0.3)  # let in-flight requests and queued export work land in the window
        if proc.poll() is not None:
            raise RuntimeError(f"{config} server exited during the timed run (see {log.name})")
        cpu1, sink1, sys1 = cpu_seconds(proc.pid), cpu_seconds(sink.proc.pid), system_busy_seconds()
        msink1 = cpu_seconds(msink.proc.pid)
        provider1 = cpu_seconds(provider.process.pid) if provider else 0.0
        kids1, self1, t_1 = children_cpu_seconds(), self_cpu_seconds(), time.monotonic()
        n = max(w["requests"], 1)
        run.sink_cpu_us_per_req = (sink1 - sink0) * 1e6 / n
        run.wrk_cpu_us_per_req = (kids1 - kids0) * 1e6 / n
        run.bedrock_cpu_us_per_req = (provider1 - provider0) * 1e6 / n
        ours_cpu = (cpu1 - cpu0) + (sink1 - sink0) + (msink1 - msink0) + (kids1 - kids0) + (self1 - self0)
        ours_cpu += provider1 - provider0
        foreign = max(0.0, (sys1 - sys0) - ours_cpu)
        run.foreign_cpu_pct = 100 * foreign / ((t_1 - t_0) * (os.cpu_count() or 1))
        run.rss_mib = rss_kib(proc.pid) / 1024
        run.requests = w["requests"]
        run.rps = w["requests"] / (w["duration_us"] / 1e6)
        run.cpu_us_per_req = (cpu1 - cpu0) * 1e6 / max(w["requests"], 1)
        run.p50_ms = w["p50_us"] / 1000
        run.p99_ms = w["p99_us"] / 1000
        run.errors = sum(w[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts"))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # SIGINT: uvicorn shuts down and atexit hooks run
        try:
            run.exit_code = proc.wait(timeout=args.shutdown_timeout)
        except subprocess.TimeoutExpired:
            run.notes.append("server did not exit after SIGINT; killed")
            proc.kill()
            run.exit_code = proc.wait()
        log.close()
    after = sink.settle(max_wait=args.flush_wait)
    mafter = msink.settle(max_wait=2.0)
    run.spans = after["traces"] - before["traces"]
    run.metric_points = mafter["metrics"]
    run.log_records = after["logs"] - before["logs"]
    if stand_in:
        # the trace sink keeps spans in these scenarios; counted and emptied after every run
        run.client_spans = count_client_spans(sink)
        sink.reset()
    run.sink_not_accepted = sum(after[k] - before[k] for k in ("rejected", "refused", "abandoned"))
    run.sink_not_accepted += sum(mafter[k] for k in ("rejected", "refused", "abandoned"))
    found = msink.duration_count()
    if found:
        run.duration_metric, run.duration_count = found
    try:
        run.served = int(Path(served_file).read_text())
        os.unlink(served_file)
    except (OSError, ValueError):
        run.notes.append("app did not report the served count")
    return run


# --------------------------------------------------------------------------- summary


def med(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def fmt(t: tuple[float, float, float], digits: int = 0, suffix: str = "") -> str:
    m, lo, hi = t
    f = f"{{:,.{digits}f}}"
    return f"{f.format(m)}{suffix} ({f.format(lo)}–{f.format(hi)})"  # noqa: RUF001


def summarize(runs: list[Run], configs: list[str], conns_list: list[int]) -> list[dict[str, Any]]:
    rows = []
    bare = {(r.conns, r.rep): r for r in runs if r.config == "bare"}
    for conns in conns_list:
        for config in configs:
            rs = [r for r in runs if r.config == config and r.conns == conns]
            if not rs:
                continue
            paired = [(r, bare[(r.conns, r.rep)]) for r in rs if (r.conns, r.rep) in bare]
            row: dict[str, Any] = {
                "config": config,
                "conns": conns,
                "runs": len(rs),
                "rps": med([r.rps for r in rs]),
                "cpu_us_per_req": med([r.cpu_us_per_req for r in rs]),
                "p50_ms": med([r.p50_ms for r in rs]),
                "p99_ms": med([r.p99_ms for r in rs]),
                "rss_mib": med([r.rss_mib for r in rs]),
                "sink_cpu_us_per_req": med([r.sink_cpu_us_per_req for r in rs]),
                "bedrock_cpu_us_per_req": med([r.bedrock_cpu_us_per_req for r in rs]),
                "foreign_cpu_pct": med([r.foreign_cpu_pct for r in rs]),
                "errors": sum(r.errors for r in rs),
                "served": sum(r.served or 0 for r in rs),
                "spans": sum(r.spans for r in rs),
                "metric_points": sum(r.metric_points for r in rs),
                "duration_count": sum(r.duration_count for r in rs),
                "log_records": sum(r.log_records for r in rs),
                "client_spans": (
                    sum(r.client_spans for r in rs if r.client_spans is not None)
                    if any(r.client_spans is not None for r in rs)
                    else None
                ),
                "sink_not_accepted": sum(r.sink_not_accepted for r in rs),
            }
            if config != "bare" and paired:
                row["share_of_bare"] = med([r.rps / b.rps for r, b in paired])
                row["added_cpu_us_per_req"] = med([r.cpu_us_per_req - b.cpu_us_per_req for r, b in paired])
            served = row["served"]
            row["spans_per_request"] = row["spans"] / served if served else None
            rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]], client_spans: bool = False) -> str:
    """The table; ``client_spans`` adds columns for the provider's CLIENT spans and stand-in (provider scenarios)."""
    head = (
        "| config | conns | req/s | share of bare | server CPU µs/req | added CPU µs/req | p50 ms | p99 ms "
        "| RSS MiB | served | spans (per req) | "
        + ("provider CLIENT spans (per req) | " if client_spans else "")
        + "metric points | duration histogram count | log records "
        "| sink CPU µs/req | "
        + ("stand-in CPU µs/req | " if client_spans else "")
        + "other load % |\n"
        + "|---" * (18 if client_spans else 16)
        + "|\n"
    )
    lines = []
    for r in rows:
        share = fmt(tuple(x * 100 for x in r["share_of_bare"]), 0, " %") if "share_of_bare" in r else "100 %"
        added = fmt(r["added_cpu_us_per_req"], 0) if "added_cpu_us_per_req" in r else "—"
        spr = r["spans_per_request"]
        spans = f"{r['spans']:,} ({spr:.2f})" if spr is not None else f"{r['spans']:,}"
        if client_spans:
            n = r.get("client_spans") or 0
            spans += f" | {n:,} ({n / r['served']:.2f})" if r["served"] else f" | {n:,}"
        lines.append(
            f"| {r['config']} | {r['conns']} | {fmt(r['rps'])} | {share} | {fmt(r['cpu_us_per_req'])} | {added} "
            f"| {fmt(r['p50_ms'], 2)} | {fmt(r['p99_ms'], 2)} | {fmt(r['rss_mib'], 1)} | {r['served']:,} | {spans} "
            f"| {r['metric_points']:,} | {r['duration_count']:,} | {r['log_records']:,} "
            f"| {fmt(r['sink_cpu_us_per_req'])} "
            + (f"| {fmt(r['bedrock_cpu_us_per_req'])} " if client_spans else "")
            + f"| {fmt(r['foreign_cpu_pct'])} |"
        )
    return head + "\n".join(lines) + "\n"


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "cpus": str(os.cpu_count())}
    for pkg in (
        "fastapi",
        "uvicorn",
        "pydantic",
        "opentelemetry-sdk",
        "opentelemetry-distro",
        "opentelemetry-instrumentation-fastapi",
        "opentelemetry-exporter-otlp-proto-http",
        "otel-chatbot",
        "uvloop",
        "httptools",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "otel_chatbot", "pyproject.toml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
        out["git_head"] = head
        out["package_last_commit"] = subprocess.run(
            ["git", "log", "-1", "--format=%h %s", "--", "otel_chatbot", "pyproject.toml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()[:120]
        out["package_uncommitted_changes"] = ", ".join(line[3:] for line in dirty if line.strip()) or "none"
    except OSError:
        pass
    with contextlib.suppress(OSError, IndexError):
        out["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    return out


# --------------------------------------------------------------------------- main


def resummarize(path: Path) -> int:
    data = json.loads(path.read_text())
    runs, failures = [], list(data.get("failures", []))
    for raw in data["runs"]:
        run = Run(**raw)
        try:
            runs.append(check_telemetry(run))
        except NoTelemetry as exc:
            failures.append({"config": run.config, "conns": run.conns, "rep": run.rep, "error": repr(exc), "run": raw})
    scenario = data.get("scenario", "minimal")
    table = markdown(summarize(runs, data["configs"], data["conns"]), client_spans=scenario != "minimal")
    out = path.with_suffix(".resummarized.md")
    out.write_text(
        f"# {path.name}, resummarized\n\n`{data['command']}`\n\n{table}\n"
        + (f"**{len(failures)} run(s) excluded or failed**: {failures}\n" if failures else "")
    )
    print(table)
    for f in failures:
        print(f"excluded/failed: rep={f['rep']} conns={f['conns']} {f['config']}: {f['error']}")
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--scenario",
        choices=tuple(SCENARIOS),
        default="minimal",
        help="minimal: bench/apps/minimal.py; bedrock: boto3 Converse against otel_chatbot/testing/bedrock "
        "(bench/apps/bedrock_chat.py); sse: ConverseStream relayed as server-sent events (bench/apps/sse_chat.py); "
        "openai: openai.AsyncOpenAI chat completions against otel_chatbot/testing/openai (bench/apps/openai_chat.py); "
        "openai-stream: the same streamed, relayed as server-sent events (bench/apps/openai_stream.py)",
    )
    p.add_argument("--quick", action="store_true", help="3 repetitions of 4 s at 1 and 32 connections")
    p.add_argument("--reps", type=int, help="repetitions (default 5, quick 3)")
    p.add_argument("--duration", type=int, help="seconds per timed wrk run (default 10, quick 4)")
    p.add_argument("--warmup", type=int, help="seconds of wrk warm-up per run (default 2, quick 1)")
    p.add_argument("--conns", help="comma-separated connection counts (default 1,32,64; quick 1,32)")
    p.add_argument("--configs", default=",".join(CONFIGS), help="subset of bare,stock,ours")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: leave the cores to the server)")
    p.add_argument("--flush-wait", type=float, default=8.0, help="max seconds to wait for the sink to go quiet")
    p.add_argument("--shutdown-timeout", type=float, default=20.0)
    p.add_argument(
        "--retry-busy",
        type=int,
        default=0,
        metavar="N",
        help="repeat a run up to N times while other processes used more than --max-other-load %% of the CPUs",
    )
    p.add_argument("--max-other-load", type=float, default=10.0, metavar="PCT")
    p.add_argument(
        "--resummarize",
        metavar="JSON",
        help="rebuild the table from a results JSON, moving instrumented runs with no spans to the failures",
    )
    args = p.parse_args(argv)
    if args.resummarize:
        return resummarize(Path(args.resummarize))
    args.reps = args.reps or (3 if args.quick else 5)
    args.duration = args.duration or (4 if args.quick else 10)
    args.warmup = args.warmup or (1 if args.quick else 2)
    conns_list = [int(c) for c in (args.conns or ("1,32" if args.quick else "1,32,64")).split(",")]
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            p.error(f"unknown config {c!r}")
    if not shutil.which("wrk"):
        p.error("wrk not found on PATH (Debian/Ubuntu: apt-get install -y wrk)")

    RESULTS.mkdir(parents=True, exist_ok=True)
    minimal = args.scenario == "minimal"
    for c in configs:
        (RESULTS / (f"server-{c}.log" if minimal else f"server-{args.scenario}-{c}.log")).write_text("")
    lua_file = RESULTS / "post.lua"
    lua_file.write_text(WRK_LUA)
    v_start = versions()
    # provider scenarios: the trace sink keeps spans, so the provider's CLIENT spans can be counted per run
    sink = Sink(keep=not minimal)
    msink = Sink(keep=True)
    provider: ServerProcess | None = None
    if not minimal:
        try:
            start = bedrock_process if STAND_INS[args.scenario] == "bedrock" else openai_process
            provider = start(env=clean_env(), cwd=ROOT)  # the provider stand-in, one per benchmark
        except Exception:
            sink.stop()
            msink.stop()
            raise
    runs: list[Run] = []
    failures: list[dict[str, Any]] = []
    started = time.time()
    total = args.reps * len(conns_list) * len(configs)
    try:
        for rep in range(args.reps):
            for conns in conns_list:
                k = rep % len(configs)
                for config in configs[k:] + configs[:k]:
                    got: Run | None = None
                    for _ in range(2):  # a failed run is tried once more
                        try:
                            got = check_telemetry(
                                one_run(config, conns, rep, args, sink, msink, str(lua_file), provider)
                            )
                            break
                        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                            failure = {"config": config, "conns": conns, "rep": rep, "error": repr(exc)}
                            if isinstance(exc, NoTelemetry):
                                failure["run"] = asdict(exc.run)
                            failures.append(failure)
                            print(f"  FAILED rep={rep} conns={conns} {config}: {exc!r}", flush=True)
                    if got is None:
                        continue
                    run = got
                    for attempt in range(args.retry_busy):
                        if run.foreign_cpu_pct <= args.max_other_load:
                            break
                        print(f"  (other load {run.foreign_cpu_pct:.0f} %: repeating {config} conns={conns})")
                        try:
                            retry = check_telemetry(
                                one_run(config, conns, rep, args, sink, msink, str(lua_file), provider)
                            )
                        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                            failure = {"config": config, "conns": conns, "rep": rep, "error": repr(exc)}
                            if isinstance(exc, NoTelemetry):
                                failure["run"] = asdict(exc.run)
                            failures.append(failure)
                            print(f"  retry failed: {exc!r}; keeping the busy run", flush=True)
                            break
                        run = retry
                        run.notes.append(f"retry {attempt + 1} (machine busy)")
                    runs.append(run)
                    print(
                        f"[{len(runs)}/{total}] rep={rep} conns={conns:<3} {config:<5} "
                        f"{run.rps:8.0f} req/s  cpu {run.cpu_us_per_req:6.0f} µs/req  "
                        f"p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:7.2f} ms  rss {run.rss_mib:5.1f} MiB  "
                        f"served {run.served}  spans {run.spans}  points {run.metric_points}  "
                        f"hist {run.duration_count}  "
                        + (f"client spans {run.client_spans}  " if not minimal else "")
                        + f"logs {run.log_records}  sink {run.sink_cpu_us_per_req:.0f} µs/req  "
                        + (f"stand-in {run.bedrock_cpu_us_per_req:.0f} µs/req  " if not minimal else "")
                        + f"other load {run.foreign_cpu_pct:.0f} %  exit {run.exit_code} {' '.join(run.notes)}",
                        flush=True,
                    )
    finally:
        sink.stop()
        msink.stop()
        if provider:
            provider.stop()

    rows = summarize(runs, configs, conns_list)
    table = markdown(rows, client_spans=not minimal)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
    cmd = " ".join([".venv/bin/python", "bench/overhead.py", *(argv if argv is not None else sys.argv[1:])])
    md = (
        f"# Overhead benchmark {stamp}\n\n`{cmd}`\n\n"
        f"{args.reps} repetitions x {args.duration:g} s (after {args.warmup:g} s warm-up) per cell; "
        "median (min-max). Added CPU and share of bare are paired with the bare run of the same repetition. "
        "served/spans/points/logs are totals over all runs of the cell, counted over each server's lifetime "
        "(warm-up included) after a SIGINT shutdown and flush wait. sink CPU is the receiver decoding what the "
        "server sent (not part of the server's CPU). other load % is CPU used during the timed run by processes "
        "other than the server, the sink, wrk and this script, as a share of all CPUs: if it is not near 0 "
        "the machine was shared and the cell is contaminated.\n\n"
        f"{table}\n"
        + (f"**{len(failures)} run(s) failed** (see the JSON): {failures}\n\n" if failures else "")
        + f"Versions: {json.dumps(v_start)}\n"
    )
    v_end = versions()
    if v_end != v_start:
        md += f"\n**Installed versions or the package's git state changed during the run**: {json.dumps(v_end)}\n"
    data = {
        "command": cmd,
        "started_utc": stamp,
        "scenario": args.scenario,
        "params": {k: v for k, v in vars(args).items()},
        "conns": conns_list,
        "configs": configs,
        "versions": v_start,
        "versions_at_end": v_end,
        "summary": rows,
        "runs": [asdict(r) for r in runs],
        "failures": failures,
    }
    prefix = "overhead" if minimal else f"overhead-{args.scenario}"
    for name in (f"{prefix}-{stamp}", f"{prefix}-latest"):
        (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2))
        (RESULTS / f"{name}.md").write_text(md)
    print()
    print(table)
    print(f"wrote {RESULTS / f'{prefix}-{stamp}.json'} and .md ({time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
