"""Bound instruments record exactly what the SDK's public API records.

Each test runs the same sequence twice, once through ``Bound`` and once through the
instrument's own ``record``/``add``, into two providers built alike, and compares what
the readers collect (timestamps aside). On the tested SDK the pre-bound path must really
be taken; outside its range, or when an SDK internal is missing or raises, the public path
must get every record.
"""

from __future__ import annotations

import inspect
import logging
import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import metrics as metrics_api
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics._internal import measurement as measurement_module
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.trace import TracerProvider

from otel_chatbot import compat
from otel_chatbot.instrumentation.prebound import Bindings, Bound
from tests.unit.fallbacks import FAST, UNTESTED_SDK, fallback_notes, watching_fallbacks

ATTRS: dict[str, Any] = {"http.request.method": "POST", "http.route": "/chat", "http.response.status_code": 200}
OTHER: dict[str, Any] = {"http.request.method": "GET", "http.route": "/health", "http.response.status_code": 200}
DELTA = {Histogram: AggregationTemporality.DELTA, Counter: AggregationTemporality.DELTA}

Recorder = Callable[[Any, float, dict[str, Any]], None]


def _public(instrument: Any, amount: float, attributes: dict[str, Any]) -> None:
    (getattr(instrument, "record", None) or instrument.add)(amount, attributes)


def _bound_recorder(many: bool = False) -> Recorder:
    """Records through ``Bound.record``, or with ``many`` a list of amounts through ``Bound.record_many``."""
    bindings: dict[tuple[int, tuple[Any, ...]], Bound] = {}

    def record(instrument: Any, amount: Any, attributes: dict[str, Any]) -> None:
        key = (id(instrument), tuple(attributes.items()))
        if key not in bindings:
            bindings[key] = Bound(instrument, attributes)
        if many:
            bindings[key].record_many(list(amount))
        else:
            bindings[key].record(amount)

    return record


def _points(reader: InMemoryMetricReader) -> list[tuple[Any, ...]]:
    data = reader.get_metrics_data()
    out: list[tuple[Any, ...]] = []
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for p in metric.data.data_points:
                    attrs = tuple(sorted(p.attributes.items()))
                    exemplars = tuple(
                        (e.value, tuple(sorted((e.filtered_attributes or {}).items())), bool(e.trace_id))
                        for e in p.exemplars
                    )
                    if hasattr(p, "bucket_counts"):
                        values: tuple[Any, ...] = (p.count, p.sum, p.min, p.max, tuple(p.bucket_counts))
                    else:
                        values = (p.value,)
                    out.append((metric.name, attrs, values, exemplars))
    return sorted(out, key=repr)


def _run(
    recorder: Recorder,
    scenario: Callable[[Recorder, Any, Any, Callable[[], list[tuple[Any, ...]]]], list[Any]],
    **reader_kwargs: Any,
) -> list[Any]:
    reader = InMemoryMetricReader(**reader_kwargs.pop("reader", {}))
    provider = MeterProvider(metric_readers=[reader], **reader_kwargs)
    meter = provider.get_meter("test")
    hist = meter.create_histogram("d", unit="s", explicit_bucket_boundaries_advisory=[0.01, 0.1, 1.0])
    counter = meter.create_counter("c")
    try:
        return scenario(recorder, hist, counter, lambda: _points(reader))
    finally:
        provider.shutdown()


def _same(scenario: Any, **kwargs: Any) -> list[Any]:
    public = _run(_public, scenario, **kwargs)
    bound = _run(_bound_recorder(), scenario, **kwargs)
    assert bound == public
    return public


