"""The door to other libraries' internals: its version gate, what it says when closed, FastAPI's switch.

Each fast path's own tests (tests/unit/instrumentation/test_prebound.py,
tests/unit/export/test_{fast_spans,span_batching,outage}.py) check that it is really
taken on the tested SDK and that its fallback loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomllib
from fastapi import FastAPI
from opentelemetry import attributes as compat_attributes
from opentelemetry import trace as trace_api
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import SpanKind
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from otel_chatbot import compat
from otel_chatbot.export.fast_spans import FastOTLPSpanExporter
from tests.unit.fallbacks import FAST, UNTESTED_SDK, TakesTheSpan, fallback_notes, watching_fallbacks

ROOT = Path(__file__).resolve().parents[2]
# The distributions whose internals the door reads, all of one release line.
GATED = ("opentelemetry-api", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http")


def _declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {req.name: req for req in map(Requirement, project["dependencies"])}


def _pinned() -> dict[str, Version]:
    lines = (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
    return {name.lower(): Version(version) for name, _, version in (line.partition("==") for line in lines if line)}


def test_the_gate_is_the_range_pyproject_declares() -> None:
    declared = _declared()
    for name in (*GATED, "opentelemetry-exporter-otlp-proto-grpc"):
        assert declared[name].specifier == SpecifierSet(compat.SDK_REQUIREMENT), name


def test_the_pinned_release_line_is_inside_the_gate() -> None:
    pinned = _pinned()
    for name in GATED:
        assert compat.in_tested_range(str(pinned[name])), name


@pytest.mark.parametrize(
    "version", ["1.45.2", "1.45.3", "1.45.10", "1.45.1", "1.44.0", "1.46.0", "1.46", "2.0.0", "1.4.5", "1.450.0"]
)
def test_in_tested_range_is_pep440_on_final_releases(version: str) -> None:
    assert compat.in_tested_range(version) is SpecifierSet(compat.SDK_REQUIREMENT).contains(version)


@pytest.mark.parametrize("version", ["1.45.3rc1", "1.45.3.dev0", "1.45.2.post1", "1.45.2+local", "unknown"])
def test_anything_but_a_final_release_is_outside(version: str) -> None:
    assert not compat.in_tested_range(version)


@pytest.fixture
def providers() -> Iterator[tuple[TracerProvider, MeterProvider]]:
    tracer_provider, meter_provider = TracerProvider(), MeterProvider(metric_readers=[InMemoryMetricReader()])
    yield tracer_provider, meter_provider
    tracer_provider.shutdown()
    meter_provider.shutdown()


def test_outside_the_range_each_capability_is_off_and_says_so_once(
    providers: tuple[TracerProvider, MeterProvider], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    meter_provider = providers[1]
    monkeypatch.setattr(compat, "SDK_VERSION", UNTESTED_SDK)
    histogram = meter_provider.get_meter("t").create_histogram("d")
    with watching_fallbacks(caplog):
        exporter = FastOTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")  # asks once itself
        for _ in range(2):
            assert compat.prebound_streams(histogram) is None
            assert compat.span_request_sender(exporter) is None
            assert compat.metric_exporter_preferences(exporter) is None
            assert compat.span_attribute_setter() is compat._public_set_attributes
    exporter.shutdown()
    notes = fallback_notes(caplog)
    capabilities = [compat.ENCODED_EXPORT, compat.PREBOUND, compat.METRIC_PREFERENCES, compat.PLAIN_ATTRIBUTES]
    assert [note.split(" is off ")[0] for note in notes] == [f"otel_chatbot: {c}" for c in capabilities]
    assert all(f"opentelemetry-sdk {UNTESTED_SDK} is outside the tested range" in note for note in notes)


def test_no_op_instruments_have_no_prebound_path_and_that_is_no_news(caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.metrics import NoOpMeterProvider

    with watching_fallbacks(caplog):
        assert compat.prebound_streams(NoOpMeterProvider().get_meter("t").create_histogram("d")) is None
    assert fallback_notes(caplog) == []


def test_the_prevalidated_measurement_is_the_sdks_measurement_with_the_same_fields() -> None:
    import dataclasses

    from opentelemetry.context import get_current
    from opentelemetry.sdk.metrics._internal.measurement import Measurement

    internals = compat._metric_internals()
    assert internals is not None
    instrument = MeterProvider().get_meter("t").create_histogram("d")
    attributes = {"a": "b"}
    made = internals.prevalidated(1.5, 7, instrument, get_current(), attributes)
    sdk = Measurement(1.5, 7, instrument, get_current(), attributes)
    assert isinstance(made, Measurement)
    fields = [field.name for field in dataclasses.fields(Measurement)]
    assert [getattr(made, name) for name in fields] == [getattr(sdk, name) for name in fields]
    assert made.attributes is attributes  # not cleaned again: the binding cleaned it once
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.value = 2.0  # type: ignore[misc]


def _fastapi_spans(app: FastAPI, exporter: InMemorySpanExporter) -> list[str]:
    import asyncio

    async def call() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/hello")).json() == {"hello": "world"}

    exporter.clear()
    asyncio.run(call())
    return [span.name for span in exporter.get_finished_spans()]


def _app_with_native_telemetry(tracer_provider: TracerProvider) -> FastAPI:
    app = FastAPI(telemetry={"tracer_provider": tracer_provider, "logs": False})  # explicit: no global providers

    @app.get("/hello")
    async def hello() -> dict[str, Any]:
        return {"hello": "world"}

    return app


def test_fastapi_native_telemetry_is_turned_off(providers: tuple[TracerProvider, MeterProvider]) -> None:
    tracer_provider, _ = providers
    exporter = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = _app_with_native_telemetry(tracer_provider)
    assert "GET /hello" in _fastapi_spans(app, exporter)  # FastAPI's own server span, before
    assert compat.fastapi_native_telemetry_off(app)
    assert _fastapi_spans(app, exporter) == []


def test_a_fastapi_that_keeps_its_switches_elsewhere_is_named_with_the_public_way(
    providers: tuple[TracerProvider, MeterProvider], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tracer_provider, _ = providers
    app = _app_with_native_telemetry(tracer_provider)
    monkeypatch.setattr(app, "_telemetry", ("settings", "moved"))  # as if a release held them in another object
    with watching_fallbacks(caplog):
        assert not compat.fastapi_native_telemetry_off(app)
        assert not compat.fastapi_native_telemetry_off(app)
    (note,) = fallback_notes(caplog)
    assert "FastAPI(telemetry={'tracing': False, 'metrics': False, 'logs': False})" in note


def test_starlette_apps_have_nothing_to_turn_off(caplog: pytest.LogCaptureFixture) -> None:
    from starlette.applications import Starlette

    with watching_fallbacks(caplog):
        assert not compat.fastapi_native_telemetry_off(Starlette())
    assert fallback_notes(caplog) == []


def test_an_aws_clients_credentials_are_read_and_a_client_without_them_falls_back_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import boto3

    keys = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}
    client = boto3.client("bedrock-runtime", region_name="us-east-1", **keys)
    with watching_fallbacks(caplog):
        credentials = compat.aws_client_credentials(client)
        assert credentials is not None
        assert credentials.get_frozen_credentials().access_key == "AKIDEXAMPLE"
        assert fallback_notes(caplog) == []
        for _ in range(2):
            assert compat.aws_client_credentials(object()) is None  # as if botocore dropped its accessor
    (note,) = fallback_notes(caplog)
    assert note.startswith(f"otel_chatbot: {compat.AWS_CLIENT_CREDENTIALS} is off (object: no _get_credentials())")
    assert "the default credential chain signs the lookups" in note
    client.close()


# --- plain span attributes ---------------------------------------------------------------------

PLAIN = {
    "http.route": "/chat/{session_id}",
    "http.response.status_code": 200,
    "gen_ai.usage.cost": 0.000123,
    "chatbot.stream": True,
    "gen_ai.response.finish_reasons": ("end_turn",),
    "http.request.header.x-request-id": (),
}


def _exported(limits: SpanLimits | None, attributes: dict[str, Any], fast: bool) -> tuple[dict[str, Any], int]:
    """A span's exported attributes (in order) and dropped count after setting ``attributes`` at start and late."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=limits) if limits else TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("t").start_span("s", attributes={"early": "x", "http.route": "/old"})
    setter = compat.span_attribute_setter() if fast else compat._public_set_attributes
    setter(span, attributes)
    span.end()
    (finished,) = exporter.get_finished_spans()
    provider.shutdown()
    return dict(finished.attributes or {}), finished.dropped_attributes


