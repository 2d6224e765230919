"""Issue 4, item 4: the example app under the distro -> otelcol-chatbot -> real backends, end to end.

One scenario (a module fixture) runs everything once, then each test checks one promise:

* the app: ``opentelemetry-instrument uvicorn otel_chatbot.demo.chatbot.app:app`` as a subprocess,
  exporting OTLP/HTTP to the collector, Bedrock being ``otel_chatbot.testing.bedrock``;
* the collector: ``otelcol-chatbot --config collector/config.yaml`` (the shipped file,
  configured only through its environment variables), file_storage in a temporary directory;
* Prometheus: Debian's ``prometheus`` with the remote-write receiver and exemplar storage;
* Tempo: an ``OtlpSink`` (OTLP/gRPC), also the log backend (``OTELCOL_LOGS_EXPORTER=otlp_grpc/logs``);
* CloudWatch Logs: ``moto_server``, read back with boto3.

The collector reaches Prometheus and moto through a :class:`TcpGate` each, so they can go down
(every connection reset) and come back with what they stored.

Phase 1 (collector #1, tail sampling keeps 100 % of the ordinary traces): a known workload over
every route, including a 500, 404s (matched and unmatched), a 422, a Bedrock validation error,
an exhausted Bedrock throttle and a slow Bedrock call. Then collector #1 stops (SIGTERM) and
#2 starts on the same storage with the baseline sampling rate at 0 %, Tempo refusing every
export. Phase 2 runs a second workload with every backend down: Tempo and the log backend refuse
(503), Prometheus and CloudWatch reset every connection. Once every trace is decided and each
persistent queue has tried (and failed) to send, #2 is SIGKILLed, the backends come back and #3
starts on the same storage: everything #2 accepted must arrive, exactly once -- the traces tail
sampling keeps, the log records, the Prometheus samples and the CloudWatch EMF deltas.

The app captures prompt and completion content (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT):
none of it may reach a backend (collector/README.md, "Captured content is deleted").
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn.config
from e2e_backends import REPO, ChatbotApp, Moto, Prometheus, prometheus_binary, self_metric_sum
from e2e_emf import (
    awsemf_config,
    declaration_problems,
    emf_problems,
    metric_names,
    read_events,
    read_stream,
    statistic_total,
)
from e2e_workload import BAD_MODEL, MODEL, Workload, plan, run
from otelcol_harness import COLLECTOR_DIR, Collector, loopback_env
from tcp_gate import TcpGate

from otel_chatbot.testing.bedrock import BedrockServer
from otel_chatbot.testing.otlp_sink import LogEntry, OtlpSink, SinkStats, SpanRecord

# No timeout mark of its own: conftest's extend_build_timeout gives room for a cold collector build.
pytestmark = pytest.mark.e2e

T = TypeVar("T")

SERVICE = "chatbot-e2e"
ENVIRONMENT = "e2e"
REGION = "us-east-1"
NAMESPACE = "OtelChatbotE2E"
LOG_GROUP = "/otel-chatbot/e2e-metrics"
LOG_STREAM = "otelcol-e2e"
SLOW_MS = 1000
# Longer than any request's trace takes to complete: the throttled request's boto3 retries back off
# up to 1 + 2 + 4 s, and its first span (fastapi.dependencies) is exported long before its ERROR
# client span; a trace decided before that span arrives would be dropped at 0 %.
DECISION_WAIT_S = 10

PHASE1 = {
    "chat": 3,
    "stream": 2,
    "agent": 2,
    "v1_chat": 2,
    "v1_models": 1,
    "history": 1,
    "history_missing": 1,
    "fail": 2,
    "not_found": 2,
    "invalid": 1,
    "bad_model": 1,
    "throttled": 1,
    "slow": 1,
}
PHASE2 = {
    "chat": 2,
    "stream": 1,
    "agent": 1,
    "history_missing": 1,
    "fail": 2,
    "not_found": 1,
    "invalid": 1,
    "bad_model": 1,
    "throttled": 1,
    "slow": 1,
}

REQUESTS_PROMQL = (
    "sum by (http_request_method, http_route, http_response_status_code, http_status_class) "
    f'(http_server_request_duration_seconds_count{{job="{SERVICE}"}})'
)
REQUEST_LABELS = ("http_request_method", "http_route", "http_response_status_code", "http_status_class")
TOKENS_PROMQL = f'sum by (gen_ai_operation_name, gen_ai_token_type) (gen_ai_client_token_usage_sum{{job="{SERVICE}"}})'
TOKEN_LABELS = ("gen_ai_operation_name", "gen_ai_token_type")
COST_PROMQL = f'sum by (gen_ai_token_type) (gen_ai_client_cost_USD_total{{job="{SERVICE}"}})'
EMF_REQUEST_KEY = ("http.request.method", "http.route", "http.response.status_code", "http.status_class")
EMF_TOKEN_KEY = ("gen_ai.operation.name", "gen_ai.token.type")
BEDROCK_OPERATION = {"Converse": "chat", "ConverseStream": "chat", "InvokeAgent": "invoke_agent"}


# -- results of the one scenario ---------------------------------------------------------------


@dataclass
class Results:
    phase1: Workload
    phase2: Workload
    bedrock_port: int = 0
    unexpected: list[str] = field(default_factory=list)
    ledger_phase1: dict[str, Any] = field(default_factory=dict)
    ledger_final: dict[str, Any] = field(default_factory=dict)
    accepted_spans_phase1: float = 0
    accepted_log_records_phase1: float = 0
    logs_phase1: list[LogEntry] = field(default_factory=list)
    accepted_log_records_by_2: float = 0
    accepted_log_records_by_3: float = 0
    logs_phase2: list[LogEntry] = field(default_factory=list)
    spools_refused_before_kill: dict[str, float] = field(default_factory=dict)
    tempo_phase1: list[SpanRecord] = field(default_factory=list)
    prom_requests_phase1: dict[tuple[str, ...], float] = field(default_factory=dict)
    prom_tokens_phase1: dict[tuple[str, ...], float] = field(default_factory=dict)
    prom_cost_phase1: dict[tuple[str, ...], float] = field(default_factory=dict)
    prom_cost_final: dict[tuple[str, ...], float] = field(default_factory=dict)
    emf_phase1: list[dict[str, Any]] = field(default_factory=list)
    decisions_before_kill: dict[str, float] = field(default_factory=dict)
    tempo_stats_before_kill: SinkStats | None = None
    tempo_queue_before_kill: float = 0
    tempo_queue_loaded_by_3: dict[str, int] = field(default_factory=dict)
    tempo_phase2: list[SpanRecord] = field(default_factory=list)
    prom_requests_final: dict[tuple[str, ...], float] = field(default_factory=dict)
    prom_tokens_final: dict[tuple[str, ...], float] = field(default_factory=dict)
    emf_final: list[dict[str, Any]] = field(default_factory=list)
    emf_stream_final: list[dict[str, Any]] = field(default_factory=list)
    exemplar_trace_ids: set[str] = field(default_factory=set)
    logs: dict[str, Callable[[], str]] = field(default_factory=dict)

    def diagnostics(self) -> str:
        return "\n".join(f"--- {name} (tail)\n{tail()}" for name, tail in self.logs.items())


def settle(read: Callable[[], T], done: Callable[[T], bool], timeout: float, interval: float = 0.3) -> T:
    """Poll ``read`` until ``done`` says so or ``timeout`` passes; the last reading either way.

    The scenario never fails on a wait: the tests compare what was finally there.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def expected_tokens(ledger: Mapping[str, Any]) -> dict[tuple[str, ...], float]:
    """Ledger tokens as the distro labels them: (gen_ai.operation.name, gen_ai.token.type) -> total."""
    totals: Counter[tuple[str, ...]] = Counter()
    for operations in ledger["models"].values():
        for operation, entry in operations.items():
            name = BEDROCK_OPERATION[operation]
            totals[(name, "input")] += entry["input_tokens"]
            totals[(name, "output")] += entry["output_tokens"]
    return {key: float(value) for key, value in totals.items() if value}