class Counted:
    """A histogram of a fresh provider whose public ``record`` calls are counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reader = InMemoryMetricReader()
        self.provider = MeterProvider(metric_readers=[self.reader])
        self.hist = self.provider.get_meter("t").create_histogram("d")
        self.public: list[float] = []
        original = type(self.hist).record

        def counting(instrument: Any, amount: float, *rest: Any, **kw: Any) -> None:
            self.public.append(amount)
            original(instrument, amount, *rest, **kw)

        monkeypatch.setattr(type(self.hist), "record", counting)

    def totals(self) -> tuple[int, float]:
        ((_, _, values, _),) = _points(self.reader)
        return values[0], values[1]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counted]:
    made = Counted(monkeypatch)
    yield made
    made.provider.shutdown()


@pytest.fixture
def fresh_internals() -> Iterator[None]:
    """The door resolves the SDK pieces again now, and again after the test (they are cached)."""
    compat._metric_internals.cache_clear()
    yield
    compat._metric_internals.cache_clear()


def test_the_bound_path_skips_the_public_api_after_the_first_record(
    counted: Counted, caplog: pytest.LogCaptureFixture
) -> None:
    # On the tested SDK a silent fallback fails here. If it fails after an SDK upgrade inside
    # the declared range, compat.py's pre-bound internals no longer match that SDK.
    with watching_fallbacks(caplog):
        bound = Bound(counted.hist, ATTRS)
        for value in (1.0, 2.0, 3.0):
            bound.record(value)
    assert bound.fast_path_active is FAST
    assert counted.public == ([1.0] if FAST else [1.0, 2.0, 3.0])
    assert counted.totals() == (3, 6.0)
    assert len(fallback_notes(caplog)) == (0 if FAST else 1)


class _Changed(measurement_module.Measurement):
    def __post_init__(self) -> None:
        raise TypeError("a new field")


# The SDK's instruments hold their own reference to Measurement; only the door looks it up
# where it lives, so only the pre-bound path meets the change.
SDK_CHANGES: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "outside the tested range": lambda mp: mp.setattr(compat, "SDK_VERSION", UNTESTED_SDK),
    "Measurement moved": lambda mp: mp.delattr(measurement_module, "Measurement"),
    "Measurement raises": lambda mp: mp.setattr(measurement_module, "Measurement", _Changed),
}


@pytest.mark.parametrize("change", SDK_CHANGES.values(), ids=SDK_CHANGES.keys())
@pytest.mark.usefixtures("fresh_internals")
def test_without_the_tested_internals_every_record_is_public(
    change: Callable[[pytest.MonkeyPatch], None],
    counted: Counted,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    change(monkeypatch)
    with watching_fallbacks(caplog):
        bounds = [Bound(counted.hist, ATTRS), Bound(counted.hist, OTHER)]
        for value in (1.0, 2.0):
            for bound in bounds:
                bound.record(value)
    assert not any(bound.fast_path_active for bound in bounds)
    assert counted.public == [1.0, 1.0, 2.0, 2.0]
    assert sorted(p[2][:2] for p in _points(counted.reader)) == [(2, 3.0), (2, 3.0)]
    (note,) = fallback_notes(caplog)
    assert note.startswith(f"otel_chatbot: {compat.PREBOUND} is off")


def test_cumulative_histogram_and_counter() -> None:
    def scenario(rec: Recorder, hist: Any, counter: Any, collect: Any) -> list[Any]:
        for i in range(50):
            rec(hist, i / 37, ATTRS if i % 3 else OTHER)
            rec(counter, i % 4, ATTRS)
        first = collect()
        rec(hist, 0.5, ATTRS)
        return [first, collect()]

    result = _same(scenario)
    assert result[0] and result[1] != result[0]


def test_delta_temporality_across_collections() -> None:
    def scenario(rec: Recorder, hist: Any, counter: Any, collect: Any) -> list[Any]:
        snapshots = []
        for round_ in range(3):
            for i in range(10 + round_):
                rec(hist, 0.02 * i, ATTRS)
                rec(counter, 1, OTHER)
            snapshots.append(collect())
        snapshots.append(collect())  # nothing recorded since: no points
        return snapshots

    result = _same(scenario, reader={"preferred_temporality": DELTA})
    assert result[0] != result[1] and result[3] == []


def test_views_that_drop_attributes() -> None:
    def scenario(rec: Recorder, hist: Any, counter: Any, collect: Any) -> list[Any]:
        for i in range(20):
            rec(hist, i / 10, ATTRS if i % 2 else OTHER)
        return [collect()]

    views = [View(instrument_name="d", attribute_keys={"http.request.method"}), View(instrument_name="d", name="d2")]
    result = _same(scenario, views=views)
    assert {p[0] for p in result[0]} == {"d", "d2"}


def test_exemplars_of_the_active_span() -> None:
    tracer = TracerProvider().get_tracer("t")

    def scenario(rec: Recorder, hist: Any, counter: Any, collect: Any) -> list[Any]:
        with tracer.start_as_current_span("s"):
            for i in range(5):
                rec(hist, 0.05 * i, ATTRS)
        rec(hist, 0.3, ATTRS)  # outside a span: no exemplar under the trace-based filter
        return [collect()]

    views = [View(instrument_name="d", attribute_keys={"http.route"})]
    result = _same(scenario, views=views)
    exemplars = [e for point in result[0] for e in point[3]]
    assert exemplars and all(dict(e[1])["http.request.method"] == "POST" for e in exemplars)


@pytest.mark.skipif(
    "cardinality_limits" not in inspect.signature(InMemoryMetricReader).parameters,
    reason="this SDK has no per-reader cardinality limits",
)
def test_cardinality_overflow() -> None:
    def scenario(rec: Recorder, hist: Any, counter: Any, collect: Any) -> list[Any]:
        for _ in range(2):
            for i in range(6):
                rec(counter, 1, {"k": f"v{i}"})
        return [collect()]

    result = _same(scenario, reader={"cardinality_limits": {Counter: 3}})
    assert any(p[1] == (("otel.metric.overflow", True),) for p in result[0])


def test_a_reader_added_later_gets_the_bound_records() -> None:
    first = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[first])
    hist = provider.get_meter("t").create_histogram("d")
    bound = Bound(hist, ATTRS)
    bound.record(1.0)
    bound.record(2.0)
    later = InMemoryMetricReader()
    provider.add_metric_reader(later)
    bound.record(3.0)
    bound.record(4.0)
    counts = [_points(r)[0][2][0] for r in (first, later)]
    assert counts == [4, 2]


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_values_the_sdk_rejects_are_rejected_the_same_way(bad: float, caplog: pytest.LogCaptureFixture) -> None:
    def scenario(rec: Recorder, hist: Any, counter: Any, collect: Any) -> list[Any]:
        rec(hist, 1.0, ATTRS)
        rec(hist, 2.0, ATTRS)
        with caplog.at_level(logging.WARNING):
            rec(hist, bad, ATTRS)
        return [collect()]

    result = _same(scenario)
    assert result[0][0][2][0] == 2
    assert len([r for r in caplog.records if "Histogram" in r.getMessage()]) == 2  # once per run


def test_api_no_op_instruments_are_fine() -> None:
    hist = metrics_api.NoOpMeterProvider().get_meter("t").create_histogram("d")
    bound = Bound(hist, ATTRS)
    for value in (1.0, 2.0):
        bound.record(value)
    counter = metrics_api.NoOpMeterProvider().get_meter("t").create_counter("c")
    Bound(counter, ATTRS).add(1)


def test_the_binding_keeps_its_own_copy_of_the_attributes() -> None:
    attrs = dict(ATTRS)

    def scenario(rec: Recorder, hist: Any, counter: Any, collect: Any) -> list[Any]:
        bound = Bound(hist, attrs)
        bound.record(1.0)
        attrs["http.route"] = "/mutated"
        bound.record(2.0)
        return [collect()]

    result = _run(_public, scenario)
    assert [dict(p[1])["http.route"] for p in result[0]] == ["/chat"]


def test_bindings_build_each_attribute_set_once_and_stay_bounded() -> None:
    reader = InMemoryMetricReader()
    hist = MeterProvider(metric_readers=[reader]).get_meter("t").create_histogram("d")
    built: list[tuple[Any, ...]] = []

    def attributes(route: str, status: int) -> dict[str, Any]:
        built.append((route, status))
        return {"http.route": route, "http.response.status_code": status}

    bindings = Bindings(hist, attributes, limit=2)
    for _ in range(3):
        for route in ("/a", "/b", "/c"):
            bindings.get(route, 200).record(1.0)
    assert bindings.get("/a", 200) is bindings.get("/a", 200)
    assert built.count(("/a", 200)) == 1 and built.count(("/c", 200)) == 3  # past the limit: not kept
    assert sorted((dict(p[1])["http.route"], p[2][0]) for p in _points(reader)) == [("/a", 3), ("/b", 3), ("/c", 3)]


def test_a_record_that_meets_an_unexpected_shape_goes_through_the_public_api(
    counted: Counted, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with watching_fallbacks(caplog):
        bound = Bound(counted.hist, ATTRS)
        bound.record(1.0)
        bound.record(2.0)
        if FAST:  # as if an SDK release changed its view streams under a live binding
            monkeypatch.setattr(bound._fast, "_targets", [object()])
        bound.record(3.0)  # not lost, never raised
        bound.record(4.0)
    assert not bound.fast_path_active
    assert counted.totals() == (4, 10.0)
    assert counted.public == [1.0, 3.0, 4.0] if FAST else [1.0, 2.0, 3.0, 4.0]
    assert len(fallback_notes(caplog)) == 1


def _each(instrument: Any, amounts: Any, attributes: dict[str, Any]) -> None:
    for amount in amounts:
        _public(instrument, amount, attributes)


def test_record_many_records_what_one_record_per_value_records(caplog: pytest.LogCaptureFixture) -> None:
    tracer = TracerProvider().get_tracer("t")

    def scenario(rec: Recorder, hist: Any, counter: Any, collect: Any) -> list[Any]:
        random.seed(7)  # a counter's exemplar reservoir samples at random: the same draws on both sides
        rec(hist, [0.5], ATTRS)
        with tracer.start_as_current_span("s"):
            rec(hist, [0.005, 0.05, 0.02, 0.5, 3.0], ATTRS)  # exemplars: the last value of each bucket
            rec(counter, [1, 2, 3], OTHER)
        rec(hist, [0.2, 0.3], ATTRS)  # outside a span: no exemplar
        rec(hist, [], ATTRS)
        return [collect()]

    views = [View(instrument_name="d", attribute_keys={"http.route"}), View(instrument_name="d", name="d2")]
    with watching_fallbacks(caplog):
        public = _run(_each, scenario, views=views)
        many = _run(_bound_recorder(many=True), scenario, views=views)
    assert many == public
    assert [e for point in public[0] for e in point[3]]
    assert fallback_notes(caplog) == []


def test_record_many_skips_the_public_api_after_the_first_record(counted: Counted) -> None:
    bound = Bound(counted.hist, ATTRS)
    bound.record_many([1.0])
    bound.record_many([2.0, 3.0, 4.0])
    assert counted.totals() == (4, 10.0)
    assert counted.public == ([1.0] if FAST else [1.0, 2.0, 3.0, 4.0])


def test_record_many_with_a_value_the_sdk_rejects_goes_value_by_value(
    counted: Counted, caplog: pytest.LogCaptureFixture
) -> None:
    bound = Bound(counted.hist, ATTRS)
    bound.record_many([1.0])
    with caplog.at_level(logging.WARNING):
        bound.record_many([2.0, -1.0, 3.0])
    assert counted.totals() == (3, 6.0)  # the SDK dropped -1.0 with its own warning
    assert -1.0 in counted.public


def test_record_many_that_meets_an_unexpected_shape_loses_nothing_and_counts_nothing_twice(
    counted: Counted, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with watching_fallbacks(caplog):
        bound = Bound(counted.hist, ATTRS)
        bound.record_many([1.0])
        if FAST:  # the third value meets targets of a shape we did not expect
            fast = bound._fast
            assert fast is not None
            real = fast._targets
            calls = []

            class Breaks:
                def aggregate(self, measurement: Any, sample: bool) -> None:
                    calls.append(measurement.value)
                    if len(calls) == 3:
                        raise AttributeError("changed")
                    for target in real:
                        target.aggregate(measurement, sample)

            monkeypatch.setattr(fast, "_targets", [Breaks()])
        bound.record_many([2.0, 3.0, 4.0, 5.0])
        bound.record_many([6.0])
    assert not bound.fast_path_active
    assert counted.totals() == (6, 21.0)
    assert counted.public == ([1.0, 4.0, 5.0, 6.0] if FAST else [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    if FAST:
        assert len(fallback_notes(caplog)) == 1


def _large_values(seen: list[float]) -> Any:
    """An exemplar filter that reads the value (samples above 1), noting each value it is asked about."""
    from opentelemetry.sdk.metrics import ExemplarFilter

    class Large(ExemplarFilter):
        def should_sample(self, value: float, time_unix_nano: int, attributes: Any, context: Any) -> bool:
            seen.append(value)
            return value > 1

    return Large()


def test_an_exemplar_filter_that_reads_the_value_decides_for_each_value() -> None:
    seen: list[float] = []
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], exemplar_filter=_large_values(seen))
    hist = provider.get_meter("t").create_histogram("d", explicit_bucket_boundaries_advisory=[10.0])
    bound = Bound(hist, ATTRS)
    bound.record_many([0.5])
    bound.record_many([2.0, 0.7])
    assert seen == [0.5, 2.0, 0.7]
    ((_, _, _, exemplars),) = _points(reader)
    assert [e[0] for e in exemplars] == [2.0]  # 0.7, the last value of the bucket, was not sampled
    provider.shutdown()


# --- records of one event, sharing a context and an exemplar decision ----------------------


def _together_recorder() -> Recorder:
    """Each call's amounts (one per attribute set) through ``Bound.record_together`` with one shared decision."""
    bindings: dict[tuple[int, tuple[Any, ...]], Bound] = {}

    def record(instrument: Any, amounts: Any, attributes: dict[str, Any]) -> None:
        together = compat.RecordedTogether()
        for index, amount in enumerate(amounts):
            attrs = {**attributes, "n": index}
            key = (id(instrument), tuple(attrs.items()))
            if key not in bindings:
                bindings[key] = Bound(instrument, attrs)
            bindings[key].record_together(amount, together)

    return record