def test_plain_attributes_are_stored_as_the_sdk_stores_them(monkeypatch: pytest.MonkeyPatch) -> None:
    setter = compat.span_attribute_setter()
    assert (setter is not compat._public_set_attributes) is FAST  # taken on the tested SDK, else public
    fast = _exported(None, PLAIN, fast=True)
    assert fast == _exported(None, PLAIN, fast=False)
    assert list(fast[0]) == ["early", "http.route", *[k for k in PLAIN if k != "http.route"]]
    span = TracerProvider().get_tracer("t").start_span("s")
    cleaned: list[object] = []
    original = compat_attributes._clean_attribute_value
    monkeypatch.setattr(compat_attributes, "_clean_attribute_value", lambda *a: cleaned.append(a) or original(*a))
    setter(span, PLAIN)
    assert (cleaned == []) is FAST  # not validated again (outside the range: the SDK's own path)
    assert dict(span.attributes or {}) == PLAIN


@pytest.mark.parametrize(
    "limits",
    [SpanLimits(max_span_attributes=3), SpanLimits(max_span_attributes=0), SpanLimits(max_attribute_length=4)],
    ids=["count limit evicts the oldest", "no attributes at all", "value length limit"],
)
def test_limits_give_what_the_sdk_gives(limits: SpanLimits) -> None:
    assert _exported(limits, PLAIN, fast=True) == _exported(limits, PLAIN, fast=False)