def requests_by_series(*workloads: Workload) -> dict[tuple[str, ...], float]:
    counts: Counter[tuple[str, ...]] = Counter()
    for workload in workloads:
        counts.update(workload.series_counts())
    return {key: float(value) for key, value in counts.items()}


def traces_by_path(spans: list[SpanRecord]) -> dict[str, list[SpanRecord]]:
    """Spans grouped into traces, each trace named by the ``url.path`` of its server span."""
    by_trace: dict[str, list[SpanRecord]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    named: dict[str, list[SpanRecord]] = {}
    for trace in by_trace.values():
        servers = [s for s in trace if s.kind == "SERVER"]
        key = str(servers[0].attributes.get("url.path")) if len(servers) == 1 else f"<trace {trace[0].trace_id}>"
        named[key] = trace
    return named


def loaded_queue(log: str, exporter: str) -> dict[str, int]:
    """What a starting collector says it found in ``exporter``'s persistent queue (its "Loaded queue metadata" line)."""
    for line in log.splitlines():
        if "Loaded queue metadata" in line and f'"otelcol.component.id": "{exporter}"' in line:
            return {key: int(value) for key, value in re.findall(r'"(\w+)": (\d+)', line)}
    return {}


def signature(trace: list[SpanRecord]) -> Counter[tuple[str, str, str, str]]:
    """What a trace is made of: (scope, kind, name, status) of each distinct span."""
    unique = {s.span_id: s for s in trace}
    return Counter((s.scope_name, s.kind, s.name, s.status_code) for s in unique.values())


# -- the scenario --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario(otelcol_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Results]:
    prometheus_bin = prometheus_binary()
    if prometheus_bin is None:
        pytest.skip("prometheus is not installed (scripts/install_system_deps.sh installs Debian's package)")
    work = tmp_path_factory.mktemp("e2e_collector")
    results = Results(phase1=plan("p1", PHASE1), phase2=plan("p2", PHASE2))
    collectors: list[Collector] = []

    def stop_collectors() -> None:
        for collector in collectors:
            collector.stop()

    with contextlib.ExitStack() as stack:
        prometheus = Prometheus(prometheus_bin, work)
        stack.callback(prometheus.stop)
        prometheus.start()
        moto = Moto(work)
        stack.callback(moto.stop)
        moto.start()
        prometheus_gate = stack.enter_context(TcpGate(prometheus.port))
        moto_gate = stack.enter_context(TcpGate(moto.port))
        tempo = stack.enter_context(OtlpSink())
        bedrock = stack.enter_context(BedrockServer())
        results.bedrock_port = bedrock.port
        logs_client = moto.logs_client(REGION)

        env = loopback_env(
            work / "storage",
            OTELCOL_TEMPO_ENDPOINT=tempo.grpc_endpoint,
            OTELCOL_PROMETHEUS_REMOTE_WRITE_ENDPOINT=f"{prometheus_gate.url}/api/v1/write",
            OTELCOL_CLOUDWATCH_ENDPOINT=moto_gate.url,
            OTELCOL_LOGS_EXPORTER="otlp_grpc/logs",
            OTELCOL_LOGS_ENDPOINT=tempo.grpc_endpoint,
            OTELCOL_CLOUDWATCH_LOG_GROUP=LOG_GROUP,
            OTELCOL_CLOUDWATCH_LOG_STREAM=LOG_STREAM,
            OTELCOL_CLOUDWATCH_NAMESPACE=NAMESPACE,
            OTELCOL_DEPLOYMENT_ENVIRONMENT=ENVIRONMENT,
            OTELCOL_TAIL_DECISION_WAIT=f"{DECISION_WAIT_S}s",
            OTELCOL_TAIL_SLOW_MS=str(SLOW_MS),
            OTELCOL_TAIL_SAMPLE_PERCENT="100",
            AWS_REGION=REGION,
        )
        self_port = env["OTELCOL_SELF_METRICS_PORT"]

        def start_collector(overrides: Mapping[str, str]) -> Collector:
            number = len(collectors) + 1
            log = work / f"collector-{number}.log"
            collector = Collector(otelcol_binary, ["config.yaml"], {**env, **overrides}, log)
            collectors.append(collector)
            results.logs[f"collector #{number}"] = collector.log_tail
            return collector.start()

        stack.callback(stop_collectors)
        start_collector({})

        app_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        app_env.update(
            PYTHONPATH=str(REPO),
            PYTHONUNBUFFERED="1",
            OTEL_SERVICE_NAME=SERVICE,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{env['OTELCOL_OTLP_HTTP_ENDPOINT']}",
            OTEL_METRIC_EXPORT_INTERVAL="1000",
            OTEL_BSP_SCHEDULE_DELAY="200",
            OTEL_CHATBOT_AWS_DETECTORS="none",
            OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true",
            BEDROCK_ENDPOINT_URL=bedrock.endpoint_url,
            AWS_REGION=REGION,
        )
        # uvicorn's own logging config stops its records at the "uvicorn" logger (propagate: false), so
        # the distro's handler on the root logger never sees them and the example app logs nothing else.
        # Let them propagate: the 500s' "Exception in ASGI application" records are then exported (OTLP).
        uvicorn_logging = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
        uvicorn_logging["loggers"]["uvicorn"]["propagate"] = True
        log_config = work / "uvicorn-logging.json"
        log_config.write_text(json.dumps(uvicorn_logging))
        app = ChatbotApp(app_env, work / "app.log", log_config)
        stack.callback(app.stop)
        app.start()
        results.logs["app"] = app.log_tail
        results.logs["prometheus"] = prometheus.log_tail

        # ---- phase 1: everything sampled ----
        results.unexpected += run(results.phase1, app.base_url, bedrock)
        results.ledger_phase1 = bedrock.ledger.snapshot()
        paths1 = {r.path for r in results.phase1.requests}

        def tempo_complete() -> bool:
            spans = tempo.spans()
            found = {str(s.attributes.get("url.path")) for s in spans if s.kind == "SERVER"}
            return paths1 <= found and len(spans) == self_metric_sum(self_port, "otelcol_receiver_accepted_spans")

        settle(lambda: tempo_complete(), bool, DECISION_WAIT_S + 30)
        time.sleep(1.0)  # late spans would show now
        results.accepted_spans_phase1 = self_metric_sum(self_port, "otelcol_receiver_accepted_spans")
        results.accepted_log_records_phase1 = self_metric_sum(self_port, "otelcol_receiver_accepted_log_records")
        results.tempo_phase1 = tempo.spans()
        results.logs_phase1 = settle(tempo.logs, lambda r: len(r) >= results.accepted_log_records_phase1, 10)

        want_requests1 = requests_by_series(results.phase1)
        want_tokens1 = expected_tokens(results.ledger_phase1)
        results.prom_requests_phase1 = settle(
            lambda: prometheus.vector(REQUESTS_PROMQL, *REQUEST_LABELS), lambda v: v == want_requests1, 30
        )
        results.prom_tokens_phase1 = settle(
            lambda: prometheus.vector(TOKENS_PROMQL, *TOKEN_LABELS), lambda v: v == want_tokens1, 15
        )

        def emf_events() -> list[dict[str, Any]]:
            try:
                return read_events(logs_client, LOG_GROUP)
            except logs_client.exceptions.ResourceNotFoundException:
                return []

        def emf_requests(events: list[dict[str, Any]]) -> dict[tuple[str, ...], float]:
            parsed = [e["parsed"] for e in events]
            return statistic_total(parsed, "http.server.request.duration", "Count", EMF_REQUEST_KEY)

        def emf_has(want: dict[tuple[str, ...], float]) -> Callable[[list[dict[str, Any]]], bool]:
            # ">=": each series has reached its count (the exact comparison is a test's job)
            return lambda events: all(emf_requests(events).get(k, 0) >= n for k, n in want.items())

        results.emf_phase1 = settle(emf_events, emf_has(want_requests1), 30)
        results.prom_cost_phase1 = prometheus.vector(COST_PROMQL, "gen_ai_token_type")

        # ---- restart on the same storage: baseline sampling 0 %, every backend down ----
        tempo.reset()
        tempo.set_behaviour(fail_with=503, message="tempo is down")  # traces and logs
        collectors[0].stop()
        prometheus_gate.shut()
        moto_gate.shut()
        phase2_env = {"OTELCOL_TAIL_SAMPLE_PERCENT": "0"}
        start_collector(phase2_env)
        # CloudWatch deltas are in the collector's memory: #2 only takes the first point of every series
        # that started before it as the base of its deltas (cumulative_to_delta initial_value auto), so what
        # the app counts before #2 receives its metrics never reaches CloudWatch (collector/README.md, "What
        # survives a restart").  The scenario restarts between workloads: phase 2 starts once #2 has them.
        settle(
            lambda: self_metric_sum(self_port, "otelcol_receiver_accepted_metric_points", receiver="otlp"),
            lambda n: n > 0,
            15,
        )

        results.unexpected += run(results.phase2, app.base_url, bedrock)
        count2 = len(results.phase2.requests)

        def decided() -> dict[str, float]:
            return {
                sampled: self_metric_sum(
                    self_port, "otelcol_processor_tail_sampling_global_count_traces_sampled", sampled=sampled
                )
                for sampled in ("true", "false")
            }

        results.decisions_before_kill = settle(decided, lambda d: sum(d.values()) >= count2, DECISION_WAIT_S + 20)
        settle(
            lambda: self_metric_sum(self_port, "otelcol_processor_tail_sampling_sampling_traces_on_memory"),
            lambda n: n == 0,
            10,
        )
        # the Tempo exporter has read its queue and tried: what it holds is on disk or in flight
        settle(tempo.stats, lambda s: s.refused >= 1, 15)
        # so have both metric spools (the loopback receiver refuses what Prometheus / awsemf fail to send),
        # and the log records wait in their queue
        spools = ("otlp/spool_prometheus", "otlp/spool_cloudwatch")

        def refused() -> dict[str, float]:
            return {r: self_metric_sum(self_port, "otelcol_receiver_refused_metric_points", receiver=r) for r in spools}

        settle(refused, lambda found: all(found.values()), 30)
        settle(lambda: self_metric_sum(self_port, "otelcol_exporter_queue_size", exporter="otlp_grpc/logs"), bool, 15)
        time.sleep(1.5)  # one more batch flush (flush_timeout 1s) for decisions taken last
        results.tempo_stats_before_kill = tempo.stats()
        results.tempo_queue_before_kill = self_metric_sum(
            self_port, "otelcol_exporter_queue_size", exporter="otlp_grpc/tempo"
        )
        results.decisions_before_kill = decided()
        results.spools_refused_before_kill = refused()
        results.accepted_log_records_by_2 = self_metric_sum(self_port, "otelcol_receiver_accepted_log_records")

        killed = collectors[1].proc
        assert killed is not None
        killed.kill()
        killed.wait(10)
        collectors[1].proc = None
        tempo.set_behaviour()  # every backend back
        prometheus_gate.open()
        moto_gate.open()
        start_collector(phase2_env)

        kept = [r for r in results.phase2.requests if r.kind.kept_by_tail_sampling]
        kept_paths = {r.path for r in kept}
        phase1_traces = traces_by_path(results.tempo_phase1)
        phase1_sigs = {r.kind.name: signature(phase1_traces.get(r.path, [])) for r in results.phase1.requests}

        def phase2_complete(spans: list[SpanRecord]) -> bool:
            traces = traces_by_path(spans)
            return all(
                signature(traces.get(r.path, [])) == phase1_sigs.get(r.kind.name) for r in kept
            ) and kept_paths <= set(traces)

        results.tempo_queue_loaded_by_3 = loaded_queue(collectors[2].log(), "otlp_grpc/tempo")
        settle(tempo.spans, phase2_complete, 40)
        time.sleep(1.5)  # every trace was decided before the kill: one more flush shows any extra span
        results.tempo_phase2 = tempo.spans()
        settle(tempo.logs, lambda r: len(r) >= results.accepted_log_records_by_2, 30)
        time.sleep(1.5)  # a duplicate would show now
        results.logs_phase2 = tempo.logs()
        results.accepted_log_records_by_3 = self_metric_sum(self_port, "otelcol_receiver_accepted_log_records")

        # ---- the totals at the end ----
        results.ledger_final = bedrock.ledger.snapshot()
        want_requests = requests_by_series(results.phase1, results.phase2)
        want_tokens = expected_tokens(results.ledger_final)
        results.prom_requests_final = settle(
            lambda: prometheus.vector(REQUESTS_PROMQL, *REQUEST_LABELS), lambda v: v == want_requests, 40
        )
        results.prom_tokens_final = settle(
            lambda: prometheus.vector(TOKENS_PROMQL, *TOKEN_LABELS), lambda v: v == want_tokens, 15
        )
        results.emf_final = settle(emf_events, emf_has(want_requests), 30)
        results.prom_cost_final = prometheus.vector(COST_PROMQL, "gen_ai_token_type")
        results.emf_stream_final = read_stream(logs_client, LOG_GROUP, LOG_STREAM)
        now = time.time()
        exemplars = prometheus.exemplars(
            f'http_server_request_duration_seconds_bucket{{job="{SERVICE}"}}', now - 600, now + 60
        )
        results.exemplar_trace_ids = {
            e["labels"].get("trace_id", "") for series in exemplars for e in series.get("exemplars", [])
        }
        yield results


def _context(results: Results) -> str:
    return f"unexpected responses: {results.unexpected}\n{results.diagnostics()}"


# -- the tests ---------------------------------------------------------------------------------


def test_the_workload_went_as_planned(scenario: Results) -> None:
    assert scenario.unexpected == [], _context(scenario)
    for ledger in (scenario.ledger_phase1, scenario.ledger_final):
        totals = ledger["totals"]
        assert totals["cache_read_input_tokens"] == totals["cache_write_input_tokens"] == 0
        assert totals["input_tokens"] > 0 and totals["output_tokens"] > 0


def test_prometheus_counts_every_request_once_per_route(scenario: Results) -> None:
    """requests sent per (method, route, status) == http_server_request_duration_seconds_count, exactly."""
    assert scenario.prom_requests_phase1 == requests_by_series(scenario.phase1), _context(scenario)
    # ... and after a graceful restart, a SIGKILL and a restart of the collector
    assert scenario.prom_requests_final == requests_by_series(scenario.phase1, scenario.phase2), _context(scenario)


def test_prometheus_token_sums_equal_what_bedrock_returned(scenario: Results) -> None:
    """gen_ai_client_token_usage_sum by operation and token type == the Bedrock server's ledger."""
    assert scenario.prom_tokens_phase1 == expected_tokens(scenario.ledger_phase1), _context(scenario)
    assert scenario.prom_tokens_final == expected_tokens(scenario.ledger_final), _context(scenario)
    by_type = Counter[str]()
    for (_, token_type), value in scenario.prom_tokens_final.items():
        by_type[token_type] += int(value)
    totals = scenario.ledger_final["totals"]
    assert dict(by_type) == {"input": totals["input_tokens"], "output": totals["output_tokens"]}


def test_prometheus_keeps_exemplars_pointing_at_traces(scenario: Results) -> None:
    phase1_traces = {s.trace_id for s in scenario.tempo_phase1}
    assert scenario.exemplar_trace_ids & phase1_traces, (
        f"no exemplar of http_server_request_duration_seconds_bucket names a trace Tempo has: "
        f"{sorted(scenario.exemplar_trace_ids)[:5]}"
    )


def test_every_span_reaches_tempo_with_its_attributes(scenario: Results) -> None:
    """Phase 1 (everything sampled): one trace per request, server and Bedrock client spans as the request made them."""
    spans = scenario.tempo_phase1
    assert len({s.span_id for s in spans}) == len(spans), "a span arrived twice"
    assert len(spans) == scenario.accepted_spans_phase1, "the collector accepted more spans than Tempo got"
    traces = traces_by_path(spans)
    paths = {r.path for r in scenario.phase1.requests}
    assert set(traces) == paths, f"traces that match no request: {set(traces) - paths}; missing: {paths - set(traces)}"

    usage: Counter[tuple[str, str]] = Counter()
    for request in scenario.phase1.requests:
        kind = request.kind
        trace = traces[request.path]
        by_id = {s.span_id: s for s in trace}
        (server,) = [s for s in trace if s.kind == "SERVER"]
        assert server.parent_span_id is None
        assert server.name == (f"{kind.method} {kind.route}" if kind.route else kind.method)
        attrs = server.attributes
        assert attrs["http.request.method"] == kind.method
        assert attrs["url.path"] == request.path
        assert attrs["url.scheme"] == "http"
        assert attrs["http.response.status_code"] == kind.status
        assert attrs.get("http.route") == kind.route
        assert server.status_code == ("ERROR" if kind.status >= 500 else "UNSET"), request
        assert ("error.type" in attrs) == (kind.status >= 500), request
        for span in trace:
            assert span.resource["service.name"] == SERVICE
            assert span.resource["deployment.environment.name"] == ENVIRONMENT  # inserted by the collector
            assert span.resource["telemetry.distro.name"] == "otel_chatbot"
            # every span hangs off the request's server span
            walk, hops = span, 0
            while walk.parent_span_id is not None and hops < 20:
                walk, hops = by_id[walk.parent_span_id], hops + 1
            assert walk is server, f"{span.name} in {request.path} is not under its server span"
            for key in span.attributes:
                assert not key.startswith(("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.prompt"))

        clients = [s for s in trace if s.kind == "CLIENT"]
        if kind.bedrock is None:
            assert clients == [], request
            continue
        (client,) = clients
        a = client.attributes
        assert client.scope_name == "otel_chatbot.botocore"
        assert a["rpc.system"] == "aws-api"
        assert a["rpc.method"] == kind.bedrock
        assert a["gen_ai.provider.name"] == "aws.bedrock"
        assert a["server.address"] == "127.0.0.1" and a["server.port"] == scenario.bedrock_port
        assert a["cloud.region"] == REGION
        if kind.bedrock == "InvokeAgent":
            assert client.name == "invoke_agent CHATBOTAGT"
            assert a["gen_ai.operation.name"] == "invoke_agent"
            assert a["gen_ai.agent.id"] == "CHATBOTAGT"
            assert a["gen_ai.conversation.id"] == request.sid
        else:
            model = BAD_MODEL if kind.name == "bad_model" else MODEL
            assert client.name == f"chat {model}"
            assert a["gen_ai.operation.name"] == "chat"
            assert a["gen_ai.request.model"] == model
            assert a["gen_ai.request.stream"] is (kind.bedrock == "ConverseStream")
        if kind.bedrock_error is not None:
            assert client.status_code == "ERROR", request
            assert a["error.type"] == kind.bedrock_error
            assert "gen_ai.usage.input_tokens" not in a
        else:
            assert client.status_code == "UNSET", request
            assert "error.type" not in a
            assert a["http.response.status_code"] == 200
            tokens_in, tokens_out = a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]
            assert isinstance(tokens_in, int) and isinstance(tokens_out, int) and tokens_in > 0 and tokens_out > 0
            if kind.bedrock != "InvokeAgent":
                assert a["gen_ai.response.finish_reasons"] == ("end_turn",)
            usage[(kind.bedrock, "input")] += tokens_in
            usage[(kind.bedrock, "output")] += tokens_out
        if kind.name == "throttled":
            assert a["aws.retry_count"] == 3

    # the client spans' usage adds up to what the Bedrock server returned, per operation
    ledger: Counter[tuple[str, str]] = Counter()
    for operations in scenario.ledger_phase1["models"].values():
        for operation, entry in operations.items():
            ledger[(operation, "input")] += entry["input_tokens"]
            ledger[(operation, "output")] += entry["output_tokens"]
    assert usage == +ledger

    # requests of one kind make traces of one shape (phase 2 relies on it)
    shapes: dict[str, set[str]] = {}
    for request in scenario.phase1.requests:
        shapes.setdefault(request.kind.name, set()).add(repr(sorted(signature(traces[request.path]).items())))
    assert {k: len(v) for k, v in shapes.items() if len(v) != 1} == {}