def _each_attributes(instrument: Any, amounts: Any, attributes: dict[str, Any]) -> None:
    for index, amount in enumerate(amounts):
        _public(instrument, amount, {**attributes, "n": index})


def test_records_together_record_what_separate_public_records_record(caplog: pytest.LogCaptureFixture) -> None:
    tracer = TracerProvider().get_tracer("t")

    def scenario(rec: Recorder, hist: Any, counter: Any, collect: Any) -> list[Any]:
        random.seed(7)  # a counter's exemplar reservoir samples at random: the same draws on both sides
        rec(hist, [0.5, 2.0], ATTRS)  # the first record of each set: public on both sides
        with tracer.start_as_current_span("s"):
            rec(hist, [0.005, 0.05, 0.5], ATTRS)  # in a sampled span: an exemplar each
            rec(counter, [1, 2, 0.25], OTHER)
        rec(hist, [0.2, 0.3], ATTRS)  # outside a span: none
        with tracer.start_as_current_span("t"):
            rec(hist, [0.7, -1.0, 0.9], ATTRS)  # the SDK rejects -1.0 with its own warning, on both sides
        return [collect()]

    views = [View(instrument_name="d", attribute_keys={"http.route", "n"}), View(instrument_name="d", name="d2")]
    with watching_fallbacks(caplog), caplog.at_level(logging.ERROR, logger="opentelemetry"):
        for temporality in ({}, {"reader": {"preferred_temporality": DELTA}}):
            public = _run(_each_attributes, scenario, views=views, **temporality)
            together = _run(_together_recorder(), scenario, views=views, **temporality)
            assert together == public
            assert [e for point in public[0] for e in point[3]]
    assert fallback_notes(caplog) == []


