"""``otel-chatbot demo``: the example chatbot, instrumented, under load, with no collector.

In one process: the provider stand-ins (Bedrock, OpenAI-compatible, Anthropic, Ollama; each a
thread), the example FastAPI app under uvicorn (a thread with its own loop) instrumented by
``configure()``, calling every provider through its own client, with its semantic cache on
and failing over from Bedrock to the OpenAI-compatible stand-in, and the scripted load (the
main thread's loop; :data:`~otel_chatbot.demo.chatbot.load_plan.DEMO_MIX`), which also
throttles Bedrock on cue and sends users' feedback. Telemetry stays local: spans print as
readable lines and go to an OTLP/JSON file, metrics are served on a local Prometheus
``/metrics``, and a summary computed from the spans (and, for chat turns, loop lag and
feedback, the scraped metrics) closes the run, each count held against what the other end
saw: each stand-in's ledger, the load's clients. Everything is torn down in reverse order of
start, on success, failure or signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from otel_chatbot.demo.chatbot.config import ProviderName

if TYPE_CHECKING:
    from otel_chatbot.demo.chatbot.load import LoadReport
    from otel_chatbot.demo.summary import LedgerTotals

DEFAULT_OUTPUT = Path(tempfile.gettempdir()) / "otel-chatbot-demo"
TRACES_FILE = "traces.otlp.jsonl"
METRICS_FILE = "metrics.prom"
SETTLE_S = 0.3
"""Time for server spans of the last responses to end (they end after the last byte is sent)."""
STREAM_PACE_S = 0.03
"""The stand-ins' pause between stream events (two words each for Bedrock): about 65 words a
second, a small model's pace. Streams then last long enough for a client to leave one midway."""
FALLBACK: ProviderName = "openai"
"""Who the app fails over to when Bedrock throttles: the OpenAI-compatible stand-in."""
LOOP_LAG_INTERVAL_MS = 100
"""The run lasts seconds, not minutes: sample the loop lag more often than the default."""


@dataclass(frozen=True)
class DemoOptions:
    requests: int = 60
    sessions: int = 4
    duration_s: float = 30.0
    output: Path = DEFAULT_OUTPUT
    keep_running: bool = False
    trace_lines: bool = True
    otlp_endpoint: str | None = None
    """Also export all signals over OTLP to this collector (none by default)."""
    extra_settings: dict[str, Any] = field(default_factory=dict)


def telemetry_settings(options: DemoOptions) -> dict[str, Any]:
    """The ``configure()`` keywords of the demo: local outputs only unless a collector is given."""
    otlp = options.otlp_endpoint is not None
    settings: dict[str, Any] = {
        "service_name": "chatbot-demo",
        "traces_exporter": ("otlp",) if otlp else ("none",),
        "metrics_exporter": ("prometheus", "otlp") if otlp else ("prometheus",),
        "logs_exporter": ("otlp",) if otlp else ("none",),
        "prometheus_port": 0,
        # The live view (GET /stats and its page) on a free loopback port, printed with the other URLs.
        "stats_port": 0,
        "metric_export_interval_ms": 1000,
        "bsp_schedule_delay_ms": 200,
        "loop_lag_interval_ms": LOOP_LAG_INTERVAL_MS,
        # The app calls Ollama through httpx and the other providers through their SDKs; the load
        # generator's own httpx calls run inside suppress_instrumentation(): not the service's telemetry.
        "disabled_instrumentations": ("aiohttp-client",),
    }
    if otlp:
        settings["otlp_endpoint"] = options.otlp_endpoint
    return {**settings, **options.extra_settings}


