"""The distro in a real uvicorn process, exporting real OTLP to a local sink.

One scripted conversation per way of running the app (auto path over http/protobuf and
over gRPC, in-code path over http/protobuf); every test reads the telemetry of those runs.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import pytest

from otel_chatbot.testing.bedrock import BedrockServer, LedgerEntry
from otel_chatbot.testing.otlp_sink import OtlpSink, SpanRecord
from tests.e2e.distro.distro_harness import (
    LOGGING_APP,
    MODEL_ID,
    USER_AGENT,
    AppProcess,
    Call,
    Launcher,
    Mode,
    Received,
    Reply,
    chat,
    chat_fail,
    chat_stream,
    describe,
    otlp_env,
    recorded_twice,
    send,
    wait_until,
)

pytestmark = pytest.mark.e2e

CHAT_ROUTE = "/chat/{session_id}"
STREAM_ROUTE = "/chat/{session_id}/stream"
FAIL_ROUTE = "/chat/{session_id}/fail"
CHATS = 3
MISSING_PATH = "/no/such/page"
CHAT_SPAN = f"chat {MODEL_ID}"

SCENARIOS: dict[str, tuple[Mode, str]] = {
    "auto-http": (Mode.AUTO, "http/protobuf"),
    "auto-grpc": (Mode.AUTO, "grpc"),
    "in-code-http": (Mode.IN_CODE, "http/protobuf"),
}


@dataclass(frozen=True)
class Scenario:
    """One run of the script: the process (still running), its replies and its telemetry."""

    name: str
    app: AppProcess
    chats: tuple[tuple[Call, Reply], ...]
    stream: Reply
    failed: Reply
    missing: Reply
    received: Received
    converse: LedgerEntry
    converse_stream: LedgerEntry

    def server_span(self, path: str) -> SpanRecord:
        spans = self.received.server_spans(path)
        assert len(spans) == 1, f"{len(spans)} SERVER spans for {path}, expected 1:\n{describe(spans)}"
        return spans[0]


def _ledger_delta(before: LedgerEntry, after: LedgerEntry) -> LedgerEntry:
    return LedgerEntry(
        calls=after.calls - before.calls,
        input_tokens=after.input_tokens - before.input_tokens,
        output_tokens=after.output_tokens - before.output_tokens,
    )


def _complete(received: Received, paths: list[str]) -> bool:
    return (
        all(received.server_spans(path) for path in paths)
        and len(received.client_spans(CHAT_SPAN)) >= CHATS + 1
        and received.histogram_count("http.server.request.duration", **{"http.route": CHAT_ROUTE}) >= CHATS
        and sum(1 for entry in received.logs if str(entry.body).startswith("handling POST /chat/")) >= CHATS + 2
    )


def _run(name: str, launcher: Launcher, sink: OtlpSink, bedrock: BedrockServer) -> Scenario:
    mode, protocol = SCENARIOS[name]
    ledger = bedrock.ledger
    before = ledger.entry(MODEL_ID, "Converse"), ledger.entry(MODEL_ID, "ConverseStream")
    app = launcher.start(name, mode, app=LOGGING_APP, telemetry=otlp_env(sink, protocol))
    calls = [chat(f"{name}-{i}", headers={"X-Request-ID": f"{name}-request-{i}"}) for i in range(CHATS)]
    chats = tuple((call, send(app.base_url, call)) for call in calls)
    stream = send(app.base_url, chat_stream(f"{name}-stream"))
    failed = send(app.base_url, chat_fail(f"{name}-fail"))
    missing = send(app.base_url, Call("GET", MISSING_PATH))
    send(app.base_url, Call("GET", "/health"))
    paths = [call.path for call in calls] + [f"/chat/{name}-stream/stream", f"/chat/{name}-fail/fail", MISSING_PATH]
    wait_until(sink, name, lambda received: _complete(received, paths), timeout_s=15)
    time.sleep(1.2)  # two more metric exports: anything recorded twice shows up too
    after = ledger.entry(MODEL_ID, "Converse"), ledger.entry(MODEL_ID, "ConverseStream")
    return Scenario(
        name,
        app,
        chats,
        stream,
        failed,
        missing,
        Received.of(sink, name),
        _ledger_delta(before[0], after[0]),
        _ledger_delta(before[1], after[1]),
    )


class Scenarios:
    """Runs each scenario once per module, on first use."""

    def __init__(self, launcher: Launcher, sink: OtlpSink, bedrock: BedrockServer) -> None:
        self._args = (launcher, sink, bedrock)
        self._done: dict[str, Scenario | Exception] = {}

    def __getitem__(self, name: str) -> Scenario:
        if name not in self._done:
            try:
                self._done[name] = _run(name, *self._args)
            except Exception as exc:  # reported by the first test; the others say where to look
                self._done[name] = exc
                raise
        done = self._done[name]
        if isinstance(done, Exception):
            raise AssertionError(f"scenario {name!r} failed in an earlier test: {done}")
        return done


@pytest.fixture(scope="module")
def scenarios(launcher: Launcher, otlp_sink: OtlpSink, bedrock_server: BedrockServer) -> Scenarios:
    return Scenarios(launcher, otlp_sink, bedrock_server)


ALL = list(SCENARIOS)
# Scenarios with the auto path marked as failing, for the tests that need the distro's own middleware.
NEED_MIDDLEWARE = [
    *(name for name in ALL if SCENARIOS[name][0] is Mode.AUTO),
    *(name for name in ALL if SCENARIOS[name][0] is not Mode.AUTO),
]


# -- traces ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NEED_MIDDLEWARE)
def test_one_server_span_per_request_with_stable_http_attributes(scenarios: Scenarios, name: str) -> None:
    run = scenarios[name]
    for call, reply in run.chats:
        assert reply.status == 200, reply.body
        span = run.server_span(call.path)
        assert span.name == f"POST {CHAT_ROUTE}"
        assert span.parent_span_id is None
        expected = {
            "http.request.method": "POST",
            "url.path": call.path,
            "url.scheme": "http",
            "http.route": CHAT_ROUTE,
            "http.response.status_code": 200,
            "client.address": "127.0.0.1",
            "user_agent.original": USER_AGENT,
            "server.address": "127.0.0.1",
            "server.port": run.app.port,
            "network.protocol.version": "1.1",
        }
        assert {key: span.attributes.get(key) for key in expected} == expected
        assert "error.type" not in span.attributes
    server_spans = run.received.server_spans()
    assert len(server_spans) == CHATS + 3, f"one SERVER span per traced request:\n{describe(server_spans)}"


@pytest.mark.parametrize("name", NEED_MIDDLEWARE)
def test_failures_and_unmatched_routes_are_labelled(scenarios: Scenarios, name: str) -> None:
    run = scenarios[name]
    assert run.failed.status == 500
    failed = run.server_span(f"/chat/{name}-fail/fail")
    assert failed.name == f"POST {FAIL_ROUTE}"
    assert failed.status_code == "ERROR"
    assert failed.attributes["http.response.status_code"] == 500
    assert failed.attributes["error.type"] == "SimulatedFailure"

    assert run.missing.status == 404
    missing = run.server_span(MISSING_PATH)
    assert missing.name == "GET", "an unmatched route must not put the raw path into the span name"
    assert "http.route" not in missing.attributes
    assert missing.status_code != "ERROR"
    for point in run.received.points:
        assert MISSING_PATH not in point.attributes.values(), f"raw path in {point.name}: {point.attributes}"


@pytest.mark.parametrize("name", NEED_MIDDLEWARE)
def test_health_checks_are_not_traced(scenarios: Scenarios, name: str) -> None:
    run = scenarios[name]
    assert run.received.server_spans("/health") == []
    assert run.received.histogram_count("http.server.request.duration", **{"http.route": "/health"}) == 0


@pytest.mark.parametrize("name", NEED_MIDDLEWARE)
def test_correlation_headers_name_the_request_span(scenarios: Scenarios, name: str) -> None:
    run = scenarios[name]
    for i, (call, reply) in enumerate(run.chats):
        span = run.server_span(call.path)
        assert reply.header("x-request-id") == f"{name}-request-{i}"
        assert reply.header("x-trace-id") == span.trace_id
        assert (reply.header("x-response-time") or "").endswith("ms")
        assert span.attributes.get("http.request.header.x-request-id") == (f"{name}-request-{i}",)


@pytest.mark.parametrize("name", NEED_MIDDLEWARE)
def test_bedrock_call_is_a_client_span_under_its_request_with_the_ledger_tokens(
    scenarios: Scenarios, name: str
) -> None:
    run = scenarios[name]
    clients = run.received.client_spans(CHAT_SPAN)
    for call, reply in run.chats:
        server = run.server_span(call.path)
        (client,) = [span for span in clients if span.trace_id == server.trace_id]
        trace = describe(s for s in run.received.spans if s.trace_id == server.trace_id)
        assert client.parent_span_id == server.span_id, f"CLIENT span not a child of its request:\n{trace}"
        usage = reply.json()["usage"]
        expected = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "aws.bedrock",
            "gen_ai.request.model": MODEL_ID,
            "rpc.system": "aws-api",
            "rpc.method": "Converse",
            "gen_ai.usage.input_tokens": usage["input_tokens"],
            "gen_ai.usage.output_tokens": usage["output_tokens"],
            "gen_ai.conversation.id": call.path.split("/")[2],
        }
        assert {key: client.attributes.get(key) for key in expected} == expected
    converse = [span for span in clients if span.attributes.get("rpc.method") == "Converse"]
    streamed = [span for span in clients if span.attributes.get("rpc.method") == "ConverseStream"]
    assert (len(converse), len(streamed)) == (run.converse.calls, run.converse_stream.calls) == (CHATS, 1)
    for spans, ledger in ((converse, run.converse), (streamed, run.converse_stream)):
        assert sum(_tokens(s, "input") for s in spans) == ledger.input_tokens
        assert sum(_tokens(s, "output") for s in spans) == ledger.output_tokens


def _tokens(span: SpanRecord, kind: str) -> int:
    value = span.attributes[f"gen_ai.usage.{kind}_tokens"]
    assert isinstance(value, int), span.attributes
    return value


# -- metrics, logs, resource -------------------------------------------------------------


@pytest.mark.parametrize("name", NEED_MIDDLEWARE)
def test_request_duration_counts_every_request_once_per_route(scenarios: Scenarios, name: str) -> None:
    received = scenarios[name].received
    count = received.histogram_count
    metric = "http.server.request.duration"
    assert count(metric, **{"http.route": CHAT_ROUTE, "http.response.status_code": 200}) == CHATS
    assert count(metric, **{"http.route": STREAM_ROUTE, "http.response.status_code": 200}) == 1
    assert count(metric, **{"http.route": FAIL_ROUTE, "http.response.status_code": 500}) == 1
    assert count(metric, **{"http.response.status_code": 404}) == 1
    assert count(metric) == CHATS + 3
    (point, *_) = [p for p in received.points if p.name == metric]
    assert (point.unit, point.type) == ("s", "histogram")


@pytest.mark.parametrize("name", ALL)
def test_process_metrics_and_the_chat_experience_come_from_both_entry_paths_once(
    scenarios: Scenarios, name: str
) -> None:
    """configure() starts the upstream system-metrics instrumentor with the settings' set, in both paths."""
    from otel_chatbot.config import load_settings

    received = scenarios[name].received
    names = {p.name for p in received.points}
    wanted = set(load_settings(environ={}).process_metrics)
    assert wanted - {"process.context_switches"} <= names  # context switches only where psutil can read them
    assert not {n for n in names if n.startswith(("system.", "process.runtime."))}, "only the curated set"
    assert recorded_twice(received.points) == []
    assert "chatbot.asyncio.loop.lag" in names  # the lifespan started the timer on uvicorn's loop
    assert received.histogram_count("chatbot.stream.duration", **{"chatbot.stream.outcome": "completed"}) == 1


