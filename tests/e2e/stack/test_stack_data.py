"""Every dashboard query returns data after a real workload: app -> otelcol-chatbot -> Prometheus.

The compose stack's data path, on loopback and without Docker (tests/e2e/stack/stack_harness.py):
the example app under ``opentelemetry-instrument`` (process metrics come with the distro),
otelcol-chatbot with collector/config.yaml, a real Prometheus with the stack's rule
files and a scrape of the collector's own metrics, the local Bedrock server (streaming at the
demo's pace) with injected throttling and timeouts, and ``otel_chatbot.demo.chatbot.load`` as the
traffic (chat, handbook turns that write and read Bedrock's prompt cache, SSE streams read to the
end and streams the user leaves midway, WebSocket conversations).  Then every Prometheus
query of every panel (template variables at "All") must return at least one sample, except
the panels in ``ALLOWED_EMPTY`` -- each with the reason it cannot have data here.  The EMF the
collector writes to a CloudWatch Logs emulator (moto) must carry every metric and dimension set
the CloudWatch dashboard and alarms use.  A second process of the service calls an OpenAI-compatible
stand-in through the openai SDK (provider_workload.py), so the per-provider panels and widgets
compare two providers from real data, and its calls and tokens arrive exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from otelcol_harness import Collector, loopback_env, running
from stack_harness import (
    BIN,
    REPO,
    App,
    Moto,
    Prometheus,
    ProviderWorkload,
    app_env,
    post_json,
    prometheus_binary,
)
from stack_lib import all_variables, load_dashboards, panel_queries, substitute

from otel_chatbot.demo.chatbot.load_plan import WS_TURNS, counts
from otel_chatbot.demo.chatbot.providers.bedrock import RETRIES
from otel_chatbot.demo.run import STREAM_PACE_S
from otel_chatbot.testing.bedrock import BedrockServer
from otel_chatbot.testing.openai import LedgerEntry, OpenAIServer

SERVICE = "chatbot-stack-e2e"
ENVIRONMENT = "e2e"
MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
FALLBACK = "us.amazon.nova-lite-v1:0"  # the app fails over to it (CHATBOT_FALLBACK_MODEL_ID)
FIRST_ATTEMPTS = 1
"""A failover chain asks its first candidate once (no client retries): a throttle switches at once."""
FALLBACK_ATTEMPTS = 1 + RETRIES
"""The last candidate keeps boto3's retries (standard mode)."""
REQUESTS = 120
ROUNDS = 2
# Per round: users' scores of answers (POST /feedback with the answer's X-Trace-Id).
FEEDBACK = ((1.0, "thumbs_up"), (1.0, "thumbs_up"), (0.0, "thumbs_down"), (0.75, "stars"))

# (dashboard uid, panel title) -> why it has no data after this workload.
ALLOWED_EMPTY: dict[tuple[str, str], str] = {
    ("chatbot-genai", "Finish reasons (sampled traces)"): (
        "a Tempo (TraceQL) panel: finish reasons are a span attribute, not a metric, and this test runs no Tempo"
    ),
}
# CloudWatch uses awsemf cannot publish in this run, with the reason; each must really be absent.
NOT_PUBLISHED_HERE: dict[tuple[str, frozenset[str]], str] = {
    **{
        (f"otel.sdk.processor.{signal}.processed", frozenset({"service.name", "error.type"})): (
            "published only when the app drops telemetry (error.type set); this workload has no collector outage"
        )
        for signal in ("span", "log")
    },
    ("otel.sdk.processor.log.processed", frozenset({"service.name"})): (
        "the compose stack exports no logs (OTEL_LOGS_EXPORTER=none), so there is no log export queue"
    ),
}
# Panels whose value after the workload is legitimately 0 (nothing in flight once the load is over).
ZERO_IS_DATA = {"Active requests", "Open WebSockets", "WebSocket connections"}


@dataclass
class Stack:
    prometheus: Prometheus
    app: App
    bedrock_url: str
    sent: int
    planned: dict[str, int]
    """Steps of each kind the scripted load ran (all rounds)."""
    started: float
    moto: Moto
    openai_calls: int  # by the second provider's process (provider_workload.py)
    openai_ledger: LedgerEntry  # what the OpenAI stand-in answered them


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def _chat(base_url: str, session: str, message: str = "where is my order?") -> int:
    status, _ = post_json(f"{base_url}/chat/{session}", {"message": message})
    return status


