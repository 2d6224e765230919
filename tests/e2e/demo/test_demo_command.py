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

from otel_chatbot.demo.chatbot.load_plan import DEMO_MIX, WS_TURNS, counts, expected, plan
from otel_chatbot.demo.chatbot.providers.openai import RETRIES
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

    # The summary: routes with latencies, every provider's calls with tokens, matching its stand-in's own count.
    assert "== summary ==" in output
    totals = _provider_totals(output)
    assert set(totals) == {"aws.bedrock", "openai", "anthropic", "ollama"}, output
    bedrock = totals["aws.bedrock"]
    assert bedrock["calls"] > 0 and bedrock["input"] > 0 and bedrock["output"] > 0 and bedrock["cost"] > 0
    assert bedrock["cache write"] > 0, "the first handbook turn writes the prompt cache"
    assert _ledger_checks(output) == {
        provider: (row["calls"], row["input"], row["output"]) for provider, row in totals.items()
    }
    assert "Cross-check, telemetry vs each stand-in's own ledger (all equal)" in output
    input_tokens = _row(output, "all providers")[3]  # calls, errors, cancelled, input ...
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
    client_tokens = sum(
        int(_attributes(s).get("gen_ai.usage.input_tokens", 0) or 0)  # type: ignore[call-overload]
        for s in spans_in_file
        if s.kind == s.SPAN_KIND_CLIENT
    )
    assert client_tokens == int(input_tokens)
    json.loads(path.read_text().splitlines()[0])  # plain JSON too


PROVIDER_COLUMNS = ("calls", "errors", "cancelled", "input", "cache read", "cache write", "output", "cost")


def _provider_totals(output: str) -> dict[str, dict[str, float]]:
    """Each provider's ``all`` row of the Providers table: its calls, errors, tokens and cost."""
    section = output.split("Providers (CLIENT spans", 1)[1].split("\n\n", 1)[0]
    rows = [line.split() for line in section.splitlines()]
    return {
        cells[0]: dict(zip(PROVIDER_COLUMNS, map(float, cells[2:10]), strict=True))
        for cells in rows
        if len(cells) > 2 and cells[1] == "all"
    }


def _ledger_checks(output: str) -> dict[str, tuple[int, int, int]]:
    """``provider -> (calls, input, output)`` of the ledger cross-check, where telemetry and ledger agree."""
    section = output.split("each stand-in's own ledger", 1)[1].split("\n\n", 1)[0]
    found = re.findall(r"^  (\S+) +calls (\d+) = \2  input (\d+) = \3  output (\d+) = \4  errors", section, re.M)
    return {provider: (int(calls), int(inputs), int(outputs)) for provider, calls, inputs, outputs in found}


def _cross_checks(output: str, against: str = "what the load's clients did (") -> dict[str, tuple[int, int]]:
    """``telemetry side -> (telemetry, clients)`` from a cross-check against the load's clients."""
    section = output.split(f"Cross-check, telemetry vs {against}", 1)[1].split("\n\n", 1)[0]
    found = re.findall(r"^  (\S.*?)\s+(\d+) (?:=|!=) (\d+)\s", section, re.M)
    return {side: (int(telemetry), int(clients)) for side, telemetry, clients in found}