@pytest.mark.parametrize("name", ALL)
def test_log_records_carry_the_span_of_their_request(scenarios: Scenarios, name: str) -> None:
    run = scenarios[name]
    for call, _reply in run.chats:
        span = run.server_span(call.path)
        (entry,) = [e for e in run.received.logs if e.body == f"handling POST {call.path}"]
        assert (entry.trace_id, entry.span_id) == (span.trace_id, span.span_id)
        assert entry.severity_text == "WARNING"
        assert entry.scope_name == "chatbot.requests"


@pytest.mark.parametrize("name", ALL)
def test_every_signal_carries_the_distro_resource(scenarios: Scenarios, name: str) -> None:
    received = scenarios[name].received
    resources = received.resources()
    assert received.spans and received.points and received.logs
    for key, value in (("service.name", name), ("telemetry.distro.name", "otel_chatbot")):
        assert {resource.get(key) for resource in resources} == {value}
    (instance,) = {resource.get("service.instance.id") for resource in resources}
    assert isinstance(instance, str) and instance


# -- both entry paths, same telemetry ----------------------------------------------------


def _shape(received: Received) -> dict[str, set[tuple[object, ...]]]:
    """Names, kinds, scopes and attribute keys: everything but ids, values and timings."""
    return {
        "spans": {(s.name, s.kind, s.scope_name, tuple(sorted(s.attributes))) for s in received.spans},
        "metrics": {(p.name, p.type, p.unit, p.scope_name, tuple(sorted(p.attributes))) for p in received.points},
        "logs": {(e.scope_name, e.severity_text, tuple(sorted(e.attributes))) for e in received.logs},
        "resource": {tuple(sorted(resource)) for resource in received.resources()},
    }