def _throttle(bedrock_url: str, model: str, attempts: int) -> None:
    """``attempts`` throttles: every attempt the example app's boto3 client makes on ``model``."""
    post_json(
        f"{bedrock_url}/__control/faults",
        {"fault": "throttle", "count": attempts, "operation": "Converse", "model": model},
    )


def _feedback(base_url: str, round_: int) -> None:
    """Users score answers: a chat turn each (a new question: a cache miss), then its feedback."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=10) as client:
        for index, (score, label) in enumerate(FEEDBACK):
            question = f"what about item {chr(ord('a') + index)}{round_}?"  # new to the cache
            answer = client.post(f"/chat/e2e-feedback-{round_}", json={"message": question})
            assert answer.status_code == 200, answer.text
            body = {"trace_id": answer.headers["x-trace-id"], "score": score, "label": label}
            response = client.post("/feedback", json=body)
            assert response.status_code == 204, response.text


@pytest.fixture(scope="module")
def stack(otelcol_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    binary = prometheus_binary()
    if binary is None:
        pytest.skip("prometheus is not installed (scripts/install_system_deps.sh installs Debian's prometheus)")
    work = tmp_path_factory.mktemp("stack")
    env = loopback_env(work / "storage", OTELCOL_DEPLOYMENT_ENVIRONMENT="from-collector")
    prometheus = Prometheus(
        binary, work, scrape_targets={"otelcol": f"127.0.0.1:{env['OTELCOL_SELF_METRICS_PORT']}"}
    ).start()
    env["OTELCOL_PROMETHEUS_REMOTE_WRITE_ENDPOINT"] = prometheus.remote_write_url
    moto = Moto(work)
    try:
        moto.start()
        env["OTELCOL_CLOUDWATCH_ENDPOINT"] = moto.url
        with (
            BedrockServer(stream_pace_s=STREAM_PACE_S) as bedrock,
            OpenAIServer() as openai_server,
            running([Collector(otelcol_binary, ["config.yaml"], env, work / "otelcol.log")]) as (collector,),
        ):
            environment = app_env(collector.grpc_endpoint, bedrock.endpoint_url, SERVICE, ENVIRONMENT)
            app = App(environment, work / "app.log").start()
            second = ProviderWorkload(environment, openai_server.base_url, work / "provider_workload.log")
            try:
                started = time.time()
                second.start()
                sent = _workload(app, bedrock)
                openai_calls = second.finish()
                planned = {kind: count * ROUNDS for kind, count in counts(REQUESTS).items()}
                # GET /health is excluded from telemetry; a WebSocket is no HTTP request.
                _wait_for_data(prometheus, sent - planned["health"] - planned["ws"])
                yield Stack(
                    prometheus,
                    app,
                    bedrock.endpoint_url,
                    sent,
                    planned,
                    started,
                    moto,
                    openai_calls,
                    openai_server.ledger.totals(),
                )
            finally:
                second.stop()
                app.stop()
    finally:
        moto.stop()
        prometheus.stop()


def _workload(app: App, bedrock: BedrockServer) -> int:
    """Rounds a few export intervals apart: Prometheus's rate() counts only increases between
    samples, so the second round is what makes the rates (and the alerts) non-zero on the series
    the first one created.  Each round: Bedrock faults first, one call at a time (so the SDK's
    retries see them), users' feedback, then the scripted load (its users who leave a stream do
    so after two events, long before the paced answer ends).  Returns the requests sent."""
    sent = 0
    for round_ in range(ROUNDS):
        # The default model throttled: the app fails over to the fallback, which answers.
        _throttle(bedrock.endpoint_url, MODEL, FIRST_ATTEMPTS)
        assert _chat(app.base_url, f"e2e-throttled-{round_}", f"failover {round_}") == 200
        # Both throttled: the failover chain is exhausted and the call ends throttled (429).
        _throttle(bedrock.endpoint_url, MODEL, FIRST_ATTEMPTS)
        _throttle(bedrock.endpoint_url, FALLBACK, FALLBACK_ATTEMPTS)
        assert _chat(app.base_url, f"e2e-exhausted-{round_}", f"exhausted {round_}") == 429
        # A model timeout is not a reason to fail over (the app's choice): an exhausted chain too.
        post_json(f"{bedrock.endpoint_url}/__control/faults", {"fault": "timeout", "count": 1, "operation": "Converse"})
        assert _chat(app.base_url, f"e2e-timeout-{round_}", f"timeout {round_}") >= 400
        _feedback(app.base_url, round_)
        post_json(f"{bedrock.endpoint_url}/__control/faults", {"fault": "slow", "count": 2, "delay_s": 0.3})
        proc = subprocess.run(
            [str(BIN / "python"), "-m", "otel_chatbot.demo.chatbot.load", "--url", app.base_url,
             "--requests", str(REQUESTS), "--sessions", "4", "--duration", "60"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        # Every step as planned: the counts below are the plan's.
        assert f"sent {REQUESTS} requests" in proc.stdout and "unexpected 0" in proc.stdout, proc.stdout + proc.stderr
        sent += 3 + REQUESTS + 2 * len(FEEDBACK)
        time.sleep(3)  # three metric exports
    return sent


def _wait_for_data(prometheus: Prometheus, requests: int, timeout: float = 60.0) -> None:
    """Until Prometheus counted the HTTP requests, every one, and the rules ran."""
    deadline = time.monotonic() + timeout
    while True:
        counted = prometheus.query(f'sum(http_server_request_duration_seconds_count{{job="{SERVICE}"}})')
        recorded = prometheus.query(f'job_env:slo_latency_slow_ratio:rate3d{{job="{SERVICE}"}}')
        self_metrics = prometheus.query('up{job="otelcol"} == 1')
        total = float(counted[0]["value"][1]) if counted else 0.0
        if total >= requests and recorded and self_metrics:
            time.sleep(3)  # a few more rule evaluations and scrapes
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Prometheus counted {total} of {requests} requests; rules recorded: {bool(recorded)}")
        time.sleep(0.5)


DASHBOARDS = load_dashboards()
QUERIES = [q for q in panel_queries(DASHBOARDS) if q.datasource_uid == "prometheus"]


def test_allow_list_names_real_panels() -> None:
    panels = {(d["uid"], p["title"]) for d in DASHBOARDS.values() for p in d["panels"]}
    assert set(ALLOWED_EMPTY) <= panels
    # Queries this test cannot run (not PromQL) must be on the list, with their reason.
    others = {(q.dashboard, q.panel) for q in panel_queries(DASHBOARDS) if q.datasource_uid != "prometheus"}
    assert others <= set(ALLOWED_EMPTY), others - set(ALLOWED_EMPTY)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.key)
def test_every_panel_query_returns_data(stack: Stack, query: object) -> None:
    from stack_lib import PanelQuery

    assert isinstance(query, PanelQuery)
    reason = ALLOWED_EMPTY.get((query.dashboard, query.panel))
    dashboard = next(d for d in DASHBOARDS.values() if d["uid"] == query.dashboard)
    expr = substitute(query.expr, all_variables(dashboard))
    result = stack.prometheus.query(expr)
    if reason is not None:
        pytest.skip(f"allowed to be empty: {reason} (got {len(result)} series)")
    assert result, (
        f"{query.key}: no data for\n  {expr}\n(series in Prometheus: {sorted(stack.prometheus.series_names())})"
    )


def test_allowed_empty_panels_are_really_empty(stack: Stack) -> None:
    """If an allowed panel starts returning data, its entry is stale: drop it."""
    for query in QUERIES:
        if (query.dashboard, query.panel) in ALLOWED_EMPTY:
            dashboard = next(d for d in DASHBOARDS.values() if d["uid"] == query.dashboard)
            expr = substitute(query.expr, all_variables(dashboard))
            assert not stack.prometheus.query(expr), f"{query.key} has data now: remove it from ALLOWED_EMPTY"


def test_template_variables_offer_the_workloads_values(stack: Stack) -> None:
    for dashboard in DASHBOARDS.values():
        for variable in dashboard["templating"]["list"]:
            query = variable["query"]["query"]
            inner, label = query[len("label_values(") : -1].rsplit(",", 1)
            selector = substitute(inner, all_variables(dashboard))
            values = stack.prometheus.api(f"label/{label.strip()}/values", **{"match[]": selector})
            assert values, f"{dashboard['uid']}: variable {variable['name']} offers nothing"
    services = stack.prometheus.api("label/job/values", **{"match[]": "target_info"})
    assert SERVICE in services
    environments = stack.prometheus.api(
        "label/deployment_environment_name/values", **{"match[]": f'target_info{{job="{SERVICE}"}}'}
    )
    assert environments == [ENVIRONMENT], "the app's own environment wins over the collector's default"
    models = stack.prometheus.api(
        "label/gen_ai_request_model/values",
        **{"match[]": f'gen_ai_client_operation_duration_seconds_count{{job="{SERVICE}"}}'},
    )
    assert MODEL in models


def test_latency_buckets_carry_exemplars_with_trace_ids(stack: Stack) -> None:
    now = time.time()
    found = stack.prometheus.api(
        "query_exemplars",
        query=f'http_server_request_duration_seconds_bucket{{job="{SERVICE}"}}',
        start=str(now - 600),
        end=str(now),
    )
    trace_ids = {e["labels"].get("trace_id") for series in found for e in series["exemplars"]}
    assert trace_ids - {None}, "Grafana's exemplar links need trace_id on the exemplars"
    assert all(len(t) == 32 for t in trace_ids if t)


def test_the_bedrock_faults_reach_the_alert_metrics(stack: Stack) -> None:
    throttles = stack.prometheus.query(f'sum(gen_ai_client_throttles_total{{job="{SERVICE}"}})')
    assert throttles and float(throttles[0]["value"][1]) >= 1
    timeouts = stack.prometheus.query(
        f'sum(gen_ai_client_operation_duration_seconds_count{{job="{SERVICE}", error_type=~"(?i).*timeout.*"}})'
    )
    assert timeouts and float(timeouts[0]["value"][1]) >= 1, "ChatbotBedrockTimeouts matches error_type"
    # The recording rules the alerts use have values for this service.
    for record in (
        "job_env:http_server_request_error_ratio:rate5m",
        "job_env:http_server_request_duration_seconds:p95_5m",
    ):
        assert stack.prometheus.query(f'{record}{{job="{SERVICE}"}}'), record
    # The latency SLI's bucket boundaries exist as the rules spell them.
    for le in ("0.1", "0.25"):
        assert stack.prometheus.query(f'http_server_request_duration_seconds_bucket{{job="{SERVICE}", le="{le}"}}')


def _counts_when_settled(prometheus: Prometheus, wanted: dict[str, int]) -> dict[str, int | None]:
    """Each query's value once all equal ``wanted`` (the last exports may be on their way), or after 30 s."""
    deadline = time.monotonic() + 30
    while True:
        got: dict[str, int | None] = {}
        for query in wanted:
            result = prometheus.query(query)
            got[query] = int(float(result[0]["value"][1])) if result else None
        if got == wanted or time.monotonic() > deadline:
            return got
        time.sleep(1)