def test_records_together_skip_the_public_api_after_the_first_record(counted: Counted) -> None:
    bound = Bound(counted.hist, ATTRS)
    bound.record_together(1.0, compat.RecordedTogether())
    together = compat.RecordedTogether()
    bound.record_together(2.0, together)
    bound.record_together(3.0, together)
    assert counted.totals() == (3, 6.0)
    assert counted.public == ([1.0] if FAST else [1.0, 2.0, 3.0])


def test_records_together_that_meet_an_unexpected_shape_go_public_and_lose_nothing(
    counted: Counted, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with watching_fallbacks(caplog):
        bound = Bound(counted.hist, ATTRS)
        bound.record_together(1.0, compat.RecordedTogether())
        if FAST:
            fast = bound._fast
            assert fast is not None
            monkeypatch.setattr(fast, "_targets", [None])  # no aggregate(): the SDK changed shape
        bound.record_together(2.0, compat.RecordedTogether())
        bound.record_together(3.0, compat.RecordedTogether())
    assert not bound.fast_path_active
    assert counted.totals() == (3, 6.0)
    assert counted.public == [1.0, 2.0, 3.0]
    if FAST:
        assert len(fallback_notes(caplog)) == 1


def test_records_together_ask_a_filter_that_reads_the_value_for_each_record() -> None:
    seen: list[float] = []
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], exemplar_filter=_large_values(seen))
    hist = provider.get_meter("t").create_histogram("d", explicit_bucket_boundaries_advisory=[10.0])
    first, second = Bound(hist, ATTRS), Bound(hist, OTHER)
    first.record(0.5)
    second.record(0.5)
    together = compat.RecordedTogether()
    first.record_together(2.0, together)
    second.record_together(0.7, together)
    assert seen == [0.5, 0.5, 2.0, 0.7]
    exemplars = {point[1]: [e[0] for e in point[3]] for point in _points(reader)}
    assert sorted(exemplars.values()) == [[], [2.0]]
    provider.shutdown()


def test_records_together_decide_once_for_the_sdks_context_only_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.sdk.metrics import TraceBasedExemplarFilter

    asked: list[float] = []
    real = TraceBasedExemplarFilter.should_sample

    def counting(self: Any, value: float, *rest: Any) -> bool:
        asked.append(value)
        return real(self, value, *rest)

    monkeypatch.setattr(TraceBasedExemplarFilter, "should_sample", counting)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    hist = provider.get_meter("t").create_histogram("d")
    first, second = Bound(hist, ATTRS), Bound(hist, OTHER)
    first.record(1.0)
    second.record(1.0)
    asked.clear()
    together = compat.RecordedTogether()
    first.record_together(2.0, together)
    second.record_together(3.0, together)
    assert asked == ([2.0] if FAST else [2.0, 3.0])
    provider.shutdown()