def test_auto_and_in_code_paths_emit_the_same_telemetry(scenarios: Scenarios) -> None:
    auto, in_code = _shape(scenarios["auto-http"].received), _shape(scenarios["in-code-http"].received)
    for signal in auto:
        only_auto, only_in_code = auto[signal] - in_code[signal], in_code[signal] - auto[signal]
        assert not only_auto and not only_in_code, f"{signal}: only auto {only_auto}; only in code {only_in_code}"


# -- incoming context ---------------------------------------------------------------------

MALFORMED_TRACEPARENTS = (
    "garbage",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-" + "x" * 4000,
)
MALFORMED_BAGGAGE = ("%%%===,;;;", "=novalue", "key=" + "v" * 9000, "k=v;prop=" + "\u00e9" * 3)


@pytest.mark.parametrize("name", ALL)
def test_malformed_traceparent_and_baggage_are_ignored(scenarios: Scenarios, otlp_sink: OtlpSink, name: str) -> None:
    app = scenarios[name].app
    headers = [{"traceparent": value} for value in MALFORMED_TRACEPARENTS]
    headers += [{"baggage": value} for value in MALFORMED_BAGGAGE]
    headers += [{"traceparent": "garbage", "baggage": "%%%", "tracestate": "=,=,="}]
    calls = [chat(f"{name}-malformed-{i}", headers=h) for i, h in enumerate(headers)]
    for call in calls:
        reply = send(app.base_url, call)
        assert reply.status == 200, (call.headers, reply.body)
        assert reply.elapsed_s < 2
    received = wait_until(otlp_sink, name, lambda r: all(r.server_spans(call.path) for call in calls), timeout_s=10)
    for call in calls:
        spans = received.server_spans(call.path)
        assert len(spans) == 1, f"{call.headers}: {len(spans)} SERVER spans:\n{describe(spans)}"
        assert spans[0].parent_span_id is None, f"{call.headers}: the request span is not a root"
        assert spans[0].trace_id != "0af7651916cd43dd8448eb211c80319c"


@pytest.mark.parametrize("name", ALL)
def test_valid_traceparent_continues_the_callers_trace(scenarios: Scenarios, otlp_sink: OtlpSink, name: str) -> None:
    app = scenarios[name].app
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    call = chat(f"{name}-traced", headers={"traceparent": f"00-{trace_id}-{parent_id}-01", "baggage": "tenant=acme"})
    assert send(app.base_url, call).status == 200
    received = wait_until(otlp_sink, name, lambda r: bool(r.server_spans(call.path)), timeout_s=10)
    spans = received.server_spans(call.path)
    assert len(spans) == 1, describe(spans)
    assert (spans[0].trace_id, spans[0].parent_span_id) == (trace_id, parent_id)