class _Printer:
    """Writes whole lines to the demo's output; span lines come from another thread."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()


def run_demo(options: DemoOptions, out: TextIO | None = None) -> int:
    """Run the demo; returns the exit code (0, or 128 + signal number when stopped by one)."""
    from otel_chatbot.demo.signals import StopSignals

    stream = out if out is not None else sys.stdout
    signals = StopSignals().install()
    try:
        with contextlib.ExitStack() as stack:
            _run(options, _Printer(stream), stream, signals, stack)
    finally:
        signals.restore()
    return signals.exit_code


def _run(options: DemoOptions, say: _Printer, stream: TextIO, signals: Any, stack: contextlib.ExitStack) -> None:
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    from otel_chatbot import configure
    from otel_chatbot.demo.chatbot.app import create_app
    from otel_chatbot.demo.chatbot.load import run_load
    from otel_chatbot.demo.chatbot.load_plan import DEMO_MIX
    from otel_chatbot.demo.chatbot.service import SimulatedFailure
    from otel_chatbot.demo.exporters import OtlpJsonFileSpanExporter, readable_line_exporter
    from otel_chatbot.demo.servers import AppServer, ExpectedFailureFilter
    from otel_chatbot.demo.spans import SpanCollector

    options.output.mkdir(parents=True, exist_ok=True)
    traces_path = options.output / TRACES_FILE

    standins = StandIns.start(stack)
    app = create_app(standins.app_config())

    collector = SpanCollector()
    exporters: list[Any] = [collector, OtlpJsonFileSpanExporter(traces_path)]
    if options.trace_lines:
        exporters.append(readable_line_exporter(stream, prefix="span  "))
    settings = {**telemetry_settings(options), "genai_endpoints": standins.genai_endpoints()}
    telemetry = configure(app, span_exporters=exporters, **settings)
    stack.callback(telemetry.shutdown)

    error_log = logging.getLogger("uvicorn.error")
    quiet = ExpectedFailureFilter((SimulatedFailure,))
    error_log.addFilter(quiet)
    stack.callback(error_log.removeFilter, quiet)

    server = AppServer(app).start()
    stack.callback(server.stop)
    metrics_url = f"http://127.0.0.1:{telemetry.prometheus_port}/metrics"
    for line in standins.describe():
        say(line)
    say(f"app       example chatbot at {server.url} (instrumented with otel_chatbot.configure; Bedrock by default,")
    say(f"          semantic cache on, failover to {FALLBACK} when Bedrock throttles)")
    say(f"metrics   Prometheus text at {metrics_url}")
    if telemetry.stats_url is not None:
        say(f"live      live page at {telemetry.stats_url} (JSON at {telemetry.stats_url}stats; or: otel-chatbot top)")
    say(f"traces    OTLP/JSON lines in {traces_path}")
    say(f"load      {options.requests} requests over {options.sessions} sessions (at most {options.duration_s:g}s)")
    say()

    # The load's own HTTP calls (to the app and the stand-ins' control APIs) are not the service's.
    with suppress_instrumentation():
        report = asyncio.run(
            run_load(
                server.url,
                requests=options.requests,
                sessions=options.sessions,
                duration_s=options.duration_s,
                stop=signals.requested,
                prefix="demo",
                mix=DEMO_MIX,
                faults=standins.fault_targets(),
            )
        )
    time.sleep(SETTLE_S)
    # Scrape before anything flushes the meter provider: each MeterProvider.force_flush() makes the
    # upstream Prometheus reader repeat every metric family once more in the next scrape.
    metrics_text = _scrape(say, metrics_url)
    if not options.keep_running or signals.requested.is_set():
        server.stop()  # in-flight requests finish and their spans end before the flush
    if telemetry.tracer_provider is not None:  # None only with OTEL_SDK_DISABLED
        telemetry.tracer_provider.force_flush(10_000)

    _report(say, report, metrics_url, metrics_text, options.output, traces_path, collector, standins.ledgers())
    if options.keep_running and not signals.requested.is_set():
        say()
        live = f", the live page at {telemetry.stats_url}" if telemetry.stats_url else ""
        say(f"still serving {server.url} and {metrics_url}{live}; Ctrl-C to stop")
        signals.wait()


@dataclass
class StandIns:
    """The four provider stand-ins the demo's app calls, streaming at a model's pace."""

    bedrock: Any
    openai: Any
    anthropic: Any
    ollama: Any

    @classmethod
    def start(cls, stack: contextlib.ExitStack) -> StandIns:
        from otel_chatbot.testing.anthropic import AnthropicServer
        from otel_chatbot.testing.bedrock import BedrockServer
        from otel_chatbot.testing.ollama import OllamaServer
        from otel_chatbot.testing.openai import OpenAIServer

        servers = [
            kind(stream_pace_s=STREAM_PACE_S) for kind in (BedrockServer, OpenAIServer, AnthropicServer, OllamaServer)
        ]
        for server in servers:
            server.start()
            stack.callback(server.stop)
        return cls(*servers)

    def app_config(self) -> Any:
        from otel_chatbot.demo.chatbot.config import ChatbotConfig, Endpoint

        return ChatbotConfig(
            endpoint_url=self.bedrock.endpoint_url,
            fake_credentials=True,
            endpoints={
                "openai": Endpoint(self.openai.base_url, "demo-key"),
                "anthropic": Endpoint(self.anthropic.url, "demo-key"),
                "ollama": Endpoint(self.ollama.url),
            },
            fallback_provider=FALLBACK,
            semantic_cache=True,
        )

    def genai_endpoints(self) -> dict[str, str]:
        """Ollama on a free port is not on 11434: say where it is (OTEL_CHATBOT_GENAI_ENDPOINTS)."""
        return {self.ollama.url: "ollama"}

    def fault_targets(self) -> Any:
        from otel_chatbot.demo.chatbot.config import DEFAULT_MODEL_ID, DEFAULT_MODELS
        from otel_chatbot.demo.chatbot.load_faults import FaultTargets
        from otel_chatbot.demo.chatbot.providers.openai import RETRIES

        return FaultTargets(self.bedrock.url, DEFAULT_MODEL_ID, self.openai.url, DEFAULT_MODELS[FALLBACK], 1 + RETRIES)

    def describe(self) -> list[str]:
        paced = f"streams paced {STREAM_PACE_S:g}s/event"
        return [
            f"bedrock   local Bedrock-compatible server at {self.bedrock.endpoint_url} ({paced})",
            f"openai    local OpenAI-compatible server at {self.openai.base_url}",
            f"anthropic local Anthropic Messages API at {self.anthropic.url}",
            f"ollama    local Ollama at {self.ollama.url}",
        ]

    def ledgers(self) -> dict[str, LedgerTotals]:
        """Each stand-in's own count, by the ``gen_ai.provider.name`` of the calls it answered."""
        from otel_chatbot.demo.summary import LedgerTotals

        return {
            "aws.bedrock": LedgerTotals.from_json(self.bedrock.ledger.snapshot()["totals"]),
            "openai": LedgerTotals.from_json(self.openai.ledger.snapshot()["totals"], input_includes_cache=True),
            "anthropic": LedgerTotals.from_json(self.anthropic.ledger.snapshot()["totals"]),
            "ollama": LedgerTotals.from_json(self.ollama.ledger.snapshot()["totals"]),
        }