@pytest.mark.parametrize(
    "odd",
    [
        {"a.list": ["x", "y"]},
        {"mixed": ("x", 1)},
        {"a.dict": {"k": "v"}},
        {"": "empty key"},
        {"none": None},
        {"bytes": b"x"},
    ],
    ids=["list", "mixed tuple", "mapping", "empty key", "None", "bytes"],
)
def test_anything_not_plain_goes_through_the_sdk(odd: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    attributes = {**PLAIN, **odd}
    assert _exported(None, attributes, fast=True) == _exported(None, attributes, fast=False)


def test_an_ended_span_is_left_alone_with_the_sdks_warning(caplog: pytest.LogCaptureFixture) -> None:
    provider = TracerProvider()
    span = provider.get_tracer("t").start_span("s")
    span.end()
    with caplog.at_level("WARNING"):
        compat.span_attribute_setter()(span, PLAIN)
    assert dict(span.attributes or {}) == {}
    assert "Setting attribute on ended span." in caplog.text


def test_a_span_of_another_kind_gets_its_own_set_attributes() -> None:
    from opentelemetry.trace import INVALID_SPAN

    compat.span_attribute_setter()(INVALID_SPAN, PLAIN)  # a no-op span: no error


class _LooksAtAttributes(Sampler):
    """A sampler that decides by an attribute: it must be given them at start."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def should_sample(self, parent_context: Any, trace_id: int, name: str, *args: Any, **kwargs: Any) -> SamplingResult:
        attributes = dict(kwargs.get("attributes") or (args[1] if len(args) > 1 else None) or {})
        self.seen.append(attributes)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "looks at attributes"


class _ReadsOnStart(SpanProcessor):
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.seen.append(dict(span.attributes or {}))


def _started(provider: TracerProvider, fast: bool) -> tuple[str, dict[str, Any]]:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    start = compat.plain_span_starter(tracer) if fast else None
    if start is None:
        span = tracer.start_span("s", kind=SpanKind.SERVER, attributes=PLAIN)
    else:
        span = start("s", None, SpanKind.SERVER, PLAIN)
    span.end()
    (finished,) = exporter.get_finished_spans()
    return finished.name, dict(finished.attributes or {})


def test_start_attributes_are_the_same_taken_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    for sampler in (ALWAYS_ON, ParentBased(TraceIdRatioBased(1.0))):
        fast = _started(TracerProvider(sampler=sampler), fast=True)
        assert fast == _started(TracerProvider(sampler=sampler), fast=False)
        assert list(fast[1]) == list(PLAIN)
    tracer = TracerProvider().get_tracer("t")
    start = compat.plain_span_starter(tracer)
    cleaned: list[object] = []
    original = compat_attributes._clean_attribute_value
    monkeypatch.setattr(compat_attributes, "_clean_attribute_value", lambda *a: cleaned.append(a) or original(*a))
    start("s", None, SpanKind.SERVER, PLAIN)
    assert (cleaned == []) is FAST  # the fast path is taken on the tested SDK


def test_a_sampler_that_looks_gets_the_start_attributes() -> None:
    sampler = _LooksAtAttributes()
    assert _started(TracerProvider(sampler=sampler), fast=True)[1] == PLAIN
    assert sampler.seen == [PLAIN]
    parent_based = _LooksAtAttributes()
    assert _started(TracerProvider(sampler=ParentBased(parent_based)), fast=True)[1] == PLAIN
    assert parent_based.seen == [PLAIN]


def test_a_processor_that_reads_on_start_sees_them_even_when_added_later() -> None:
    provider = TracerProvider()
    start = compat.plain_span_starter(provider.get_tracer("t"))
    reader = _ReadsOnStart()
    provider.add_span_processor(reader)
    start("s", None, SpanKind.SERVER, PLAIN).end()
    assert reader.seen == [PLAIN]


# --- finished spans: ended and read without the SDK's copy ---------------------------------


def _with(*processors: SpanProcessor) -> Any:
    provider = TracerProvider()
    for processor in processors:
        provider.add_span_processor(processor)
    return provider.get_tracer("t")


def test_an_ended_span_goes_itself_to_processors_that_take_it() -> None:
    taker = TakesTheSpan()
    tracer = _with(taker, TakesTheSpan())
    end = compat.span_ender(tracer)
    assert (end is not compat._public_end) is FAST
    span = tracer.start_span("s", attributes=PLAIN)
    end(span)
    (handed,) = taker.ended
    assert (handed is span) is FAST  # outside the range: the SDK's own read-only copy
    assert handed.end_time is not None and handed.end_time == span.end_time
    assert dict(handed.attributes or {}) == PLAIN
    span.set_attribute("late", 1)  # refused, as after the SDK's end
    assert "late" not in dict(span.attributes or {})


@pytest.mark.parametrize("copied", [False, True], ids=["handed itself", "the sdks copy"])
def test_an_end_time_given_is_the_spans_end_either_way(copied: bool) -> None:
    taker = TakesTheSpan()
    tracer = _with(taker, *([SimpleSpanProcessor(InMemorySpanExporter())] if copied else []))
    end = compat.span_ender(tracer)
    span = tracer.start_span("s", start_time=1_000)
    end(span, 5_000)
    (handed,) = taker.ended
    assert (handed.end_time, span.end_time) == (5_000, 5_000)
    assert (handed is span) is (FAST and not copied)
    other = trace_api.NonRecordingSpan(span.get_span_context())
    end(other, 6_000)  # not an SDK span: its own end(end_time=...), nothing handed over
    assert len(taker.ended) == 1


def test_any_processor_that_does_not_say_so_gets_the_sdks_copy() -> None:
    taker, other = TakesTheSpan(), _ReadsOnStart()
    tracer = _with(taker)
    end = compat.span_ender(tracer)
    end(tracer.start_span("first"))
    tracer.span_processor.add_span_processor(other)  # added later: seen at the next end
    span = tracer.start_span("second")
    end(span)
    assert taker.ended[1] is not span
    assert taker.ended[1].name == "second"


def test_a_span_ended_twice_is_handed_over_once_with_the_sdks_warning(caplog: pytest.LogCaptureFixture) -> None:
    taker = TakesTheSpan()
    tracer = _with(taker)
    end = compat.span_ender(tracer)
    span = tracer.start_span("s")
    end(span)
    with caplog.at_level(logging.WARNING):
        end(span)
    assert len(taker.ended) == 1
    assert "Calling end() on an ended span." in caplog.text


def test_a_span_of_another_kind_ends_its_own_way() -> None:
    taker = TakesTheSpan()
    tracer = _with(taker)
    end = compat.span_ender(tracer)
    unsampled = TracerProvider(sampler=ALWAYS_OFF).get_tracer("t").start_span("s")
    end(unsampled)  # a NonRecordingSpan: its own end(), nothing handed over
    assert taker.ended == []


def _rich_span(tracer: Any) -> Any:
    flags = trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED)
    parent = trace_api.SpanContext(0x1234, 0x5678, True, flags, trace_api.TraceState([("k", "v")]))
    span = tracer.start_span(
        "rich",
        context=trace_api.set_span_in_context(trace_api.NonRecordingSpan(parent)),
        kind=SpanKind.CLIENT,
        attributes={"a": "b", "n": 3, "xs": ("p", "q")},
        links=[trace_api.Link(parent, {"why": "retry"})],
    )
    span.add_event("e", {"k": 1.5})
    span.set_status(trace_api.Status(trace_api.StatusCode.ERROR, "boom"))
    return span


def test_a_finished_span_read_by_its_fields_reads_as_its_properties() -> None:
    from otel_chatbot.export.fast_spans import _public_fields

    taker = TakesTheSpan()
    tracer = TracerProvider(span_limits=SpanLimits(max_attributes=2, max_events=0)).get_tracer("t", "1")
    tracer.span_processor.add_span_processor(taker)
    read = compat.finished_span_reader()
    assert (read is not None) is FAST
    if read is None:
        return
    span = _rich_span(tracer)
    span.end()
    for finished in (span, taker.ended[0]):  # the span itself and the SDK's copy
        fields, public = read(finished), _public_fields(finished)
        assert fields is not None
        assert fields[7] == 1 and fields[9] == 1  # one attribute and one event dropped by the limits
        assert [dict(f) if i == 6 else list(f) if i in (8, 10) else f for i, f in enumerate(fields)] == [
            dict(p) if i == 6 else list(p) if i in (8, 10) else p for i, p in enumerate(public)
        ]


def test_spans_the_reader_does_not_know_are_left_to_the_properties() -> None:
    from opentelemetry.sdk.trace import ReadableSpan

    read = compat.finished_span_reader()
    if read is None:
        assert not FAST
        return
    by_hand = ReadableSpan("hand", attributes={"a": 1})  # a plain dict, no bounded containers
    assert read(by_hand) is None

    class Mine(ReadableSpan):
        pass

    assert read(Mine("mine")) is None


def test_outside_the_range_spans_end_and_are_read_the_public_way(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(compat, "SDK_VERSION", UNTESTED_SDK)
    with watching_fallbacks(caplog):
        assert compat.span_ender(_with(TakesTheSpan())) is compat._public_end
        assert compat.finished_span_reader() is None
    notes = [note.split(" is off ")[0] for note in fallback_notes(caplog)]
    assert notes == [f"otel_chatbot: {compat.ENDED_AS_IS}", f"otel_chatbot: {compat.READ_BY_FIELDS}"]