def test_stream_and_websocket_counts_in_prometheus_are_what_the_clients_did(stack: Stack) -> None:
    """Through app -> otelcol-chatbot -> Prometheus, exactly what the scripted load's plan did: the
    streams read to the end, the streams left midway, the WebSocket conversations and their turns."""
    left, read = stack.planned["stream_leave"], stack.planned["stream"]
    connections = stack.planned["ws"]
    turns = connections * WS_TURNS
    job = f'job="{SERVICE}"'
    closes = "chatbot_websocket_connection_duration_seconds_count"
    outcome = 'sum(chatbot_stream_duration_seconds_count{%s, chatbot_stream_outcome="%s"})'
    wanted = {
        outcome % (job, "cancelled"): left,
        outcome % (job, "completed"): read,
        f"sum(chatbot_stream_duration_seconds_count{{{job}}})": read + left,
        f"sum(chatbot_stream_time_to_first_byte_seconds_count{{{job}}})": read + left,
        f'sum(chatbot_websocket_messages_total{{{job}, chatbot_websocket_direction="received"}})': turns,
        f"sum(chatbot_websocket_turn_time_to_first_message_seconds_count{{{job}}})": turns,
        f'sum({closes}{{{job}, chatbot_websocket_close_code="1000"}})': connections,  # the client closed normally
    }
    assert _counts_when_settled(stack.prometheus, wanted) == wanted
    lag = stack.prometheus.query(f"sum(chatbot_asyncio_loop_lag_seconds_count{{{job}}})")
    assert lag and float(lag[0]["value"][1]) > 10, "the loop-lag timer ran on the app's loop"