def _scrape(say: _Printer, metrics_url: str) -> str | None:
    from otel_chatbot.demo.metrics import scrape

    try:
        return scrape(metrics_url)
    except OSError as exc:
        say(f"could not read {metrics_url}: {exc}")
        return None


def _report(
    say: _Printer,
    load_report: LoadReport,
    metrics_url: str,
    metrics_text: str | None,
    output: Path,
    traces: Path,
    collector: Any,
    ledgers: dict[str, LedgerTotals],
) -> None:
    from otel_chatbot.demo import experience, operators
    from otel_chatbot.demo.metrics import histograms, key_lines
    from otel_chatbot.demo.summary import render, summarize

    say()
    say("== load ==")
    say(load_report.render())
    say()
    say(f"== metrics ({metrics_url}) ==")
    if metrics_text is not None:
        (output / METRICS_FILE).write_text(metrics_text, encoding="utf-8")
        for line in key_lines(metrics_text):
            say(f"  {line}")
        say(f"full scrape saved to {output / METRICS_FILE}")
    say()
    say("== traces ==")
    lines = sum(1 for _ in traces.open(encoding="utf-8")) if traces.exists() else 0
    say(f"{traces} ({lines} export requests, OTLP/JSON, one per line)")
    say()
    say("== summary ==")
    facts = collector.facts()
    text = metrics_text or ""
    turns = histograms(text, experience.TURN_HISTOGRAM, by=experience.ROUTE_LABEL)
    loop_lag = histograms(text, experience.LOOP_LAG_HISTOGRAM).get("")
    chat = experience.chat_experience(facts, turns, loop_lag)
    helpers = operators.operator_helpers(facts, text)
    parts = [
        experience.section(chat, load_report.clients, load_report.cut_off),
        operators.section(helpers, load_report.clients, "bedrock", load_report.cut_off),
    ]
    say(render(summarize(facts), ledgers, parts))