def test_the_chat_experience_section_counts_what_the_load_plan_did(start) -> None:  # type: ignore[no-untyped-def]
    requests = 40
    demo = start("--requests", str(requests), "--quiet")
    assert demo.wait(120) == 0, demo.output
    output = demo.output
    assert "unexpected 0" in output, output
    planned = counts(requests, DEMO_MIX)  # the demo's mix: streams from every provider
    stream_kinds = ("stream", "stream_leave", "openai_stream", "anthropic_stream", "ollama_stream")
    streams = sum(planned[kind] for kind in stream_kinds)
    read_to_the_end = streams - planned["stream_leave"]
    connections, turns = planned["ws"], planned["ws"] * WS_TURNS

    # The table rows, from the spans: every stream of the plan, with the outcome its client chose.
    summary = output.split("Chat experience:", 1)[1]
    total, completed, cancelled, errors, ratio, *_ttfb = _row(summary, "all streams")
    assert (int(total), int(completed), int(cancelled), int(errors)) == (
        streams,
        read_to_the_end,
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
    assert checks["streams completed"][0] == read_to_the_end
    assert checks["streams cancelled"][0] == planned["stream_leave"]
    assert checks["streams in error"][0] == 0
    assert checks["WebSocket connections"][0] == connections
    assert checks["WebSocket messages received"][0] == checks["WebSocket turns"][0] == turns
    assert checks["WebSocket messages sent"][0] > turns  # chunks and a done frame per turn


def test_every_provider_and_the_operator_helpers_count_what_the_load_plan_did(start) -> None:  # type: ignore[no-untyped-def]
    """Providers and Operator helpers sections: each number is the plan's, the ledgers' and the clients'."""
    requests = 60
    demo = start("--requests", str(requests), "--quiet")
    assert demo.wait(120) == 0, demo.output
    output = demo.output
    assert "unexpected 0" in output, output
    planned, will = counts(requests, DEMO_MIX), expected(plan(requests, 4, "demo", DEMO_MIX))
    assert will.hits > 0 and will.failovers > 0 and will.exhausted > 0 and will.feedback["negative"] > 0

    # Every provider's calls: its turns, plus what the failover sends to the OpenAI-compatible one.
    bedrock_turns = ("stream", "stream_leave", "agent", "bad_model")
    calls = {
        "aws.bedrock": will.lookups - will.hits + sum(planned[k] for k in bedrock_turns) + planned["ws"] * WS_TURNS,
        "openai": planned["openai_chat"] + planned["openai_stream"] + will.failovers + will.exhausted * (1 + RETRIES),
        "anthropic": planned["anthropic_chat"] + planned["anthropic_stream"],
        "ollama": planned["ollama_chat"] + planned["ollama_stream"],
    }
    totals = _provider_totals(output)
    assert {provider: int(row["calls"]) for provider, row in totals.items()} == calls
    assert {provider: seen[0] for provider, seen in _ledger_checks(output).items()} == calls
    # The provider errors: Bedrock's throttles (one per chain that switched) and the unknown model; the
    # fallback's throttles of exhausted turns. Streams left midway are the app's cancellations.
    assert int(totals["aws.bedrock"]["errors"]) == will.failovers + will.exhausted + planned["bad_model"]
    assert int(totals["aws.bedrock"]["cancelled"]) == planned["stream_leave"]
    assert int(totals["openai"]["errors"]) == will.exhausted * (1 + RETRIES)
    assert all(totals[p]["errors"] == 0 for p in ("anthropic", "ollama"))
    assert all(totals[p]["cost"] > 0 for p in ("aws.bedrock", "openai", "anthropic"))

    # Operator helpers, as the plan said they would be.
    section = output.split("Operator helpers:", 1)[1]
    cache = re.search(r"(\d+) lookups, (\d+) hits, (\d+) misses, 0 errors: hit ratio ([\d.]+) %", section)
    assert cache is not None, section
    assert tuple(map(int, cache.groups()[:3])) == (will.lookups, will.hits, will.lookups - will.hits)
    assert float(cache.group(4)) == round(will.hits / will.lookups * 100, 1)
    saved = re.search(r"saved (\d+) input and (\d+) output tokens, USD ([\d.]+)", section)
    assert saved is not None and int(saved.group(1)) > 0 and float(saved.group(3)) > 0
    chains = re.search(r"(\d+) chains, (\d+) served \((\d+) after a switch\), (\d+) exhausted, (\d+) switched", section)
    assert chains is not None, section
    misses = will.lookups - will.hits
    switched = will.failovers + will.exhausted
    assert tuple(map(int, chains.groups())) == (
        misses,
        misses - will.exhausted,
        will.failovers,
        will.exhausted,
        switched,
    )
    assert "(all under the 150 ms target)" in section, section
    scores = re.search(r"(\d+) scores, mean ([\d.]+), (\d+) positive, (\d+) neutral, (\d+) negative", section)
    assert scores is not None, section
    feedback = (will.feedback["positive"], will.feedback["neutral"], will.feedback["negative"])
    assert tuple(map(int, scores.groups()[2:])) == feedback and int(scores.group(1)) == sum(feedback)
    checks = _cross_checks(output, "what the load's clients did and saw (")
    assert "what the load's clients did and saw (all equal)" in output
    assert checks["cache hits"] == (will.hits, will.hits)
    assert checks["served after a switch"] == (will.failovers, will.failovers)
    assert checks["chains exhausted"] == (will.exhausted, will.exhausted)


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