def test_cache_failover_and_feedback_counts_in_prometheus_are_what_the_workload_did(stack: Stack) -> None:
    """Through app -> otelcol-chatbot -> Prometheus, exactly: every chat turn on the default model looked
    in the cache, every throttled step switched, every double throttle and timeout exhausted its chain."""
    planned = counts(REQUESTS)
    chats = planned["chat"] + planned["v1_chat"] + planned["handbook_chat"]
    job = f'job="{SERVICE}"'
    wanted = {
        f"sum(chatbot_cache_lookups_total{{{job}}})": ROUNDS * (chats + 3 + len(FEEDBACK)),
        f'sum(chatbot_failover_chains_total{{{job}, chatbot_failover_outcome="exhausted"}})': 2 * ROUNDS,
        f'sum(chatbot_failover_switches_total{{{job}, error_type="ThrottlingException"}})': 2 * ROUNDS,
        f"sum(chatbot_failover_switches_total{{{job}}})": 2 * ROUNDS,
        f"sum(chatbot_failover_overhead_seconds_count{{{job}}})": ROUNDS,  # the served-after-a-switch chains
        f'sum(chatbot_feedback_total{{{job}, chatbot_feedback_sentiment="negative"}})': ROUNDS,
        f'sum(chatbot_feedback_total{{{job}, chatbot_feedback_sentiment="positive"}})': 3 * ROUNDS,
        f"sum(chatbot_feedback_score_count{{{job}}})": ROUNDS * len(FEEDBACK),
    }
    assert _counts_when_settled(stack.prometheus, wanted) == wanted
    hits = stack.prometheus.query(f'sum(chatbot_cache_lookups_total{{{job}, chatbot_cache_result="hit"}})')
    assert hits and float(hits[0]["value"][1]) > 0, "the load asks its questions again: the cache answers some"
    saved = stack.prometheus.query(f"sum(chatbot_cache_saved_cost_USD_total{{{job}}})")
    assert saved and float(saved[0]["value"][1]) > 0, "priced with the replaced model's price"