def test_tail_sampling_keeps_every_error_and_slow_trace_and_nothing_else(scenario: Results) -> None:
    """Phase 2, baseline rate 0 %: exactly the traces with an ERROR span or over the slow threshold reach Tempo."""
    kept = {r.path for r in scenario.phase2.requests if r.kind.kept_by_tail_sampling}
    dropped = {r.path for r in scenario.phase2.requests} - kept
    kinds = {r.kind.name for r in scenario.phase2.requests if r.path in kept}
    assert kinds == {"fail", "bad_model", "throttled", "slow"}
    traces = traces_by_path(scenario.tempo_phase2)
    assert set(traces) == kept, f"missing: {kept - set(traces)}, not to be kept: {set(traces) & dropped}"
    assert scenario.decisions_before_kill == {"true": float(len(kept)), "false": float(len(dropped))}


def test_a_sigkilled_collector_loses_none_of_the_traces_it_had_queued(scenario: Results) -> None:
    """Every span #2 queued for Tempo (which refused them all) is delivered by #3 after the SIGKILL, complete."""
    before = scenario.tempo_stats_before_kill
    assert before is not None
    assert before.items.get("traces", 0) == 0 and before.refused >= 1, before
    phase1_traces = traces_by_path(scenario.tempo_phase1)
    shapes = {r.kind.name: signature(phase1_traces[r.path]) for r in scenario.phase1.requests}
    traces = traces_by_path(scenario.tempo_phase2)
    for request in scenario.phase2.requests:
        if request.kind.kept_by_tail_sampling:
            assert signature(traces.get(request.path, [])) == shapes[request.kind.name], request
    # collector #3 found them in the queue on disk: some still queued, some dispatched (in flight) at the kill
    loaded = scenario.tempo_queue_loaded_by_3
    assert loaded.get("itemsSize", 0) + loaded.get("dispatchedItems", 0) > 0, (
        f"#3 loaded {loaded}; #2's otelcol_exporter_queue_size before the kill: {scenario.tempo_queue_before_kill}"
    )
    # Tempo had accepted nothing before the kill, so nothing may arrive twice either
    assert len(scenario.tempo_phase2) == len({s.span_id for s in scenario.tempo_phase2})


