"""``otel-chatbot demo`` end to end: a real subprocess with its own Bedrock server, app and load."""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_chatbot.demo.chatbot.load_plan import WS_TURNS, counts
from otel_chatbot.testing.otlp_sink.otlp_json import parse_otlp_json
from tests.e2e.demo.demo_process import DemoProcess

pytestmark = pytest.mark.e2e

LONG_RUN = ("--requests", "1000000", "--duration", "120", "--quiet")


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    started: list[DemoProcess] = []

    def starter(*args: str) -> DemoProcess:
        demo = DemoProcess(*args, "--output", str(tmp_path / "out"), cwd=tmp_path)
        started.append(demo)
        return demo

    yield starter
    for demo in started:
        demo.close()


def _attributes(span: object) -> dict[str, object]:
    values = {}
    for kv in span.attributes:  # type: ignore[attr-defined]
        kind = kv.value.WhichOneof("value")
        values[kv.key] = getattr(kv.value, kind) if kind else None
    return values


def _row(output: str, first_cell: str) -> list[str]:
    """The cells after ``first_cell`` of that row of the summary tables (the first such row)."""
    summary = output.split("== summary ==", 1)[-1]
    line = next(line for line in summary.splitlines() if line.startswith(first_cell + " "))
    return line[len(first_cell) :].split()


