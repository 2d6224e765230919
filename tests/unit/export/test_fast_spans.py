"""Our span encoder must produce exactly upstream's OTLP message, span for span.

Spans come from the real SDK (fresh providers, never globals); our bytes are decoded
with the OTLP protobuf classes and compared with upstream's encoding as messages.
"""

from __future__ import annotations

import gzip
import inspect
import math
import random
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as upstream_encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http import _common as _http_common
from opentelemetry.exporter.otlp.proto.http import trace_exporter as trace_exporter_module
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags, Tracer
from opentelemetry.trace.span import TraceState

from otel_chatbot import compat
from otel_chatbot.export import fast_spans, protobuf_wire, safe_values
from otel_chatbot.export.fast_spans import FastOTLPSpanExporter, encode_finished, encode_spans
from tests.unit.fallbacks import FAST, UNTESTED_SDK, fallback_notes, watching_fallbacks

SCHEMA = "https://opentelemetry.io/schemas/1.26.0"
REMOTE = SpanContext(
    trace_id=0x0AF7651916CD43DD8448EB211C80319C,
    span_id=0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "v1"), ("other", "x-y")]),
)
LOCAL_LINK = SpanContext(trace_id=2**128 - 1, span_id=2**64 - 1, is_remote=False)


class Tracing:
    """Fresh providers sharing one in-memory exporter, so a batch can mix resources."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self._providers: list[TracerProvider] = []

    def tracer(
        self,
        name: str = "test.scope",
        version: str | None = None,
        *,
        resource: Resource | None = None,
        limits: SpanLimits | None = None,
        schema_url: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Tracer:
        provider = TracerProvider(resource=resource, span_limits=limits, shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self._providers.append(provider)
        return provider.get_tracer(name, version, schema_url=schema_url, attributes=attributes)

    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()

    def shutdown(self) -> None:
        for provider in self._providers:
            provider.shutdown()


@pytest.fixture
def tracing() -> Iterator[Tracing]:
    made = Tracing()
    yield made
    made.shutdown()


def assert_same_as_upstream(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    ours: ExportTraceServiceRequest = ExportTraceServiceRequest.FromString(encode_spans(spans))
    expected = upstream_encode_spans(spans)
    assert ours == expected, f"ours:\n{ours}\nupstream:\n{expected}"
    return ours


EVERY_TYPE: dict[str, Any] = {
    "str": "value",
    "empty": "",
    "unicode": "héllo ✓ 日本語 🚀",
    "long": "x" * 300,
    "true": True,
    "false": False,
    "zero": 0,
    "one": 1,
    "minus_one": -1,
    "varint_edge": 127,
    "varint_edge_2": 128,
    "large": 2**63 - 1,
    "most_negative": -(2**63),
    "negative": -300,
    "float": 1.5,
    "float_zero": 0.0,
    "negative_zero": -0.0,
    "float_negative": -2.25,
    "inf": float("inf"),
    "tiny": 5e-324,
    "bytes": b"\x00\xff\x80",
    "empty_bytes": b"",
    "str_array": ("a", "", "ü"),
    "int_array": [1, -1, 2**40],
    "bool_array": (True, False),
    "float_array": (0.5, -1e300),
    "empty_array": (),
    "array_with_none": ("a", None, "b"),
    "nested_array": ((1, 2), ("x",)),
    "mapping": {"inner": "v", "n": 1, "deeper": {"list": [1.0]}},
    "": "empty key",
    "ключ": "unicode key",
}


def _every_kind_and_status(tracing: Tracing) -> None:
    tracer = tracing.tracer()
    statuses = [
        Status(StatusCode.UNSET),
        Status(StatusCode.OK),
        Status(StatusCode.ERROR),
        Status(StatusCode.ERROR, "boom"),
        Status(StatusCode.ERROR, "ошибка ✗"),
    ]
    for kind in SpanKind:
        for status in statuses:
            span = tracer.start_span(f"{kind.name} {status.status_code.name}", kind=kind)
            span.set_status(status)
            span.end()


def _attribute_types(tracing: Tracing) -> None:
    tracer = tracing.tracer()
    tracer.start_span("attrs", attributes=EVERY_TYPE).end()
    tracer.start_span("", attributes={"same": 1}).end()
    tracer.start_span("no attributes").end()


def _events(tracing: Tracing) -> None:
    span = tracing.tracer().start_span("events")
    span.add_event("plain")
    span.add_event("with attributes", {"k": "v", "n": -5, "list": ("a", "b")}, timestamp=1_700_000_000_123_456_789)
    span.add_event("", timestamp=1)
    span.record_exception(ValueError("bad value"))
    span.end()


def _links(tracing: Tracing) -> None:
    links = [
        Link(REMOTE, {"link.kind": "remote", "n": 3}),
        Link(LOCAL_LINK),
        Link(SpanContext(trace_id=1, span_id=1, is_remote=False), {"": ""}),
    ]
    tracing.tracer().start_span("links", links=links).end()


def _parents(tracing: Tracing) -> None:
    tracer = tracing.tracer()
    with tracer.start_as_current_span("local parent"):
        tracer.start_span("local child").end()
    remote = trace.set_span_in_context(NonRecordingSpan(REMOTE))
    with tracer.start_as_current_span("remote child", context=remote, kind=SpanKind.SERVER):
        tracer.start_span("grandchild", kind=SpanKind.CLIENT).end()


def _dropped(tracing: Tracing) -> None:
    limits = SpanLimits(
        max_span_attributes=2,
        max_events=1,
        max_links=1,
        max_event_attributes=1,
        max_link_attributes=1,
    )
    tracer = tracing.tracer(limits=limits)
    span = tracer.start_span(
        "dropped",
        attributes={"a": 1, "b": 2, "c": 3},
        links=[Link(REMOTE, {"x": 1, "y": 2}), Link(LOCAL_LINK)],
    )
    span.add_event("first", {"p": 1, "q": 2})
    span.add_event("second")
    span.add_event("third")
    span.end()


def _explicit_times(tracing: Tracing) -> None:
    tracer = tracing.tracer()
    tracer.start_span("max", start_time=2**63).end(end_time=2**64 - 1)
    tracer.start_span("zero start", start_time=0).end(end_time=5)
    tracer.start_span("small", start_time=1).end(end_time=1)


def _resources_and_scopes(tracing: Tracing) -> None:
    first = Resource({"service.name": "first", "n": 1}, schema_url=SCHEMA)
    equal_to_first = Resource({"service.name": "first", "n": 1}, schema_url=SCHEMA)
    second = Resource({"service.name": "second", "arr": ("x", "y")})
    empty = Resource({})
    tracers = [
        tracing.tracer("scope.a", "1.0", resource=first, schema_url=SCHEMA, attributes={"scope.attr": True}),
        tracing.tracer("scope.b", resource=second),
        tracing.tracer("scope.a", "1.0", resource=equal_to_first, schema_url=SCHEMA, attributes={"scope.attr": True}),
        tracing.tracer("", "", resource=empty),
        tracing.tracer("scope.c", "2", resource=first),
        tracing.tracer("scope.b", resource=second),
    ]
    for i in range(24):
        tracers[(i * 5) % len(tracers)].start_span(f"span {i}").end()


def _same_key_other_types(tracing: Tracing) -> None:
    tracer = tracing.tracer()
    for value in (1, True, 1.0, "1", 0, False, 0.0, -0.0, (1,), (True,), b"1"):
        tracer.start_span("typed", attributes={"k": value}).end()


CASES: dict[str, Callable[[Tracing], None]] = {
    "kinds and statuses": _every_kind_and_status,
    "attribute types": _attribute_types,
    "events": _events,
    "links": _links,
    "parents": _parents,
    "dropped": _dropped,
    "explicit times": _explicit_times,
    "resources and scopes": _resources_and_scopes,
    "same key other types": _same_key_other_types,
}


@pytest.mark.parametrize("build", CASES.values(), ids=CASES.keys())
def test_batch_decodes_to_upstreams_message(tracing: Tracing, build: Callable[[Tracing], None]) -> None:
    build(tracing)
    spans = tracing.spans()
    assert spans
    assert_same_as_upstream(spans)
    for span in spans:  # and one span per batch, as SimpleSpanProcessor exports
        assert_same_as_upstream([span])


@pytest.mark.parametrize("build", CASES.values(), ids=CASES.keys())
def test_spans_read_by_their_fields_encode_to_the_same_bytes(
    tracing: Tracing, build: Callable[[Tracing], None]
) -> None:
    encode = fast_spans.finished_encoder()
    assert (encode is not encode_finished) is FAST  # outside the tested range: the public reading
    build(tracing)
    for span in tracing.spans():
        assert encode(span) == encode_finished(span)
    huge = "x" * (safe_values.MAX_ITEM_BYTES + 1)
    big = tracing.tracer().start_span("huge", attributes={"prompt": huge})
    big.end()
    assert encode(big) == encode_finished(big)  # the live span itself, truncated the same way
    assert len(encode(big).encoded) < safe_values.MAX_ITEM_BYTES


def test_a_span_the_reader_fails_on_is_encoded_the_public_way(
    tracing: Tracing, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def odd(span: Any) -> Any:
        raise AttributeError("a shape the reader did not expect")

    monkeypatch.setattr(fast_spans, "finished_span_reader", lambda: odd)
    _events(tracing)
    (span,) = tracing.spans()
    with watching_fallbacks(caplog):
        encode = fast_spans.finished_encoder()
        assert encode(span) == encode_finished(span)  # not lost
        assert encode(span) == encode_finished(span)
    assert len(fallback_notes(caplog)) == 1


def test_all_cases_in_one_batch_twice(tracing: Tracing) -> None:
    for build in CASES.values():
        build(tracing)
    spans = tracing.spans()
    assert_same_as_upstream(spans)
    assert_same_as_upstream(spans)  # the second time from the resource/scope/key caches


def test_empty_batch() -> None:
    assert encode_spans([]) == b""
    assert ExportTraceServiceRequest.FromString(b"") == upstream_encode_spans([])


def test_grouping_merges_equal_resources_like_upstream(tracing: Tracing) -> None:
    _resources_and_scopes(tracing)
    request = assert_same_as_upstream(tracing.spans())
    names = [
        {kv.key: kv.value.string_value for kv in r.resource.attributes}.get("service.name")
        for r in request.resource_spans
    ]
    assert names == ["first", "second", None]
    assert [s.scope.name for s in request.resource_spans[0].scope_spans] == ["scope.a", "scope.c"]


def test_flags_mark_remote_parents(tracing: Tracing) -> None:
    _parents(tracing)
    request = assert_same_as_upstream(tracing.spans())
    flags = {s.name: s.flags for s in request.resource_spans[0].scope_spans[0].spans}
    assert flags == {"local child": 0x100, "local parent": 0x100, "grandchild": 0x100, "remote child": 0x300}


def test_nan_survives(tracing: Tracing) -> None:
    tracing.tracer().start_span("nan", attributes={"nan": float("nan")}).end()
    request = ExportTraceServiceRequest.FromString(encode_spans(tracing.spans()))
    value = request.resource_spans[0].scope_spans[0].spans[0].attributes[0].value
    assert math.isnan(value.double_value)


def test_unencodable_attributes_are_dropped_like_upstream_and_logged_once_per_kind(
    tracing: Tracing, caplog: pytest.LogCaptureFixture
) -> None:
    attributes: dict[str, Any] = {
        "big": 2**64,
        "too_negative": -(2**63) - 1,
        "surrogate": "a\ud800",
        "k\ud800": 1,
        "kept": "yes",
    }
    tracer = tracing.tracer()
    for _ in range(3):
        tracer.start_span("bad values", attributes=attributes).end()
    safe_values.FINDINGS.counts.clear()
    with caplog.at_level("WARNING", logger="otel_chatbot.export"):
        request = assert_same_as_upstream(tracing.spans())
    for span in request.resource_spans[0].scope_spans[0].spans:
        assert [a.key for a in span.attributes] == ["kept"]
    counts = safe_values.FINDINGS.counts
    assert counts[safe_values.DROPPED_ATTRIBUTE] == 12
    assert (counts[safe_values.BIG_INT], counts[safe_values.INVALID_UTF8]) == (6, 6)
    ours = [r.getMessage() for r in caplog.records if r.name == "otel_chatbot.export"]
    assert len(ours) == 3  # once per kind: the integer, the dropped attribute, the text
    assert not [r for r in caplog.records if r.name == protobuf_wire.__name__]


def test_a_span_name_without_a_utf8_form_is_sent_with_replacement_characters(tracing: Tracing) -> None:
    """Upstream fails the whole batch; ours sends the span, each lone surrogate as U+FFFD."""
    tracing.tracer().start_span("bad \ud800 name", attributes={"kept": 1}).end()
    with pytest.raises(UnicodeEncodeError):
        upstream_encode_spans(tracing.spans()).SerializeToString()
    request = ExportTraceServiceRequest.FromString(encode_spans(tracing.spans()))
    (span,) = request.resource_spans[0].scope_spans[0].spans
    assert span.name == "bad \ufffd name"
    assert [a.key for a in span.attributes] == ["kept"]


def test_a_huge_span_is_sent_with_its_strings_truncated(tracing: Tracing) -> None:
    huge = "x" * (safe_values.MAX_ITEM_BYTES + 1)
    span = tracing.tracer().start_span("huge", attributes={"prompt": huge, "small": "kept whole"})
    span.add_event("e", {"also": huge})
    span.end()
    tracing.tracer().start_span("normal", attributes={"prompt": "short"}).end()
    request = ExportTraceServiceRequest.FromString(encode_spans(tracing.spans()))
    huge_span, normal = request.resource_spans[0].scope_spans[0].spans
    values = {a.key: a.value.string_value for a in huge_span.attributes}
    assert values == {"prompt": "x" * safe_values.TRUNCATED_CHARS, "small": "kept whole"}
    assert huge_span.events[0].attributes[0].value.string_value == "x" * safe_values.TRUNCATED_CHARS
    assert normal == upstream_encode_spans(tracing.spans()[1:]).resource_spans[0].scope_spans[0].spans[0]


def test_caches_stay_bounded_and_correct(tracing: Tracing) -> None:
    tracer = tracing.tracer()
    for i in range(40):
        tracer.start_span("many keys", attributes={f"key.{i}.{j}": f"value {i} {j}" for j in range(100)}).end()
    assert_same_as_upstream(tracing.spans())
    assert len(protobuf_wire._key_cache) <= protobuf_wire._KEY_CACHE_SIZE
    assert len(protobuf_wire._pair_cache) <= protobuf_wire._PAIR_CACHE_SIZE


# --- property-style: random attribute values -------------------------------------------------

_ALPHABET = "abcXYZ019 _-./:=,é日本\u0000\u007f\u0080\u07ff\u0800\uffff\U0001f680\U0010ffff"


def _random_str(rng: random.Random) -> str:
    length = rng.choice([0, 1, 5, 40, 127, 128, 200, 300])
    return "".join(rng.choice(_ALPHABET) for _ in range(length))


def _random_int(rng: random.Random) -> int:
    edges = [0, 1, -1, 127, 128, 16383, 16384, 2**31, -(2**31), 2**63 - 1, -(2**63)]
    return rng.choice(edges) if rng.random() < 0.5 else rng.randint(-(2**63), 2**63 - 1)


def _random_float(rng: random.Random) -> float:
    edges = [0.0, -0.0, float("inf"), float("-inf"), 5e-324, 1.7976931348623157e308]
    return rng.choice(edges) if rng.random() < 0.3 else rng.uniform(-1e6, 1e6)


_SCALARS: list[Callable[[random.Random], Any]] = [
    _random_str,
    _random_int,
    _random_float,
    lambda rng: rng.random() < 0.5,
    lambda rng: rng.randbytes(rng.choice([0, 3, 130])),
]


def _random_value(rng: random.Random) -> Any:
    make = rng.choice(_SCALARS)
    if rng.random() < 0.25:  # a homogeneous array, sometimes with gaps
        values = [make(rng) for _ in range(rng.randint(0, 5))]
        if values and rng.random() < 0.2:
            values[0] = None
        return tuple(values) if rng.random() < 0.5 else values
    return make(rng)


def _random_attributes(rng: random.Random) -> dict[str, Any]:
    keys = ["http.request.method", "url.path", "server.port", "k", "ключ", ""]
    return {rng.choice(keys) + str(rng.randint(0, 3)): _random_value(rng) for _ in range(rng.randint(0, 12))}


def test_random_attribute_values_match_upstream(tracing: Tracing) -> None:
    rng = random.Random(20261122)
    resources = [Resource(_random_attributes(rng)) for _ in range(3)]
    tracers = [
        tracing.tracer(f"scope{i}", resource=resource, attributes=_random_attributes(rng))
        for i, resource in enumerate(resources)
    ]
    for case in range(300):
        span = rng.choice(tracers).start_span(f"case {case}", attributes=_random_attributes(rng))
        span.add_event("event", _random_attributes(rng))
        span.end()
    spans = tracing.spans()
    for finished in spans:
        assert_same_as_upstream([finished])
    assert_same_as_upstream(spans)


# --- the exporter: upstream's behaviour, our bytes -----------------------------------------


class Collector:
    """A loopback OTLP/HTTP endpoint answering with scripted status codes."""

    def __init__(self, statuses: Sequence[int], retry_after: str | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        script, requests = list(statuses), self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                requests.append((dict(self.headers), body))
                self.send_response(script.pop(0) if len(script) > 1 else script[0])
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def payloads(self) -> list[ExportTraceServiceRequest]:
        out = []
        for headers, body in self.requests:
            if headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            out.append(ExportTraceServiceRequest.FromString(body))
        return out


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/traces"


Outcome = tuple[SpanExportResult, list[ExportTraceServiceRequest], list[dict[str, str]], list[str]]


def _export_with(
    exporter_class: type[OTLPSpanExporter],
    spans: Sequence[ReadableSpan],
    caplog: pytest.LogCaptureFixture,
    statuses: Sequence[int] = (200,),
    retry_after: str | None = None,
    **kwargs: Any,
) -> Outcome:
    collector = Collector(statuses, retry_after)
    kwargs.setdefault("endpoint", collector.url)
    exporter = exporter_class(timeout=0.5, headers={"x-api-key": "secret"}, **kwargs)
    caplog.clear()
    try:
        with caplog.at_level("DEBUG", logger="opentelemetry.exporter.otlp.proto.http"):
            result = exporter.export(spans)
    finally:
        exporter.shutdown()
        collector.close()
    headers = [{k.lower(): v for k, v in h.items() if k.lower() != "host"} for h, _ in collector.requests]
    return result, collector.payloads(), headers, [r.getMessage() for r in caplog.records]


SCENARIOS: dict[str, dict[str, Any]] = {
    "accepted": {},
    "gzip": {"compression": Compression.Gzip},
    "rejected": {"statuses": (400,)},
    "retried then accepted": {"statuses": (503, 200), "retry_after": "0"},
    "unavailable past the timeout": {"statuses": (503,)},
    "nothing listening": {"endpoint": _closed_port_url()},
}
if "max_request_size" in inspect.signature(OTLPSpanExporter).parameters:  # since opentelemetry-sdk 1.45
    SCENARIOS["too large"] = {"max_request_size": 10}


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_exporter_behaves_like_upstream(
    tracing: Tracing, caplog: pytest.LogCaptureFixture, scenario: dict[str, Any]
) -> None:
    _attribute_types(tracing)
    _parents(tracing)
    spans = tracing.spans()
    ours = _export_with(FastOTLPSpanExporter, spans, caplog, **scenario)
    upstream = _export_with(OTLPSpanExporter, spans, caplog, **scenario)
    assert ours == upstream
    assert ours[1] == [upstream_encode_spans(spans)] * len(ours[1])


def test_exporter_outcomes(tracing: Tracing, caplog: pytest.LogCaptureFixture) -> None:
    tracing.tracer().start_span("one").end()
    spans = tracing.spans()
    assert _export_with(FastOTLPSpanExporter, spans, caplog)[0] is SpanExportResult.SUCCESS
    result, payloads, _, _ = _export_with(FastOTLPSpanExporter, spans, caplog, statuses=(503, 200), retry_after="0")
    assert (result, len(payloads)) == (SpanExportResult.SUCCESS, 2)
    for failing in ({"statuses": (400,)}, {"statuses": (503,)}, {"endpoint": _closed_port_url()}):
        assert _export_with(FastOTLPSpanExporter, spans, caplog, **failing)[0] is SpanExportResult.FAILURE


def test_exporter_sends_a_batch_upstream_cannot_encode(tracing: Tracing, caplog: pytest.LogCaptureFixture) -> None:
    tracing.tracer().start_span("bad \ud800").end()
    upstream = _export_with(OTLPSpanExporter, tracing.spans(), caplog)
    assert upstream[:2] == (SpanExportResult.FAILURE, [])
    assert upstream[3][0].startswith("Failed to encode span batch")
    ours = _export_with(FastOTLPSpanExporter, tracing.spans(), caplog)
    assert ours[0] is (SpanExportResult.SUCCESS if FAST else SpanExportResult.FAILURE)


@pytest.mark.skipif(not FAST, reason="upstream's export is used outside the tested SDK range")
def test_exporter_fails_without_raising_when_its_encoder_fails(
    tracing: Tracing, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracing.tracer().start_span("fine").end()
    monkeypatch.setattr(fast_spans, "encode_spans", _raise)
    result, payloads, _, messages = _export_with(FastOTLPSpanExporter, tracing.spans(), caplog)
    assert (result, payloads) == (SpanExportResult.FAILURE, [])
    assert messages[0].startswith("Failed to encode span batch")


def _last_failure_permanent(spans: Sequence[ReadableSpan], **scenario: Any) -> tuple[SpanExportResult, bool]:
    statuses = scenario.pop("statuses", (200,))
    collector = Collector(statuses)
    exporter = FastOTLPSpanExporter(**{"endpoint": collector.url, "timeout": 0.5, **scenario})
    try:
        return exporter.export(spans), exporter.last_failure_permanent
    finally:
        exporter.shutdown()
        collector.close()


@pytest.mark.skipif(not FAST, reason="upstream's export is used outside the tested SDK range")
def test_exporter_says_which_failures_sending_again_cannot_fix(tracing: Tracing) -> None:
    """Malformed (400) and too large (413, or over max_request_size) are final; the rest is retried."""
    tracing.tracer().start_span("one").end()
    spans = tracing.spans()
    failure = SpanExportResult.FAILURE
    assert _last_failure_permanent(spans, statuses=(400,)) == (failure, True)
    assert _last_failure_permanent(spans, statuses=(413,)) == (failure, True)
    assert _last_failure_permanent(spans, max_request_size=10) == (failure, True)
    assert _last_failure_permanent(spans, statuses=(503,)) == (failure, False)
    assert _last_failure_permanent(spans, statuses=(401,)) == (failure, False)
    assert _last_failure_permanent(spans, endpoint=_closed_port_url()) == (failure, False)
    assert _last_failure_permanent(spans) == (SpanExportResult.SUCCESS, False)


def test_exporter_after_shutdown_fails_like_upstream(tracing: Tracing) -> None:
    tracing.tracer().start_span("late").end()
    for exporter_class in (FastOTLPSpanExporter, OTLPSpanExporter):
        exporter = exporter_class(endpoint=_closed_port_url())
        exporter.shutdown()
        assert exporter.export(tracing.spans()) is SpanExportResult.FAILURE


def _export_once(tracing: Tracing, **kwargs: Any) -> tuple[FastOTLPSpanExporter, SpanExportResult, Collector]:
    collector = Collector([200])
    exporter = FastOTLPSpanExporter(endpoint=collector.url, timeout=0.5, **kwargs)
    try:
        result = exporter.export(tracing.spans())
    finally:
        exporter.shutdown()
        collector.close()
    return exporter, result, collector


def test_the_encoded_path_is_taken_on_the_tested_sdk(
    tracing: Tracing, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A silent fallback to upstream's export fails here; outside the tested range it is demanded.
    _events(tracing)
    ours: list[int] = []
    encode = fast_spans.encode_spans
    monkeypatch.setattr(fast_spans, "encode_spans", lambda spans: ours.append(len(spans)) or encode(spans))
    with watching_fallbacks(caplog):
        exporter, result, collector = _export_once(tracing)
    assert exporter.accepts_encoded_spans is FAST
    assert ours == ([len(tracing.spans())] if FAST else [])
    assert result is SpanExportResult.SUCCESS
    assert collector.payloads() == [upstream_encode_spans(tracing.spans())]
    assert len(fallback_notes(caplog)) == (0 if FAST else 1)


def _raise(*args: Any) -> Any:
    raise TypeError("a new signature")


class _BrokenSelfMetrics:
    def export_operation(self, count: int) -> Any:
        raise RuntimeError("changed")


UPSTREAM_CHANGES: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    # The upstream exporter holds its own references to these; only the door looks them up.
    "outside the tested range": lambda mp: mp.setattr(compat, "SDK_VERSION", UNTESTED_SDK),
    "size check renamed": lambda mp: mp.delattr(_http_common, "_is_request_too_large", raising=False),
    "error class renamed": lambda mp: mp.delattr(_http_common, "RequestPayloadTooLargeError", raising=False),
}


@pytest.mark.parametrize("change", UPSTREAM_CHANGES.values(), ids=UPSTREAM_CHANGES.keys())
def test_exporter_falls_back_to_upstream_when_its_internals_change(
    tracing: Tracing,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    change: Callable[[pytest.MonkeyPatch], None],
) -> None:
    _events(tracing)
    change(monkeypatch)
    with watching_fallbacks(caplog):
        exporter, result, collector = _export_once(tracing)
    assert not exporter.accepts_encoded_spans
    assert result is SpanExportResult.SUCCESS
    assert collector.payloads() == [upstream_encode_spans(tracing.spans())]
    (note,) = fallback_notes(caplog)
    assert note.startswith(f"otel_chatbot: {compat.ENCODED_EXPORT} is off")


@pytest.mark.skipif(not FAST, reason="outside the tested SDK range the gate is closed before the client is looked at")
def test_a_client_with_another_signature_turns_the_encoded_path_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Checked before any span is encoded for this exporter: a batch of encoded spans never
    # meets a client that cannot take it. (Upstream's own export would call it its new way.)
    from opentelemetry.exporter.otlp.common.http import _OTLPHTTPClient

    monkeypatch.setattr(_OTLPHTTPClient, "export", lambda self, data, deadline: None)
    with watching_fallbacks(caplog):
        exporter = FastOTLPSpanExporter(endpoint=_closed_port_url())
    assert not exporter.accepts_encoded_spans
    assert len(fallback_notes(caplog)) == 1


OBSERVERS_FAILING: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "size check raises": lambda mp: mp.setattr(_http_common, "_is_request_too_large", _raise),
    "self-metrics raise": lambda mp: mp.setattr(
        trace_exporter_module, "create_exporter_metrics", lambda *args: _BrokenSelfMetrics()
    ),
}


@pytest.mark.skipif(not FAST, reason="the encoded path is off outside the tested SDK range")
@pytest.mark.parametrize("fail", OBSERVERS_FAILING.values(), ids=OBSERVERS_FAILING.keys())
def test_a_batch_whose_observers_fail_in_use_is_still_sent(
    tracing: Tracing,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fail: Callable[[pytest.MonkeyPatch], None],
) -> None:
    # The size check and the exporter's self-metrics only observe a request: when one of them
    # raises, the batch of already encoded spans that met it goes out all the same.
    _events(tracing)
    spans = tracing.spans()
    encoded = [encode_finished(span) for span in spans]
    fail(monkeypatch)
    collector = Collector([200])
    with watching_fallbacks(caplog):
        exporter = FastOTLPSpanExporter(endpoint=collector.url, timeout=0.5)
        try:
            assert exporter.accepts_encoded_spans  # the pieces are there; they fail only in use
            results = [exporter.export(encoded), exporter.export(encoded)]  # type: ignore[arg-type]
        finally:
            exporter.shutdown()
            collector.close()
    assert results == [SpanExportResult.SUCCESS] * 2
    assert collector.payloads() == [upstream_encode_spans(spans)] * 2
    assert len(fallback_notes(caplog)) == 1


def test_encoded_and_raw_spans_mix_in_one_request(tracing: Tracing) -> None:
    tracer = tracing.tracer("mixed")
    for i in range(4):
        tracer.start_span(f"s{i}", attributes={"i": i}).end()
    spans = tracing.spans()
    mixed = [encode_finished(spans[0]), spans[1], encode_finished(spans[2]), spans[3]]
    assert ExportTraceServiceRequest.FromString(encode_spans(mixed)) == upstream_encode_spans(spans)


def test_encoding_a_big_batch_offers_the_gil_every_few_spans(tracing: Tracing, monkeypatch: pytest.MonkeyPatch) -> None:
    offers: list[int] = []
    monkeypatch.setattr(fast_spans, "offer_gil", lambda: offers.append(0))
    tracer = tracing.tracer()
    for i in range(100):
        tracer.start_span(f"s{i}").end()
    spans = tracing.spans()
    encode_spans(spans)
    assert len(offers) == 100 // fast_spans._SPANS_PER_GIL_HOLD
    offers.clear()
    encode_spans([encode_finished(span) for span in spans])  # nothing left to encode: no pause
    assert offers == []


def _spans_of(payloads: list[ExportTraceServiceRequest]) -> list[Any]:
    return [span for p in payloads for rs in p.resource_spans for ss in rs.scope_spans for span in ss.spans]


@pytest.mark.skipif(not FAST, reason="outside the tested SDK range no encoded span is handed to the exporter")
@pytest.mark.parametrize(
    ("statuses", "expected"), [((200,), SpanExportResult.SUCCESS), ((200, 400), SpanExportResult.FAILURE)]
)
def test_a_big_batch_goes_out_in_requests_of_bounded_size(
    tracing: Tracing,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    statuses: tuple[int, ...],
    expected: SpanExportResult,
) -> None:
    tracer = tracing.tracer("big")
    for i in range(10):
        tracer.start_span(f"s{i}", attributes={"content": "x" * 1000}).end()
    spans = tracing.spans()
    encoded = [encode_finished(span) for span in spans]
    monkeypatch.setattr(fast_spans, "REQUEST_SPAN_BYTES", 3 * len(encoded[0].encoded))
    result, payloads, _, _ = _export_with(FastOTLPSpanExporter, encoded, caplog, statuses=statuses)  # type: ignore[arg-type]
    assert result is expected
    assert [len(_spans_of([p])) for p in payloads] == [3, 3, 3, 1]
    assert _spans_of(payloads) == _spans_of([upstream_encode_spans(spans)])


def test_split_by_size_keeps_order_and_never_leaves_a_part_empty(tracing: Tracing) -> None:
    tracer = tracing.tracer("sizes")
    for size in (10, 5000, 10, 10, 5000):
        tracer.start_span("s", attributes={"a": "y" * size}).end()
    encoded = [encode_finished(span) for span in tracing.spans()]
    parts = fast_spans.split_by_size(encoded, 4000)
    assert [len(p) for p in parts] == [1, 1, 2, 1]  # a span over the limit goes alone
    assert [span for part in parts for span in part] == encoded
    assert fast_spans.split_by_size([], 4000) == []