def test_a_sigkilled_collector_loses_none_of_the_log_records_it_had_queued(scenario: Results) -> None:
    """Every log record #2 accepted (the log backend refused them all) is delivered by #3 after the SIGKILL, once."""
    assert len(scenario.logs_phase1) == scenario.accepted_log_records_phase1, "phase 1: every record, once"
    assert scenario.accepted_log_records_by_2 >= 2, "phase 2 logs its two 500s"
    logs = scenario.logs_phase2
    assert len(logs) == scenario.accepted_log_records_by_2 + scenario.accepted_log_records_by_3, _context(scenario)
    identities = [(r.time_ns, r.trace_id, r.span_id, repr(r.body)) for r in logs]
    assert len(set(identities)) == len(identities), "a log record arrived twice"
    failures = sum(1 for r in scenario.phase2.requests if r.kind.name == "fail")
    assert sum(1 for r in logs if "Exception in ASGI application" in str(r.body)) == failures


def test_a_sigkilled_collector_loses_no_metric_point_it_had_spooled(scenario: Results) -> None:
    """Prometheus and CloudWatch were down for all of phase 2: its points waited in #2's spools (both had
    tried and failed), #2 was SIGKILLed, #3 sent them. The totals are exact: nothing missing, nothing twice
    (a repeated EMF delta would count twice; Prometheus ignores a repeated sample)."""
    refused = scenario.spools_refused_before_kill
    assert set(refused) == {"otlp/spool_prometheus", "otlp/spool_cloudwatch"} and all(refused.values()), refused
    requests = requests_by_series(scenario.phase1, scenario.phase2)
    tokens = expected_tokens(scenario.ledger_final)
    assert scenario.prom_requests_final == requests, _context(scenario)
    assert scenario.prom_tokens_final == tokens
    parsed = [e["parsed"] for e in scenario.emf_final]
    assert statistic_total(parsed, "http.server.request.duration", "Count", EMF_REQUEST_KEY) == requests
    assert statistic_total(parsed, "gen_ai.client.token.usage", "Sum", EMF_TOKEN_KEY) == tokens


