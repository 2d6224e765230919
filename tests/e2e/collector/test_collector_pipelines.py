"""config.yaml running for real: scrubbing and redaction, tail sampling, the status-class dimension.

Tempo is an OTLP sink, which also stands in for a log backend (OTELCOL_LOGS_EXPORTER=otlp_grpc/logs);
the debug exporter (switched on through OTELCOL_DEBUG_EXPORTER) shows what the metrics pipeline
hands to the Prometheus and CloudWatch spools.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.trace import Status, StatusCode
from otelcol_harness import REPO, Collector, loopback_env, running
from otlp_send import logger_provider, meter_provider, tracer_provider

from otel_chatbot.testing.otlp_sink import OtlpSink

SLOW_MS = 300


@pytest.fixture(scope="module")
def tempo() -> Iterator[OtlpSink]:
    with OtlpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def collector(otelcol_binary: Path, tempo: OtlpSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    work = tmp_path_factory.mktemp("otelcol")
    env = loopback_env(
        work / "storage",
        OTELCOL_TEMPO_ENDPOINT=tempo.grpc_endpoint,
        OTELCOL_TAIL_DECISION_WAIT="1s",
        OTELCOL_TAIL_SAMPLE_PERCENT="0",
        OTELCOL_TAIL_SLOW_MS=str(SLOW_MS),
        OTELCOL_DEBUG_EXPORTER="debug",
        OTELCOL_DEBUG_VERBOSITY="detailed",
        OTELCOL_DEPLOYMENT_ENVIRONMENT="e2e",
        OTELCOL_LOGS_EXPORTER="otlp_grpc/logs",
        OTELCOL_LOGS_ENDPOINT=tempo.grpc_endpoint,
    )
    with running([Collector(otelcol_binary, ["config.yaml"], env, work / "collector.log")]) as (col,):
        yield col


def test_tail_sampling_keeps_error_throttled_and_slow_traces_only(collector: Collector, tempo: OtlpSink) -> None:
    kept: dict[str, str] = {}
    with tracer_provider(collector.grpc_endpoint, "tail-sampling") as provider:
        tracer = provider.get_tracer("e2e")
        for i in range(20):
            with tracer.start_as_current_span(f"ok-{i}"):
                pass
        with tracer.start_as_current_span("error") as span:
            span.set_status(Status(StatusCode.ERROR, "boom"))
            kept["error"] = format(span.get_span_context().trace_id, "032x")
        with tracer.start_as_current_span("throttled") as span:
            span.set_attribute("error.type", "ThrottlingException")
            kept["throttled"] = format(span.get_span_context().trace_id, "032x")
        start = time.time_ns()
        span = tracer.start_span("slow", start_time=start)
        span.end(end_time=start + (SLOW_MS + 200) * 1_000_000)
        kept["slow"] = format(span.get_span_context().trace_id, "032x")

    spans = tempo.wait_for(
        lambda: (
            [s for s in tempo.spans() if s.resource.get("service.name") == "tail-sampling"]
            if len({s.name for s in tempo.spans()} & set(kept)) == len(kept)
            else []
        ),
        timeout=30,
        what="the error, throttled and slow traces",
    )
    time.sleep(1.5)  # one more decision period: nothing else may arrive
    spans = [s for s in tempo.spans() if s.resource.get("service.name") == "tail-sampling"]
    assert sorted(s.name for s in spans) == ["error", "slow", "throttled"]
    assert {s.name: s.trace_id for s in spans} == kept


# (name, attributes of the chat span) of traces the LLM-aware policies must keep ...
LLM_KEPT: tuple[tuple[str, dict[str, object]], ...] = (
    ("guardrail", {"aws.bedrock.guardrail.intervened": True, "gen_ai.response.finish_reasons": ("end_turn",)}),
    ("length", {"gen_ai.response.finish_reasons": ("length",)}),
    ("max-tokens", {"gen_ai.response.finish_reasons": ("max_tokens",)}),
    ("two-choices-one-cut", {"gen_ai.response.finish_reasons": ("stop", "length")}),
    ("content-filter", {"gen_ai.response.finish_reasons": ("content_filter",)}),
    ("bedrock-filtered", {"gen_ai.response.finish_reasons": ("content_filtered",)}),
    ("bedrock-guardrail-stop", {"gen_ai.response.finish_reasons": ("guardrail_intervened",)}),
    ("refusal", {"gen_ai.response.finish_reasons": ("refusal",)}),
    ("stream-cancelled", {"gen_ai.request.stream": True, "error.type": "cancelled"}),
    ("costly", {"gen_ai.usage.cost": 0.05}),
    # otel-chatbot health's round trip, found again in Tempo (its User-Agent on the server span)
    ("health-probe", {"user_agent.original": "otel-chatbot-health/0.1.0"}),
)
# ... and of ordinary ones they must not (tail sampling keeps 0 % of the rest here).
LLM_DROPPED: tuple[tuple[str, dict[str, object]], ...] = (
    ("stop", {"gen_ai.response.finish_reasons": ("stop",), "gen_ai.usage.cost": 0.0499}),
    ("end-turn", {"gen_ai.response.finish_reasons": ("end_turn",), "aws.bedrock.guardrail.intervened": False}),
    ("tool-call", {"gen_ai.response.finish_reasons": ("tool_calls",)}),
    ("stream-completed", {"gen_ai.request.stream": True, "gen_ai.response.finish_reasons": ("stop",)}),
    ("no-usage", {}),
    ("browser", {"user_agent.original": "Mozilla/5.0 otel-chatbot-health/ lookalike"}),
)
# Server spans of streamed answers ([F]'s chatbot.stream.outcome).
STREAM_OUTCOMES = {"server-cancelled": "cancelled", "server-error": "error", "server-completed": "completed"}


def test_tail_sampling_keeps_the_traces_an_llm_operator_reads(collector: Collector, tempo: OtlpSink) -> None:
    """Each trace is a SERVER span with a chat span under it; a kept trace arrives whole, a dropped one not at all."""
    sent: dict[str, str] = {}
    with tracer_provider(collector.grpc_endpoint, "llm-tail-sampling") as provider:
        tracer = provider.get_tracer("e2e")
        for name, attributes in (*LLM_KEPT, *LLM_DROPPED):
            with tracer.start_as_current_span(f"POST /chat {name}") as root:
                with tracer.start_as_current_span(f"chat {name}", attributes=attributes):  # type: ignore[arg-type]
                    pass
                sent[name] = format(root.get_span_context().trace_id, "032x")
        for name, outcome in STREAM_OUTCOMES.items():
            with tracer.start_as_current_span(f"POST /chat/stream {name}") as root:
                root.set_attribute("chatbot.stream.outcome", outcome)
                sent[name] = format(root.get_span_context().trace_id, "032x")

    expected = {sent[name] for name, _ in LLM_KEPT} | {sent["server-cancelled"], sent["server-error"]}

    def arrived() -> set[str]:
        return {s.trace_id for s in tempo.spans() if s.resource.get("service.name") == "llm-tail-sampling"}

    tempo.wait_for(lambda: arrived() >= expected, timeout=30, what="the traces the LLM-aware policies keep")
    time.sleep(1.5)  # one more decision period: nothing else may arrive
    spans = [s for s in tempo.spans() if s.resource.get("service.name") == "llm-tail-sampling"]
    by_name = {trace_id: name for name, trace_id in sent.items()}
    assert sorted(by_name[t] for t in arrived()) == sorted(by_name[t] for t in expected)
    per_trace = {t: sum(1 for s in spans if s.trace_id == t) for t in expected}
    whole = {t: 1 if by_name[t].startswith("server-") else 2 for t in expected}
    assert per_trace == whole, "a kept trace arrives whole"


def test_prompt_content_and_credentials_never_reach_tempo(collector: Collector, tempo: OtlpSink) -> None:
    with tracer_provider(collector.grpc_endpoint, "redaction") as provider:
        tracer = provider.get_tracer("e2e")
        with tracer.start_as_current_span("chat anthropic.claude") as span:
            span.set_status(Status(StatusCode.ERROR))  # keep it through tail sampling
            span.set_attributes(
                {
                    "gen_ai.request.model": "anthropic.claude-3-haiku",
                    "gen_ai.usage.input_tokens": 12,
                    "gen_ai.input.messages": '[{"role":"user","parts":[{"content":"my card is 4111"}]}]',
                    "gen_ai.output.messages": '[{"role":"assistant","parts":[{"content":"noted"}]}]',
                    "gen_ai.prompt": "my card is 4111",
                    "gen_ai.completion": "noted",
                    "http.request.header.authorization": ("Bearer abcdefghijklmnop",),
                    "api_key": "sk-abcdefghijklmnopqrstuvwxyz",
                    "note": "leaked AKIAABCDEFGHIJKLMNOP in a message",
                }
            )
            span.add_event("gen_ai.user.message", {"content": "my card is 4111", "gen_ai.system": "aws.bedrock"})

    (span,) = tempo.wait_for_spans(1, name="chat anthropic.claude", timeout=30)
    attrs = span.attributes
    for dropped in (
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.prompt",
        "gen_ai.completion",
        "http.request.header.authorization",
    ):
        assert dropped not in attrs
    assert attrs["gen_ai.request.model"] == "anthropic.claude-3-haiku"
    assert attrs["gen_ai.usage.input_tokens"] == 12
    assert "sk-abcdefghijklmnopqrstuvwxyz" not in str(attrs["api_key"])
    assert "AKIAABCDEFGHIJKLMNOP" not in str(attrs["note"])
    assert str(attrs["note"]).startswith("leaked ")
    (event,) = span.events
    assert event.attributes == {"gen_ai.system": "aws.bedrock"}
    assert "my card is" not in repr(span)  # (not "4111": a timestamp may hold it)
    assert span.resource["deployment.environment.name"] == "e2e"


def test_log_records_arrive_without_prompt_content_and_credentials(collector: Collector, tempo: OtlpSink) -> None:
    with logger_provider(collector.grpc_endpoint, "logs") as provider:
        logger = provider.get_logger("e2e")
        logger.emit(
            body="calling bedrock with Authorization: Bearer abcdefghijklmnop",
            attributes={
                "gen_ai.request.model": "anthropic.claude-3-haiku",
                "gen_ai.prompt": "my card is 4111",
                "gen_ai.input.messages": '[{"role":"user","parts":[{"content":"my card is 4111"}]}]',
                "http.request.header.authorization": "Bearer abcdefghijklmnop",
                "api_key": "sk-abcdefghijklmnopqrstuvwxyz",
                "session": "s-1",
            },
        )
        logger.emit(
            event_name="gen_ai.user.message",
            body={"role": "user", "content": "my card is 4111"},
            attributes={"gen_ai.provider.name": "aws.bedrock"},
        )

    records = tempo.wait_for(
        lambda: r if len(r := [x for x in tempo.logs() if x.resource.get("service.name") == "logs"]) >= 2 else [],
        timeout=30,
        what="2 log records",
    )
    line, event = sorted(records, key=lambda r: r.event_name)
    assert event.event_name == "gen_ai.user.message"
    assert event.body == {"role": "user"}
    assert event.attributes["gen_ai.provider.name"] == "aws.bedrock"
    attrs = line.attributes
    for dropped in ("gen_ai.prompt", "gen_ai.input.messages", "http.request.header.authorization"):
        assert dropped not in attrs
    assert attrs["gen_ai.request.model"] == "anthropic.claude-3-haiku"
    assert attrs["session"] == "s-1"
    assert "sk-abcdefghijklmnopqrstuvwxyz" not in str(attrs["api_key"])
    assert str(line.body).startswith("calling bedrock with Authorization: ")
    assert "abcdefghijklmnop" not in str(line.body)
    assert "my card is" not in repr(records)
    assert line.resource["deployment.environment.name"] == "e2e"


# -- captured content: deleted by transform/scrub wherever it is (collector/README.md) ------------------

CANARY = "Zed Quux's card is 4111 1111 1111 1111"
"""Prompt text the app captured (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true): it must never arrive."""
CONTENT_ATTRIBUTES: dict[str, str] = {
    "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": CANARY}]}]),
    "gen_ai.output.messages": json.dumps(
        [{"role": "assistant", "parts": [{"type": "text", "content": CANARY}], "finish_reason": "stop"}]
    ),
    "gen_ai.system_instructions": json.dumps([{"type": "text", "content": CANARY}]),
    "gen_ai.evaluation.explanation": CANARY,  # a user's feedback comment (record_feedback)
    "gen_ai.tool.call.arguments": json.dumps({"query": CANARY}),
    "gen_ai.tool.call.result": json.dumps({"answer": CANARY}),
    "gen_ai.prompt": CANARY,
    "gen_ai.completion.0.content": CANARY,
}
GENAI_ATTRIBUTES: dict[str, str | int] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "aws.bedrock",
    "gen_ai.request.model": "anthropic.claude-3-haiku",
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 7,
}


@pytest.mark.parametrize("events", ["no events", "an exception event", "content events"])
def test_captured_content_never_reaches_tempo(collector: Collector, tempo: OtlpSink, events: str) -> None:
    """On a span with or without events (the scrub ran per span EVENT before, so a span without one kept it all)."""
    service = f"content-{events.replace(' ', '-')}"
    with (
        tracer_provider(collector.grpc_endpoint, service) as provider,
        provider.get_tracer("e2e").start_as_current_span("chat anthropic.claude-3-haiku") as span,
    ):
        span.set_attributes({**GENAI_ATTRIBUTES, **CONTENT_ATTRIBUTES})
        if events == "an exception event":
            span.record_exception(TimeoutError("Bedrock read timed out"))
        if events == "content events":
            span.add_event("gen_ai.user.message", {"content": CANARY, "gen_ai.system": "aws.bedrock"})
            span.add_event(
                "gen_ai.client.inference.operation.details", {"gen_ai.operation.name": "chat", **CONTENT_ATTRIBUTES}
            )
        span.set_status(Status(StatusCode.ERROR))  # kept by tail sampling

    (span,) = tempo.wait_for(
        lambda: [s for s in tempo.spans() if s.resource.get("service.name") == service], 30, f"{service}'s span"
    )
    assert {k: v for k, v in span.attributes.items() if k.startswith("gen_ai.")} == GENAI_ATTRIBUTES
    assert "Zed Quux" not in repr(span)
    names = [e.name for e in span.events]
    if events == "no events":
        assert names == []
    if events == "an exception event":
        (event,) = span.events
        assert event.attributes["exception.message"] == "Bedrock read timed out"  # not content: kept
    if events == "content events":
        assert names == ["gen_ai.user.message", "gen_ai.client.inference.operation.details"]
        assert [e.attributes for e in span.events] == [
            {"gen_ai.system": "aws.bedrock"},
            {"gen_ai.operation.name": "chat"},
        ]


def test_captured_content_never_reaches_the_log_backend(collector: Collector, tempo: OtlpSink) -> None:
    """GenAI events as log records: the content attributes of the newer convention, the bodies of the older one."""
    tool_call = {"id": "call-1", "type": "function", "function": {"name": "lookup", "arguments": CANARY}}
    records: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = [
        # (event name, body sent, body that must arrive); the content attributes go on every record
        ("gen_ai.client.inference.operation.details", None, {}),
        ("gen_ai.system.message", {"role": "system", "content": CANARY}, {"role": "system"}),
        ("gen_ai.user.message", {"role": "user", "content": CANARY}, {"role": "user"}),
        ("gen_ai.assistant.message", {"role": "assistant", "tool_calls": [tool_call]}, {"role": "assistant"}),
        ("gen_ai.tool.message", {"role": "tool", "id": "call-1", "content": CANARY}, {"role": "tool", "id": "call-1"}),
        (
            "gen_ai.choice",
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": CANARY}},
            {"index": 0, "finish_reason": "stop"},
        ),
    ]
    with logger_provider(collector.grpc_endpoint, "content-logs") as provider:
        logger = provider.get_logger("e2e")
        for event_name, body, _ in records:
            logger.emit(event_name=event_name, body=body, attributes={**GENAI_ATTRIBUTES, **CONTENT_ATTRIBUTES})

    def received() -> list[Any]:
        found = [r for r in tempo.logs() if r.resource.get("service.name") == "content-logs"]
        return found if len(found) >= len(records) else []

    arrived = {r.event_name: r for r in tempo.wait_for(received, 30, f"{len(records)} log records")}
    assert "Zed Quux" not in repr(arrived)
    for event_name, _, body in records:
        record = arrived[event_name]
        assert (record.body or {}) == body, event_name
        assert {k: v for k, v in record.attributes.items() if k.startswith("gen_ai.")} == GENAI_ATTRIBUTES


# -- the redaction corpus through the collector's redaction processor ---------------------------------

CORPUS = json.loads((REPO / "tests" / "unit" / "genai" / "redaction_corpus.json").read_text())


def test_the_collector_masks_what_it_promises_of_the_redaction_corpus(collector: Collector, tempo: OtlpSink) -> None:
    """Each sample as a span attribute and as a log line: masked where the corpus says `collector`, else untouched.

    (The collector masks credentials and e-mail addresses; phone and card numbers are the app's redactor's,
    see collector/README.md.) Ordinary text passes untouched."""
    samples = CORPUS["samples"]
    clean = CORPUS["clean"]
    texts = [s["text"] for s in samples] + clean
    with (
        tracer_provider(collector.grpc_endpoint, "corpus") as provider,
        provider.get_tracer("e2e").start_as_current_span("corpus") as span,
    ):
        span.set_attributes({f"note.{i}": text for i, text in enumerate(texts)})
        span.set_status(Status(StatusCode.ERROR))
    with logger_provider(collector.grpc_endpoint, "corpus") as provider:
        logger = provider.get_logger("e2e")
        for i, text in enumerate(texts):
            logger.emit(body=text, attributes={"corpus.index": i})

    (span,) = tempo.wait_for(lambda: tempo.spans("corpus"), 30, "the corpus span")
    logs = tempo.wait_for(
        lambda: (
            r if len(r := [x for x in tempo.logs() if x.resource.get("service.name") == "corpus"]) >= len(texts) else []
        ),
        30,
        "the corpus log lines",
    )
    by_index = {int(str(r.attributes["corpus.index"])): str(r.body) for r in logs}
    problems = []
    for i, text in enumerate(texts):
        for where, got in (("span attribute", str(span.attributes[f"note.{i}"])), ("log body", by_index[i])):
            if i >= len(samples):
                if got != text:
                    problems.append(f"clean text changed in a {where}: {text!r} -> {got!r}")
                continue
            sample = samples[i]
            leaked = [secret for secret in sample["secrets"] if secret in got]
            if sample["collector"] and (leaked or "****" not in got):
                problems.append(f"{sample['kind']} not masked in a {where}: {got!r}")
            if not sample["collector"] and got != text:
                problems.append(f"{sample['kind']} changed in a {where} (README says the collector leaves it): {got!r}")
    assert problems == []
    assert span.attributes["redaction.masked.count"] == sum(1 for s in samples if s["collector"])


def test_metrics_get_a_status_class_before_the_spools(collector: Collector) -> None:
    with meter_provider(collector.grpc_endpoint, "status-class") as provider:
        counter = provider.get_meter("e2e").create_counter("e2e.requests")
        for code in (200, 201, 404, 503):
            counter.add(1, {"http.response.status_code": code, "http.route": "/chat"})
        counter.add(1, {"http.route": "/no-status"})

    def classes() -> dict[str, str | None]:
        # the debug exporter (detailed) prints each data point's attributes as "-> key: Type(value)"
        log = collector.log()
        found: dict[str, str | None] = {}
        for block in log[log.find("Name: e2e.requests") :].split("NumberDataPoints #")[1:]:
            route = re.search(r"-> http\.route: Str\(([^)]*)\)", block)
            code = re.search(r"-> http\.response\.status_code: Int\((\d+)\)", block)
            status_class = re.search(r"-> http\.status_class: Str\((\w+)\)", block)
            if route is not None:
                key = code.group(1) if code else route.group(1)
                found[key] = status_class.group(1) if status_class else None
        return found

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(classes()) < 5:
        time.sleep(0.2)
    expected = {"200": "2xx", "201": "2xx", "404": "4xx", "503": "5xx", "/no-status": None}
    assert classes() == expected, collector.log_tail(80)