def test_a_default_run_shows_spans_metrics_file_and_summary(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    demo = start("--requests", "20")
    assert demo.wait(90) == 0, demo.output
    output = demo.output

    # Readable span lines as they came, for server and Bedrock spans.
    assert re.search(r"^span  .* SERVER +POST /chat/\{session_id\} .*status=200", output, re.M), output
    assert re.search(r"^span  .* CLIENT +chat us\.anthropic\..* in=\d+ out=\d+ cost=\$", output, re.M), output

    # The load got what it expected from every route.
    assert "sent 20 requests" in output and "unexpected 0" in output, output

    # Metrics: the key lines, and the full scrape on disk.
    assert re.search(r"^  gen_ai_client_token_usage_sum\{.*\} [1-9]", output, re.M), output
    assert "http_server_request_duration_seconds_count" in (tmp_path / "out" / "metrics.prom").read_text()

    # The summary: routes with latencies, Bedrock calls with tokens, matching the server's own count.
    assert "== summary ==" in output
    calls, _errors, input_tokens, cache_read, cache_write, output_tokens, cost, _ttfc = _row(
        output, "all Bedrock calls"
    )
    assert int(calls) > 0 and int(input_tokens) > 0 and int(output_tokens) > 0 and float(cost) > 0
    assert int(cache_write) > 0, "the first handbook turn writes the prompt cache"
    ledger = re.search(
        r"counted (\d+) calls, (\d+) input \((\d+) cache read, (\d+) cache write\) and (\d+) output tokens", output
    )
    assert ledger is not None, output
    assert ledger.groups() == (calls, input_tokens, cache_read, cache_write, output_tokens), output
    spans, errs, *_ = _row(output, "POST /chat/{session_id}/fail")
    assert int(spans) >= 1 and int(errs) == int(spans)

    # The OTLP/JSON file: every line a valid ExportTraceServiceRequest, with the spans the summary counts.
    path = tmp_path / "out" / "traces.otlp.jsonl"
    requests = [parse_otlp_json(line.encode(), ExportTraceServiceRequest()) for line in path.read_text().splitlines()]
    spans_in_file = [s for r in requests for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert f"Summary of {len(spans_in_file)} spans" in output
    services = {
        kv.value.string_value
        for r in requests
        for rs in r.resource_spans
        for kv in rs.resource.attributes
        if kv.key == "service.name"
    }
    assert services == {"chatbot-demo"}
    server_routes = {_attributes(s).get("http.route") for s in spans_in_file if s.kind == s.SPAN_KIND_SERVER}
    assert {"/chat/{session_id}", "/chat/{session_id}/stream", "/agents/{session_id}", "/v1/chat/{session_id}"} <= (
        server_routes
    )
    bedrock_tokens = sum(
        int(_attributes(s).get("gen_ai.usage.input_tokens", 0) or 0)  # type: ignore[call-overload]
        for s in spans_in_file
        if s.kind == s.SPAN_KIND_CLIENT
    )
    assert bedrock_tokens == int(input_tokens)
    json.loads(path.read_text().splitlines()[0])  # plain JSON too


def _cross_checks(output: str) -> dict[str, tuple[int, int]]:
    """``telemetry side -> (telemetry, clients)`` from the Chat experience cross-check."""
    section = output.split("Cross-check, telemetry vs what the load's clients did", 1)[1]
    found = re.findall(r"^  (\S.*?)\s+(\d+) (?:=|!=) (\d+)\s", section, re.M)
    return {side: (int(telemetry), int(clients)) for side, telemetry, clients in found}


def test_the_chat_experience_section_counts_what_the_load_plan_did(start) -> None:  # type: ignore[no-untyped-def]
    requests = 40
    demo = start("--requests", str(requests), "--quiet")
    assert demo.wait(120) == 0, demo.output
    output = demo.output
    assert "unexpected 0" in output, output
    planned = counts(requests)
    streams = planned["stream"] + planned["stream_leave"]
    connections, turns = planned["ws"], planned["ws"] * WS_TURNS

    # The table rows, from the spans: every stream of the plan, with the outcome its client chose.
    summary = output.split("Chat experience:", 1)[1]
    total, completed, cancelled, errors, ratio, *_ttfb = _row(summary, "all streams")
    assert (int(total), int(completed), int(cancelled), int(errors)) == (
        streams,
        planned["stream"],
        planned["stream_leave"],
        0,
    )
    assert float(ratio) == round(planned["stream_leave"] / streams * 100, 1)
    connections_cell, received, _sent, turns_cell, *_ = _row(summary, "all WebSockets")
    assert (int(connections_cell), int(received), int(turns_cell)) == (connections, turns, turns)
    lag = re.search(r"Event loop lag p99: ([\d.]+) ms \((\d+) timer samples", summary)
    assert lag is not None and int(lag.group(2)) > 0, summary

    # Telemetry and clients agree, exactly, and both are what the plan said.
    checks = _cross_checks(output)
    assert all(telemetry == clients for telemetry, clients in checks.values()), checks
    assert "(all equal)" in output
    assert checks["streams completed"][0] == planned["stream"]
    assert checks["streams cancelled"][0] == planned["stream_leave"]
    assert checks["streams in error"][0] == 0
    assert checks["WebSocket connections"][0] == connections
    assert checks["WebSocket messages received"][0] == checks["WebSocket turns"][0] == turns
    assert checks["WebSocket messages sent"][0] > turns  # chunks and a done frame per turn


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_stops_cleanly_and_still_reports(start, signum: int, code: int) -> None:  # type: ignore[no-untyped-def]
    demo = start(*LONG_RUN)
    demo.wait_for_line(r"^load ")
    time.sleep(1.0)  # the load is under way
    demo.signal(signum)
    assert demo.wait(60) == code, demo.output
    output = demo.output
    assert f"{signal.Signals(signum).name}: stopping cleanly" in output
    sent = re.search(r"sent (\d+) requests in [\d.]+s, skipped (\d+)", output)
    assert sent is not None and int(sent.group(2)) > 0, output
    assert "== summary ==" in output and "Traceback" not in output


def test_keep_running_serves_until_ctrl_c(start) -> None:  # type: ignore[no-untyped-def]
    demo = start("--requests", "10", "--keep-running", "--quiet")
    app_url = demo.wait_for_line(r"^app +example chatbot at (http://\S+)").group(1)
    metrics_url = demo.wait_for_line(r"^metrics +Prometheus text at (http://\S+)").group(1)
    live_url = demo.wait_for_line(r"^live +live page at (http://127\.0\.0\.1:\d+/) ").group(1)
    demo.wait_for_line(r"^still serving .*the live page at http://", timeout=60)
    with urllib.request.urlopen(f"{app_url}/health", timeout=5) as response:
        assert json.loads(response.read())["status"] == "ok"
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        assert b"http_server_request_duration_seconds" in response.read()
    # The live view counts what the load report says was sent, less /health (excluded from telemetry)
    # and the WebSocket turn (not an HTTP request): sampled once a second, so wait for the next sample.
    load = demo.output.split("== load ==", 1)[1].split("\n\n", 1)[0]
    sent = {(m[1], m[2]): int(m[3]) for m in re.finditer(r"^(GET|POST|WS) (\S+) +(\d+) ", load, re.M)}
    expected = sum(count for (method, route), count in sent.items() if route != "/health" and method != "WS")
    deadline = time.monotonic() + 5
    while True:
        with urllib.request.urlopen(f"{live_url}stats", timeout=5) as response:
            live = json.loads(response.read())["since_start"]
        if live["http"]["overall"]["requests"] == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert live["http"]["overall"]["requests"] == expected, (sent, live["http"])
    assert live["websockets"]["closed"] == 1 and live["genai"]["overall"]["calls"] >= 1
    demo.signal(signal.SIGINT)
    assert demo.wait(60) == 130, demo.output
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{app_url}/health", timeout=2)