def test_captured_prompts_reach_no_backend(scenario: Results) -> None:
    """The app runs with content capture on; collector/README.md promises the collector deletes it."""
    received = repr([scenario.tempo_phase1, scenario.tempo_phase2, scenario.logs_phase1, scenario.logs_phase2])
    for prompt in ("Where is my order?", "cancel it"):
        assert prompt not in received


def test_emf_events_follow_the_specification_and_the_declarations(scenario: Results) -> None:
    config = awsemf_config(COLLECTOR_DIR / "config.yaml")
    assert config.rollup.endswith("NoDimensionRollup}")
    events = scenario.emf_final
    assert events, "no EMF log event reached CloudWatch Logs (moto)"
    # all in the configured stream; get_log_events (read a moment later: events keep coming) has them all
    assert {e["logStreamName"] for e in events} == {LOG_STREAM}
    in_stream = {(e["timestamp"], e["message"]) for e in scenario.emf_stream_final}
    assert {(e["timestamp"], e["message"]) for e in events} <= in_stream
    problems: list[str] = []
    metric_events = [e for e in events if "_aws" in e["parsed"]]
    for event in metric_events:
        found = emf_problems(event["parsed"], len(event["message"].encode()))
        found += declaration_problems(event["parsed"], config)
        for directive in event["parsed"]["_aws"]["CloudWatchMetrics"]:
            if directive["Namespace"] != NAMESPACE:
                found.append(f"namespace {directive['Namespace']}")
        problems += [f"{p}\n    in {event['message'][:300]}" for p in found]
        assert event["parsed"]["service.name"] == SERVICE
        assert event["parsed"]["deployment.environment.name"] == ENVIRONMENT
    assert problems == []
    names = metric_names(e["parsed"] for e in metric_events)
    assert {
        "http.server.request.duration",
        "http.server.active_requests",
        "gen_ai.client.operation.duration",
        "gen_ai.client.token.usage",
        "gen_ai.client.cost",
    } <= names, names
    # every route the workload hit has its series with the full declared dimension set
    full = {"service.name", "http.route", "http.request.method", "http.status_class"}
    routed = {
        (e["parsed"]["http.request.method"], e["parsed"]["http.route"])
        for e in metric_events
        if any(full == set(d) for c in e["parsed"]["_aws"]["CloudWatchMetrics"] for d in c["Dimensions"])
    }
    every = scenario.phase1.requests + scenario.phase2.requests
    sent = {(r.kind.method, r.kind.route) for r in every if r.kind.route}
    assert routed == sent