PROVIDERS = {"aws.bedrock", "openai"}  # the app's Bedrock calls, provider_workload.py's openai SDK calls
PROVIDER_SET = ("service.name", "gen_ai.provider.name")  # the EMF dimension set the provider widgets read


def test_every_per_provider_panel_shows_each_provider_and_the_variable_selects_one(stack: Stack) -> None:
    """Issue 12: calls, latency, time to first token, tokens and cost per provider, from real data of both."""
    dashboard = next(d for d in DASHBOARDS.values() if d["uid"] == "chatbot-genai")
    panels = [panel for panel in dashboard["panels"] if "by provider" in panel["title"]]
    assert len(panels) == 5
    everything = all_variables(dashboard)
    for panel in panels:
        (target,) = panel["targets"]
        found = stack.prometheus.query(substitute(target["expr"], everything))
        providers = {series["metric"].get("gen_ai_provider_name") for series in found}
        assert providers >= PROVIDERS, f"{panel['title']}: series for {providers}"
        one = stack.prometheus.query(substitute(target["expr"], {**everything, "provider": "openai"}))
        assert {series["metric"].get("gen_ai_provider_name") for series in one} == {"openai"}, panel["title"]
    offered = stack.prometheus.api(
        "label/gen_ai_provider_name/values",
        **{"match[]": f'gen_ai_client_operation_duration_seconds_count{{job="{SERVICE}"}}'},
    )
    assert set(offered) >= PROVIDERS