def test_emf_request_counts_equal_requests_sent(scenario: Results) -> None:
    """Before any restart, the EMF Count of http.server.request.duration adds up to the requests sent per series."""
    parsed = [e["parsed"] for e in scenario.emf_phase1]
    got = statistic_total(parsed, "http.server.request.duration", "Count", EMF_REQUEST_KEY)
    assert got == requests_by_series(scenario.phase1), _context(scenario)


def test_emf_token_sums_equal_what_bedrock_returned(scenario: Results) -> None:
    """Before any restart, every token Bedrock returned is in a CloudWatch metric (an EMF event with _aws)."""
    parsed = [e["parsed"] for e in scenario.emf_phase1]
    got = statistic_total(parsed, "gen_ai.client.token.usage", "Sum", EMF_TOKEN_KEY)
    assert got == expected_tokens(scenario.ledger_phase1)


def test_every_emf_event_is_a_cloudwatch_metric(scenario: Results) -> None:
    """A log event without _aws is only a log line: its values never become CloudWatch metrics."""
    plain = sorted(
        {
            ", ".join(f"{k}={v}" for k, v in sorted(e["parsed"].items()) if isinstance(v, str))
            + " :: "
            + ",".join(sorted(k for k, v in e["parsed"].items() if isinstance(v, dict | int | float)))
            for e in scenario.emf_final
            if "_aws" not in e["parsed"]
        }
    )
    assert plain == []