def test_the_second_providers_calls_through_the_collector_equal_its_ledger(stack: Stack) -> None:
    """The openai SDK's calls, app -> otelcol-chatbot -> Prometheus, exactly: calls, tokens, streams, and a cost."""
    ledger = stack.openai_ledger
    assert stack.openai_calls >= 6 and ledger.calls == stack.openai_calls  # two rounds at least
    openai = f'job="{SERVICE}", gen_ai_provider_name="openai"'
    wanted = {
        f"sum(gen_ai_client_operation_duration_seconds_count{{{openai}}})": stack.openai_calls,
        f'sum(gen_ai_client_token_usage_sum{{{openai}, gen_ai_token_type="input"}})': ledger.input_tokens,
        f'sum(gen_ai_client_token_usage_sum{{{openai}, gen_ai_token_type="output"}})': ledger.output_tokens,
        # one stream in each round of three calls
        f"sum(gen_ai_client_operation_time_to_first_chunk_seconds_count{{{openai}}})": stack.openai_calls // 3,
    }
    assert _counts_when_settled(stack.prometheus, wanted) == wanted
    cost = stack.prometheus.query(f"sum(gen_ai_client_cost_USD_total{{{openai}}})")
    assert cost and float(cost[0]["value"][1]) > 0, "gpt-4o-mini and text-embedding-3-small are priced"


def test_the_real_prometheus_evaluates_every_rule_and_the_workloads_alerts_go_pending(stack: Stack) -> None:
    from stack_lib import load_rules

    groups = stack.prometheus.api("rules")["groups"]
    states = {rule["name"]: rule for group in groups for rule in group["rules"]}
    for rule in load_rules():
        name = rule.get("alert") or rule["record"]
        assert states[name]["health"] == "ok", f"{name}: {states[name].get('lastError')}"
    # The scripted load fails on purpose (a 500 route, Bedrock faults answered 5xx), far above 1 %,
    # the injected timeouts are Bedrock timeouts, and failover chains were exhausted: those alerts
    # are pending (their `for` runs).
    pending = {
        series["metric"]["alertname"]
        for series in stack.prometheus.query(f'ALERTS{{job="{SERVICE}", alertstate="pending"}}')
    }
    assert {"ChatbotHighErrorRate", "ChatbotBedrockTimeouts", "ChatbotFailoverExhausted"} <= pending, pending


def test_the_loadgen_service_drives_the_app_and_injects_faults(stack: Stack) -> None:
    """docker/loadgen.py (the compose `loadgen` service), for two short rounds."""
    before = json.loads(_get(f"{stack.bedrock_url}/__control/ledger"))["totals"]["calls"]
    proc = subprocess.run(
        [str(BIN / "python"), str(REPO / "docker" / "loadgen.py"), "--url", stack.app.base_url,
         "--bedrock-url", stack.bedrock_url, "--rounds", "2", "--requests", "10", "--pause", "0.2",
         "--fault-every", "1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("sent 10 requests") == 2, proc.stdout
    assert "could not inject" not in proc.stderr
    after = json.loads(_get(f"{stack.bedrock_url}/__control/ledger"))["totals"]["calls"]
    assert after > before


def test_every_dashboard_renders_from_the_runs_data(stack: Stack, tmp_path: Path) -> None:
    """dashboards/render.py draws each dashboard from this run's Prometheus (documentation pictures).

    With OTEL_CHATBOT_DASHBOARD_PREVIEWS=<dir> the SVGs are written there too.
    """
    import importlib.util
    import xml.etree.ElementTree as ET

    spec = importlib.util.spec_from_file_location("dashboard_render", REPO / "dashboards" / "render.py")
    assert spec is not None and spec.loader is not None
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    out_dir = Path(os.environ.get("OTEL_CHATBOT_DASHBOARD_PREVIEWS") or tmp_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    end = time.time()
    for name, dashboard in DASHBOARDS.items():
        variables = all_variables(dashboard)
        svg = render.render(
            dashboard,
            stack.prometheus.query_range,
            stack.started - 10,
            end,
            1.0,
            lambda expr, v=variables: substitute(expr, v),  # type: ignore[misc]
            subtitle=f"rendered from a tests/e2e/stack run ({stack.sent} requests), all variables = All",
        )
        ET.fromstring(svg)  # well-formed
        (out_dir / name.replace(".json", ".svg")).write_text(svg)
        allowed = sum(1 for (uid, _), _ in ALLOWED_EMPTY.items() if uid == dashboard["uid"])
        assert svg.count(">No data<") <= allowed, f"{name}: panels without data in the picture"


def test_cloudwatch_dashboard_and_alarms_read_what_awsemf_really_publishes(stack: Stack) -> None:
    """Every EMF metric + dimension set the CloudWatch dashboard and alarms use is in the EMF log
    events otelcol-chatbot wrote for this run (to moto, as to the compose stack's emulator)."""
    import yaml
    from stack_lib import COLLECTOR_CONFIG, NEEDS_COLLECTOR_CHANGE, cloudwatch_metric_uses

    awsemf = yaml.safe_load(COLLECTOR_CONFIG.read_text())["exporters"]["awsemf"]
    group = awsemf["log_group_name"].rsplit(":-", 1)[1].rstrip("}")
    stream = awsemf["log_stream_name"].rsplit(":-", 1)[1].rstrip("}")
    published: set[tuple[str, frozenset[str]]] = set()
    deadline = time.monotonic() + 30
    uses = cloudwatch_metric_uses()
    wanted = {
        (metric, dims)
        for where, metric, dims in uses
        if where.split()[1] not in NEEDS_COLLECTOR_CHANGE and (metric, dims) not in NOT_PUBLISHED_HERE
    }
    while not wanted <= published and time.monotonic() < deadline:
        for event in stack.moto.emf_events(group, stream):
            if event.get("service.name") != SERVICE:
                continue
            for directive in event.get("_aws", {}).get("CloudWatchMetrics", []):
                for metric in directive["Metrics"]:
                    published |= {(metric["Name"], frozenset(dims)) for dims in directive["Dimensions"]}
        time.sleep(1)
    for where, metric, dims in uses:
        if (metric, dims) in NOT_PUBLISHED_HERE:
            assert (metric, dims) not in published, f"{where}: published now; {NOT_PUBLISHED_HERE[metric, dims]}?"
            continue
        if where.split()[1] in NEEDS_COLLECTOR_CHANGE:
            assert (metric, dims) not in published, f"{where}: published now -- drop it from NEEDS_COLLECTOR_CHANGE"
        else:
            assert (metric, dims) in published, f"{where}: awsemf published no {metric} with {sorted(dims)}"


def test_cloudwatch_gets_the_genai_metrics_of_each_provider_under_the_provider_dimension(stack: Stack) -> None:
    """The EMF events carry both providers' GenAI metrics with [service.name, gen_ai.provider.name]:
    what the CloudWatch provider widgets group by."""
    import yaml
    from stack_lib import COLLECTOR_CONFIG

    awsemf = yaml.safe_load(COLLECTOR_CONFIG.read_text())["exporters"]["awsemf"]
    group = awsemf["log_group_name"].rsplit(":-", 1)[1].rstrip("}")
    stream = awsemf["log_stream_name"].rsplit(":-", 1)[1].rstrip("}")
    wanted = {
        (metric, provider)
        for metric in ("gen_ai.client.operation.duration", "gen_ai.client.operation.time_to_first_chunk")
        for provider in PROVIDERS
    }
    seen: set[tuple[str, str]] = set()
    deadline = time.monotonic() + 30
    while not wanted <= seen and time.monotonic() < deadline:
        for event in stack.moto.emf_events(group, stream):
            if event.get("service.name") != SERVICE:
                continue
            for directive in event.get("_aws", {}).get("CloudWatchMetrics", []):
                if {frozenset(dims) for dims in directive["Dimensions"]} & {frozenset(PROVIDER_SET)}:
                    seen |= {(metric["Name"], event["gen_ai.provider.name"]) for metric in directive["Metrics"]}
        time.sleep(1)
    assert wanted <= seen, wanted - seen