def _close(got: Mapping[tuple[str, ...], float], want: Mapping[tuple[str, ...], float]) -> bool:
    return set(got) == set(want) and all(abs(got[k] - want[k]) <= 1e-9 * max(1.0, abs(want[k])) for k in want)


def test_emf_counter_deltas_add_up_to_the_counter_before_a_restart(scenario: Results) -> None:
    """gen_ai.client.cost (a cumulative counter): awsemf's deltas add up to the total Prometheus has."""
    parsed = [e["parsed"] for e in scenario.emf_phase1]
    got = statistic_total(parsed, "gen_ai.client.cost", "Sum", ("gen_ai.token.type",))
    assert scenario.prom_cost_phase1 and _close(got, scenario.prom_cost_phase1), (got, scenario.prom_cost_phase1)


def test_emf_counter_deltas_add_up_to_the_counter_across_collector_restarts(scenario: Results) -> None:
    parsed = [e["parsed"] for e in scenario.emf_final]
    got = statistic_total(parsed, "gen_ai.client.cost", "Sum", ("gen_ai.token.type",))
    deltas = [
        (e["_aws"]["Timestamp"], e["gen_ai.client.cost"])
        for e in parsed
        if "_aws" in e and e.get("gen_ai.token.type") == "output" and "gen_ai.client.cost" in e
    ]
    assert scenario.prom_cost_final and _close(got, scenario.prom_cost_final), (
        f"EMF deltas add up to {got}, the counters are at {scenario.prom_cost_final}; output deltas: {deltas}"
    )


def test_the_collector_accepts_the_log_records_the_distro_exports_by_default(scenario: Results) -> None:
    """The app runs with the distro's defaults, logs exporter otlp included; phase 1 logs two unhandled 500s
    (uvicorn's "Exception in ASGI application", made to propagate to the distro's root handler), which the
    collector's logs pipeline accepts (here sent on to the log backend: OTELCOL_LOGS_EXPORTER=otlp_grpc/logs)."""
    assert scenario.accepted_log_records_phase1 >= 2, _context(scenario)
