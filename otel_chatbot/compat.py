"""The one place that touches other libraries' private names, behind one version gate.

Six fast paths, a wrapper, a switch and a credentials accessor lean on internals that
upstream may change in any release. Each is offered here as a capability; callers never
see a private name:

* :func:`prebound_streams` — a record path that skips the SDK's per-record attribute
  validation and hashing (``instrumentation/prebound.py``, ~10 → ~4.5 µs per record);
* :func:`span_request_sender` — upstream's OTLP/HTTP span export steps around bytes we
  encoded ourselves (``export/fast_spans.py``, ~36 → ~10 µs per span exported);
* :func:`span_attribute_setter` — span attributes that need no cleaning stored without
  the SDK's re-validation (the server span's and the GenAI span's late attributes);
* :func:`plain_span_starter` — the same for a span's start attributes, where neither the
  sampler nor a span processor's ``on_start`` can tell;
* :func:`span_ender` and :func:`finished_span_reader` — an ended span handed to our span
  processor as itself, without the SDK's read-only copy, and read by its fields when it is
  encoded (``export/fast_spans.py``; the server, botocore and HTTP client spans);
* :func:`metric_exporter_preferences` — the temporality and aggregation an exporter asks
  for, so a wrapper can ask the same (``export/outage.py``);
* :func:`fastapi_native_telemetry_off` — FastAPI's own telemetry turned off for an app we
  instrument (``instrumentation/fastapi.py``; spans and metrics would double);
* :func:`aws_client_credentials` — the credentials a botocore client signs with, so the
  lookup of an application inference profile signs as the app's client does
  (``instrumentation/bedrock/profiles.py``; the fallback is the default credential chain).

The figures are ``bench/fast_paths.py``'s, kept with the server-level ones in ``bench/README.md``.

**The gate.** The OpenTelemetry internals are used only with an SDK release inside
:data:`SDK_REQUIREMENT`, the very range ``pyproject.toml`` declares for the api, sdk and
OTLP exporter packages (a test reads both; the SDK pins its api, and the exporters pin
``opentelemetry-sdk~=`` their own version, so one SDK version names the whole line).
``scripts/test_newest_sdk.sh`` runs the unit tests against the newest release on PyPI;
inside the range they demand each fast path, outside it they demand the fallback.

**The fallback.** Outside the range, or when a private name is missing or of a shape we
do not expect, a capability is ``None`` and the caller uses the public API: the same
telemetry at the public API's cost, logged once per capability (:func:`fall_back`). A
private piece that fails later, in use, is reported the same way by its caller, which
then hands the measurement, span or batch that met it to the public path.

FastAPI's switch has no version of ours to gate on (FastAPI added native telemetry in
0.16x; older apps have nothing to turn off), so it is checked by shape alone; so is
botocore's ``_get_credentials()`` (there since botocore 1.x, still documented as private).

Not here, on purpose:

* ``opentelemetry.sdk._logs`` / ``opentelemetry._logs``: the SDK's and the API's
  documented homes of the logs signal (imported where logs are wired), like the
  ``_log_exporter`` modules of the OTLP exporters and ``opentelemetry.semconv._incubating``
  (where the semantic-conventions package documents its incubating names);
* ``BaseInstrumentor._instance`` and ``opentelemetry.sdk._configuration._BaseConfigurator``
  (``distro.py``): replaced by their public contracts, an instrumentor class called with
  no arguments returns its one instance (what ``opentelemetry-instrument`` itself does),
  and a configurator is any class whose instances have ``configure(**kwargs)``;
* botocore's ``BaseClient._make_api_call`` (``instrumentation/botocore.py``): a method we
  wrap, the way upstream's botocore instrumentation does, not an internal we read;
* upstream's batch processor queue: the batch span and log processors have their own
  (``export/retaining_queue.py``), which keeps failed batches where upstream's drops them.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from functools import cache
from types import SimpleNamespace
from typing import Any, NamedTuple, Protocol

from opentelemetry.context import Context, get_current
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.version import __version__

from otel_chatbot.guard import STATE

_log = logging.getLogger("otel_chatbot")

# The OpenTelemetry Python release line the fast paths were tested with: >= 1.45.2, < 1.46.
_TESTED_FROM = (1, 45, 2)
_TESTED_BELOW = (1, 46)
SDK_REQUIREMENT = f">={'.'.join(map(str, _TESTED_FROM))},<{'.'.join(map(str, _TESTED_BELOW))}"
SDK_VERSION: str = __version__  # the installed opentelemetry-sdk


def in_tested_range(version: str) -> bool:
    """Whether ``version`` is a final release inside :data:`SDK_REQUIREMENT`.

    Pre-, dev- and post-releases are outside: nothing says their internals match.
    """
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        return False
    release = tuple(int(part) for part in version.split("."))
    return _TESTED_FROM <= release < _TESTED_BELOW


def sdk_in_tested_range() -> bool:
    """Whether the installed SDK gets the fast paths (read at each call: tests change it)."""
    return in_tested_range(SDK_VERSION)


_PUBLIC_INSTEAD = "the public API does the same, at its own cost"


def fall_back(capability: str, why: object, instead: str = _PUBLIC_INSTEAD) -> None:
    """Say once per capability that it is off and what does its job instead."""
    if STATE.first_time(f"compat: {capability}"):
        _log.warning("otel_chatbot: %s is off (%s); %s", capability, why, instead)


def _gate(capability: str) -> bool:
    if sdk_in_tested_range():
        return True
    fall_back(capability, f"opentelemetry-sdk {SDK_VERSION} is outside the tested range {SDK_REQUIREMENT}")
    return False


# --- pre-bound metric records -------------------------------------------------------------

PREBOUND = "pre-bound metric record"


class _MetricInternals(NamedTuple):
    measurement: type[Any]
    prevalidated: type[Any]
    hash_attributes: Callable[[Any], Any]


@cache
def _metric_internals() -> _MetricInternals | None:
    """The SDK pieces of the pre-bound path, resolved once; None (logged) when missing."""
    try:
        from opentelemetry.sdk.metrics._internal import _view_instrument_match
        from opentelemetry.sdk.metrics._internal.measurement import Measurement

        hash_attributes = _view_instrument_match._hash_attributes
        if not callable(hash_attributes) or not hasattr(Measurement, "__post_init__"):
            raise TypeError("Measurement or _hash_attributes changed shape")

        fields = [field.name for field in dataclasses.fields(Measurement)]
        if fields != ["value", "time_unix_nano", "instrument", "context", "attributes"]:
            raise TypeError(f"Measurement has fields {fields}")

        class PrevalidatedMeasurement(Measurement):
            """A ``Measurement`` whose attributes were cleaned when the binding was made.

            Filled through its ``__dict__``: the frozen dataclass's ``__init__`` sets each
            field with ``object.__setattr__``, about half the cost of a record's measurement.
            Still a ``Measurement`` (``isinstance``, fields, ``repr``), still read-only.
            """

            def __init__(
                self, value: float, time_unix_nano: int, instrument: Any, context: Context, attributes: Any
            ) -> None:
                fill = self.__dict__
                fill["value"] = value
                fill["time_unix_nano"] = time_unix_nano
                fill["instrument"] = instrument
                fill["context"] = context
                fill["attributes"] = attributes

    except Exception as exc:
        fall_back(PREBOUND, exc)
        return None
    return _MetricInternals(Measurement, PrevalidatedMeasurement, hash_attributes)


def prebound_streams(instrument: Any) -> PreboundStreams | None:
    """The pre-bound record path of an SDK instrument, or None: use its public method.

    None without a word for what has no SDK underneath (the API's no-op and proxy
    instruments); None, logged once, for an SDK instrument we cannot read.
    """
    from opentelemetry.sdk.metrics import Counter, Histogram, UpDownCounter

    if not isinstance(instrument, (Counter, Histogram, UpDownCounter)):
        return None
    internals = _metric_internals() if _gate(PREBOUND) else None
    if internals is None:
        return None
    consumer = getattr(instrument, "_measurement_consumer", None)
    known = all(hasattr(consumer, name) for name in ("_reader_storages", "_sdk_config"))
    if not known or not callable(getattr(instrument, "_is_enabled", None)):
        fall_back(PREBOUND, f"{type(instrument).__name__} has no measurement consumer of the known shape")
        return None
    return PreboundStreams(instrument, consumer, internals)


class PreboundStreams:
    """One SDK instrument's measurement consumer: binds attribute sets to its view streams."""

    __slots__ = ("_consumer", "_instrument", "_internals")

    def __init__(self, instrument: Any, consumer: Any, internals: _MetricInternals) -> None:
        self._instrument = instrument
        self._consumer = consumer
        self._internals = internals

    def bind(self, attributes: Mapping[str, Any]) -> PreboundRecord | None:
        """The streams of ``attributes`` as they are now (after a public record made them), or None (logged)."""
        try:
            storages = self._consumer._reader_storages
            # Cleaned once, by the SDK's own Measurement, as every public record cleans them.
            cleaned = dict(self._internals.measurement(0, 0, self._instrument, get_current(), attributes).attributes)
            targets = [
                _Target(match, cleaned, self._internals.hash_attributes)
                for storage in storages.values()
                for match in storage._get_or_init_view_instrument_match(self._instrument)
            ]
        except Exception as exc:  # an SDK shape we did not expect: the public path for good
            fall_back(PREBOUND, exc)
            return None
        prevalidated = self._internals.prevalidated
        return PreboundRecord(self._instrument, self._consumer, storages, cleaned, targets, prevalidated)


class _Target:
    """One view's aggregation stream for the bound attribute set."""

    __slots__ = ("attributes", "key", "match")

    def __init__(self, match: Any, attributes: dict[str, Any], hash_attributes: Callable[[Any], Any]) -> None:
        keys = match._view._attribute_keys
        self.attributes = attributes if keys is None else {k: v for k, v in attributes.items() if k in keys}
        self.key = hash_attributes(self.attributes)
        self.match = match
        for name in ("_reset_on_collect", "_lock", "_attributes_aggregation", "_get_or_create_aggregation"):
            getattr(match, name)  # all there now, or the binding fails (and stays public)

    def aggregate(self, measurement: Any, sample_exemplar: bool) -> None:
        match = self.match
        if match._reset_on_collect:
            # Delta temporality: collection swaps the aggregations out, so the SDK holds the
            # lock from lookup to aggregate. So do we.
            with match._lock:
                match._get_or_create_aggregation(self.key, self.attributes).aggregate(measurement, sample_exemplar)
            return
        aggregation = match._attributes_aggregation.get(self.key)
        if aggregation is None:
            with match._lock:
                aggregation = match._get_or_create_aggregation(self.key, self.attributes)
        aggregation.aggregate(measurement, sample_exemplar)


class PreboundRecord:
    """Records of one attribute set fed straight to the SDK's aggregations, as ``consume_measurement`` would."""

    __slots__ = ("_attributes", "_consumer", "_instrument", "_measurement", "_storages", "_targets")

    def __init__(
        self,
        instrument: Any,
        consumer: Any,
        storages: object,
        attributes: dict[str, Any],
        targets: list[_Target],
        measurement: type[Any],
    ) -> None:
        self._instrument = instrument
        self._consumer = consumer
        self._storages = storages
        self._attributes = attributes
        self._targets = targets
        self._measurement = measurement

    def is_current(self) -> bool:
        """False once a reader was added: the streams must be bound again."""
        return self._storages is self._consumer._reader_storages

    def _takes(self, amount: float) -> bool:
        """No reader added since binding, a value the SDK takes without a word, an enabled meter."""
        return (
            self._storages is self._consumer._reader_storages
            and 0 <= amount < math.inf
            and bool(self._instrument._is_enabled())
        )

    def record(self, amount: float, context: Context | None) -> bool:
        """Record and return True, or return False: this one goes through the public API.

        False for what the SDK's own checks must see (negative or non-finite values, a
        disabled meter) and after a reader was added. An exception means the SDK changed
        shape under a live binding; the caller then records the value publicly, so it is
        never lost (with several views, one aggregated before the failure counts it twice).
        """
        if not self._takes(amount):
            return False
        consumer = self._consumer
        attributes = self._attributes
        measurement = self._measurement(amount, time.time_ns(), self._instrument, context or get_current(), attributes)
        sample = consumer._sdk_config.exemplar_filter.should_sample(
            amount, measurement.time_unix_nano, attributes, measurement.context
        )
        for target in self._targets:
            target.aggregate(measurement, sample)
        return True

    def record_many(self, amounts: Sequence[float], context: Context | None) -> bool:
        """Record every amount and return True, or none and return False (as :meth:`record` decides).

        One stream's many values (time per output chunk) in one call: the checks, the
        context and, with a filter of the SDK's that reads only the context, the exemplar
        decision are made once; each value still gets its own measurement and timestamp.
        An unexpected SDK shape raises :class:`PartlyRecorded` with the count already recorded.
        """
        consumer = self._consumer
        if (
            self._storages is not consumer._reader_storages
            or not all(0 <= amount < math.inf for amount in amounts)
            or not self._instrument._is_enabled()
        ):
            return False
        attributes = self._attributes
        instrument = self._instrument
        make = self._measurement
        context = context or get_current()
        exemplar_filter = consumer._sdk_config.exemplar_filter
        once = type(exemplar_filter) in _metric_internals_filters()
        sample = False
        targets = self._targets
        for index, amount in enumerate(amounts):
            try:
                measurement = make(amount, time.time_ns(), instrument, context, attributes)
                if not once or index == 0:
                    sample = exemplar_filter.should_sample(amount, measurement.time_unix_nano, attributes, context)
                for target in targets:
                    target.aggregate(measurement, sample)
            except Exception as exc:
                raise PartlyRecorded(index) from exc
        return True

    def record_together(self, amount: float, together: RecordedTogether) -> bool:
        """:meth:`record` with the context and exemplar decision ``together`` shares with the event's other records."""
        if not self._takes(amount):
            return False
        consumer = self._consumer
        attributes = self._attributes
        now = time.time_ns()
        measurement = self._measurement(amount, now, self._instrument, together.context, attributes)
        sample = together.sample(consumer._sdk_config.exemplar_filter, amount, now, attributes)
        for target in self._targets:
            target.aggregate(measurement, sample)
        return True


class RecordedTogether:
    """One context and one exemplar decision shared by the records of one event (a GenAI call's four or five).

    The SDK's own exemplar filters decide from the context alone, so for them the decision
    is made once, at the first record, and reused by the others; any other filter is asked
    for every record, as the public path asks. Each record keeps its own measurement,
    timestamp, aggregation and exemplar offer.
    """

    __slots__ = ("_filter", "_sample", "context")

    def __init__(self, context: Context | None = None) -> None:
        self.context = context or get_current()
        self._filter: object = None
        self._sample = False

    def sample(self, exemplar_filter: Any, amount: float, time_unix_nano: int, attributes: Any) -> bool:
        if exemplar_filter is self._filter:
            return self._sample
        sample: bool = exemplar_filter.should_sample(amount, time_unix_nano, attributes, self.context)
        if type(exemplar_filter) in _metric_internals_filters():
            self._filter, self._sample = exemplar_filter, sample
        return sample


class PartlyRecorded(Exception):
    """``record_many`` met an SDK shape it did not expect after recording ``done`` amounts."""

    def __init__(self, done: int) -> None:
        super().__init__(f"{done} amounts recorded")
        self.done = done


@cache
def _metric_internals_filters() -> tuple[type, ...]:
    """The SDK's exemplar filters, whose decision depends on the context alone (not the value or time)."""
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, AlwaysOnExemplarFilter, TraceBasedExemplarFilter

    return (AlwaysOffExemplarFilter, AlwaysOnExemplarFilter, TraceBasedExemplarFilter)


# --- plain span attributes, set without the SDK's re-validation ---------------------------

PLAIN_ATTRIBUTES = "plain span attributes set without re-validation"
_PLAIN_TYPES = frozenset({str, int, float, bool})

SpanAttributeSetter = Callable[[Any, Mapping[str, Any]], None]


def _public_set_attributes(span: Any, attributes: Mapping[str, Any]) -> None:
    span.set_attributes(attributes)


def span_attribute_setter() -> SpanAttributeSetter:
    """``set(span, attributes)``: ``span.set_attributes`` at less cost for what needs no cleaning.

    The SDK's ``set_attributes`` runs every value through its attribute cleaning (type
    checks, sequence copies, length limits) under two locks; our own attributes are plain
    strings, numbers, booleans and tuples of strings. For those, on an SDK span with no value
    length limit, this stores them as the SDK's ``_set_items`` would after cleaning (its
    ``_setitem_locked``: same order, same count limit and eviction). Anything else — another
    value type, a limit, an ended span, a span class with its own ``set_attributes`` — goes
    through ``set_attributes``.
    """
    if not _gate(PLAIN_ATTRIBUTES):
        return _public_set_attributes
    try:
        from opentelemetry.attributes import BoundedAttributes
        from opentelemetry.sdk.trace import Span as SdkSpan

        if not callable(getattr(BoundedAttributes, "_setitem_locked", None)):
            raise AttributeError("BoundedAttributes has no _setitem_locked")
    except Exception as exc:
        fall_back(PLAIN_ATTRIBUTES, exc)
        return _public_set_attributes

    sdk_set_attributes = SdkSpan.set_attributes

    def set_plain(span: Any, attributes: Mapping[str, Any]) -> None:
        bounded = getattr(span, "_attributes", None)
        if (
            getattr(type(span), "set_attributes", None) is not sdk_set_attributes  # the SDK's span, as it is
            or type(bounded) is not BoundedAttributes
            or bounded.max_value_len is not None
            or bounded.maxlen == 0
            or bounded._immutable
        ):
            span.set_attributes(attributes)
            return
        for key, value in attributes.items():
            kind = type(value)
            if (
                type(key) is not str
                or not key
                or (kind not in _PLAIN_TYPES and (kind is not tuple or any(type(v) is not str for v in value)))
            ):
                span.set_attributes(attributes)
                return
        with span._lock:
            if span._end_time is None:
                with bounded._lock:
                    for key, value in attributes.items():
                        bounded._setitem_locked(key, value)
                return
        span.set_attributes(attributes)  # ended: the SDK says so, as it would

    return set_plain


PLAIN_START = "span start with plain attributes set without re-validation"

SpanStarter = Callable[[str, "Context | None", Any, Mapping[str, Any]], Any]


def plain_span_starter(tracer: Any) -> SpanStarter:
    """``start(name, context, kind, attributes)``: ``tracer.start_span`` without cleaning plain attributes twice.

    The SDK cleans start attributes like late ones (:func:`span_attribute_setter`). Started
    without them and given them at once, a span ends up the same, as long as nothing looks
    at them in between: the sampler (the SDK's own always-on/off, trace-id ratio and
    parent-based samplers never do; any other sampler gets them) and the span processors'
    ``on_start`` (the SDK's batch and simple processors' and ours do nothing; any other
    processor, even one added later, gets them). Otherwise ``tracer.start_span`` as usual.
    """
    set_attributes = span_attribute_setter()

    def public(name: str, context: Context | None, kind: Any, attributes: Mapping[str, Any]) -> Any:
        return tracer.start_span(name, context=context, kind=kind, attributes=attributes)

    if set_attributes is _public_set_attributes:
        return public
    try:
        from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor, Tracer
        from opentelemetry.sdk.trace.sampling import ParentBased, StaticSampler, TraceIdRatioBased

        multi = tracer.span_processor if isinstance(tracer, Tracer) else None
        if type(multi) is not SynchronousMultiSpanProcessor:
            return public
        sampler = tracer.sampler
        blind = (StaticSampler, TraceIdRatioBased)
        delegates = (
            "_root",
            "_remote_parent_sampled",
            "_remote_parent_not_sampled",
            "_local_parent_sampled",
            "_local_parent_not_sampled",
        )
        if not (
            type(sampler) in blind
            or (type(sampler) is ParentBased and all(type(getattr(sampler, d)) in blind for d in delegates))
        ):
            return public
        multi._span_processors  # noqa: B018  (there, or the fast path stays off)
    except Exception as exc:
        fall_back(PLAIN_START, exc)
        return public

    def start(name: str, context: Context | None, kind: Any, attributes: Mapping[str, Any]) -> Any:
        for processor in multi._span_processors:
            if not _on_start_does_nothing(type(processor)):
                return tracer.start_span(name, context=context, kind=kind, attributes=attributes)
        span = tracer.start_span(name, context=context, kind=kind)
        set_attributes(span, attributes)
        return span

    return start


def _pass(*_args: object) -> None:
    pass


_quiet_on_start: dict[type, bool] = {}  # per span processor class: few


def _on_start_does_nothing(processor_class: type) -> bool:
    """Whether a span processor's ``on_start`` is a bare ``pass`` (its bytecode is a bare return)."""
    quiet = _quiet_on_start.get(processor_class)
    if quiet is None:
        code = getattr(getattr(processor_class, "on_start", None), "__code__", None)
        quiet = _quiet_on_start[processor_class] = code is not None and code.co_code == _pass.__code__.co_code
    return quiet


# --- finished spans: ended and read without the SDK's copy ---------------------------------

ENDED_AS_IS = "span end handing the ended span itself to span processors that take it"
READ_BY_FIELDS = "finished spans read by their fields"


class SpanEnder(Protocol):
    """``end(span, end_time=None)``: ``span.end(end_time)``, the SDK's copy left out where it can be."""

    def __call__(self, span: Any, end_time: int | None = None) -> None: ...


# What an encoder needs of a finished span, in this order: its context, parent, name, kind,
# start and end times, attributes (a dict), dropped attributes, events, dropped events, links,
# dropped links, status, resource and instrumentation scope.
FinishedSpanFields = tuple[Any, ...]
FinishedSpanReader = Callable[[Any], "FinishedSpanFields | None"]


def _public_end(span: Any, end_time: int | None = None) -> None:
    if end_time is None:
        span.end()
    else:
        span.end(end_time=end_time)


def span_ender(tracer: Any) -> SpanEnder:
    """``end(span, end_time=None)``: ``span.end(end_time)`` without the SDK's read-only copy for its processors.

    The SDK's ``Span.end`` sets the end time, freezes the attributes, then hands every span
    processor a new ``ReadableSpan`` over the same fields (``_readable_span()``). An ended
    span refuses every change, so it reads the same as that copy; a processor that declares
    ``takes_ended_span`` (ours: it encodes the span at once and keeps nothing of it) is
    handed the span itself. Any other processor, a processor with its own ``_on_ending``,
    another span class, a span not started or already ended: ``span.end()`` as usual.
    """
    if not _gate(ENDED_AS_IS):
        return _public_end
    try:
        from opentelemetry.sdk.trace import SpanProcessor, SynchronousMultiSpanProcessor, Tracer, _Span

        multi = tracer.span_processor if isinstance(tracer, Tracer) else None
        if type(multi) is not SynchronousMultiSpanProcessor:
            return _public_end
        multi._span_processors  # noqa: B018  (there, or the fast path stays off)
        quiet_on_ending = SpanProcessor._on_ending
    except Exception as exc:
        fall_back(ENDED_AS_IS, exc)
        return _public_end
    checked: list[Any] = [None, False]  # the processors tuple last checked, and whether all take the span

    def takes_it(processors: tuple[Any, ...]) -> bool:
        ok = all(
            getattr(p, "takes_ended_span", False) is True and getattr(type(p), "_on_ending", None) is quiet_on_ending
            for p in processors
        )
        checked[:] = [processors, ok]
        return ok

    def end(span: Any, end_time: int | None = None) -> None:
        processors = multi._span_processors
        if (
            type(span) is not _Span
            or span._span_processor is not multi
            or not (checked[1] if processors is checked[0] else takes_it(processors))
        ):
            _public_end(span, end_time)
            return
        try:  # everything read before anything is changed: a span of another shape ends the SDK's way
            attributes: Any = span._attributes
            lock, record_end_metrics = span._lock, span._record_end_metrics
            with lock:
                ended = span._start_time is not None and span._end_time is None
                if ended:
                    span._end_time = end_time if end_time is not None else time.time_ns()
                    attributes._immutable = True
        except AttributeError as exc:
            fall_back(ENDED_AS_IS, exc)
            ended = False
        if not ended:
            _public_end(span, end_time)  # not started, ended already or of another shape: the SDK's own end
            return
        if record_end_metrics:
            record_end_metrics()
        for processor in processors:
            processor.on_end(span)

    return end


def finished_span_reader() -> FinishedSpanReader | None:
    """``read(span)``: a finished SDK span's fields (:data:`FinishedSpanFields`) straight from its slots.

    The public properties build a read-only view of the attributes and a tuple of the
    events and links on every read; the encoder needs each once. ``read`` returns None for
    anything but the SDK's own span classes holding the SDK's containers (the caller then
    reads the properties). None when the fast path is off (logged once).
    """
    if not _gate(READ_BY_FIELDS):
        return None
    try:
        from opentelemetry.attributes import BoundedAttributes
        from opentelemetry.sdk.trace import ReadableSpan, _Span
        from opentelemetry.sdk.util import BoundedList

        probe: Any = BoundedList(1)
        probe._dq, probe.dropped  # noqa: B018
        bounded = BoundedAttributes(1, {"k": "v"})
        if bounded._dict != {"k": "v"} or bounded.dropped != 0:
            raise AttributeError("BoundedAttributes keeps no _dict")
    except Exception as exc:
        fall_back(READ_BY_FIELDS, exc)
        return None
    span_types = (_Span, ReadableSpan)
    containers = (BoundedAttributes, BoundedList, BoundedList)

    def read(span: Any) -> FinishedSpanFields | None:
        if type(span) not in span_types:
            return None
        attributes: Any = span._attributes
        events: Any = span._events
        links: Any = span._links
        if (type(attributes), type(events), type(links)) != containers:
            return None
        return (
            span._context,
            span._parent,
            span._name,
            span._kind,
            span._start_time,
            span._end_time,
            attributes._dict,
            attributes.dropped,
            events._dq,
            events.dropped,
            links._dq,
            links.dropped,
            span._status,
            span._resource,
            span._instrumentation_scope,
        )

    return read


# --- the OTLP/HTTP span exporter's send path ----------------------------------------------

ENCODED_EXPORT = "encoded-span OTLP/HTTP export"
# Failures are logged under upstream's logger name so outage.ExporterMessages filters them alike.
_upstream_logger = logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter")
_STATUS_CODE_ATTR = "http.response.status_code"
# What the destination says when a request can never succeed: malformed, too large.
_FINAL_STATUSES = frozenset({400, 413})


def span_request_sender(exporter: Any) -> SpanRequestSender | None:
    """Upstream ``OTLPSpanExporter.export``'s steps for bytes we encoded, or None (logged): use its ``export``.

    Checked once, before any span is encoded for this exporter, so a batch of encoded spans
    never meets an exporter that cannot send it.
    """
    if not _gate(ENCODED_EXPORT):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http import _common

        send = exporter._client.export
        inspect.signature(send).bind(b"")  # takes the serialized request, and nothing else is required
        metrics = exporter._metrics
        if not callable(metrics.export_operation):
            raise TypeError("the exporter's metrics have no export_operation")
        max_request_size = exporter._max_request_size
        if not isinstance(max_request_size, int) or not isinstance(exporter._shutdown, bool):
            raise TypeError("max_request_size or the shutdown flag changed type")
        too_large = _common._is_request_too_large
        too_large_error = _common.RequestPayloadTooLargeError
        if not callable(too_large) or not issubclass(too_large_error, Exception):
            raise TypeError("the request size check changed shape")
    except Exception as exc:
        fall_back(ENCODED_EXPORT, exc)
        return None
    return SpanRequestSender(exporter, send, metrics, max_request_size, too_large, too_large_error)


class SpanRequestSender:
    """One export request the way upstream's ``export`` makes it, our encoder in place of its own.

    Its HTTP client does retries, backoff, timeout, compression and headers; its
    self-metrics and size limit are honoured; its log messages are kept. The self-metrics
    and the size check only observe, so if either fails in use the request is still sent.
    """

    def __init__(
        self,
        exporter: Any,
        send: Callable[[bytes], Any],
        metrics: Any,
        max_request_size: int,
        too_large: Callable[[bytes, int], bool],
        too_large_error: type[Exception],
    ) -> None:
        self._exporter = exporter
        self._send = send
        self._metrics = metrics
        self._max_request_size = max_request_size
        self._too_large_check = too_large
        self._too_large_error = too_large_error
        self.last_failure_permanent = False

    def is_shut_down(self) -> bool:
        return getattr(self._exporter, "_shutdown", False) is True

    def send(self, count: int, encode: Callable[[], bytes]) -> SpanExportResult:
        """Encode (``encode()``) and send one request of ``count`` spans.

        After a failure :attr:`last_failure_permanent` says whether sending the same spans
        again cannot help (they cannot be encoded, are too large, or were refused as
        malformed or too large); the batch processor then drops them instead of retrying.
        """
        self.last_failure_permanent = True  # until the request goes out
        with ExitStack() as stack:
            result = self._operation(stack, count)
            try:
                serialized = encode()
            except Exception as error:  # upstream's policy: a bad batch fails, never raises
                _upstream_logger.error("Failed to encode span batch: %s", error)
                result.error = error
                return SpanExportResult.FAILURE
            if self._too_large(serialized):
                size, limit = len(serialized), self._max_request_size
                _upstream_logger.warning(
                    "Dropping span batch: serialized size %d bytes exceeds max_request_size %d bytes.", size, limit
                )
                result.error = self._too_large_error(
                    f"Serialized span request size {size} bytes exceeds max_request_size {limit} bytes."
                )
                return SpanExportResult.FAILURE
            sent = self._send(serialized)
            self.last_failure_permanent = not sent.success and sent.status_code in _FINAL_STATUSES
            if not sent.success:
                result.error = sent.error
                result.error_attrs = None if sent.status_code is None else {_STATUS_CODE_ATTR: sent.status_code}
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _operation(self, stack: ExitStack, count: int) -> Any:
        """Upstream's self-metrics for this request; a plain holder if they fail."""
        try:
            return stack.enter_context(self._metrics.export_operation(count))
        except Exception as exc:
            fall_back("the OTLP exporter's self-metrics", exc)
            return SimpleNamespace(error=None, error_attrs=None)

    def _too_large(self, serialized: bytes) -> bool:
        try:
            return bool(self._too_large_check(serialized, self._max_request_size))
        except Exception as exc:
            fall_back("the OTLP request size check", exc)
            return False


# --- metric exporter preferences ----------------------------------------------------------

METRIC_PREFERENCES = "reading a metric exporter's preferences"


def metric_exporter_preferences(exporter: Any) -> dict[str, Any] | None:
    """``MetricExporter.__init__`` keywords asking what ``exporter`` asks, or None (logged)."""
    if not _gate(METRIC_PREFERENCES):
        return None
    temporality = getattr(exporter, "_preferred_temporality", None)
    aggregation = getattr(exporter, "_preferred_aggregation", None)
    if not isinstance(temporality, dict) or not isinstance(aggregation, (dict, type(None))):
        fall_back(METRIC_PREFERENCES, f"{type(exporter).__name__} keeps them in another shape")
        return None
    return {"preferred_temporality": temporality, "preferred_aggregation": aggregation}


# --- FastAPI ------------------------------------------------------------------------------

FASTAPI_SWITCH = "turning off FastAPI's built-in telemetry"
_FASTAPI_SWITCHES: Sequence[str] = ("tracing", "metrics", "logs")


def fastapi_native_telemetry_off(app: Any) -> bool:
    """Turn off FastAPI's own spans, metrics and logs for ``app``; False when it has none we can reach.

    The switches are those ``FastAPI(telemetry={...})`` takes; the app's settings dict is
    shared with its running telemetry, so the change takes effect at once. A FastAPI with
    native telemetry in another shape is logged once with the public way to do it.
    """
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict) and all(key in config for key in _FASTAPI_SWITCHES):
        config.update(dict.fromkeys(_FASTAPI_SWITCHES, False))
        return True
    native = sys.modules.get("fastapi.telemetry")
    fastapi = sys.modules.get("fastapi")
    if native is not None and fastapi is not None and isinstance(app, fastapi.FastAPI):
        fall_back(
            FASTAPI_SWITCH,
            f"FastAPI {getattr(fastapi, '__version__', '?')} keeps its telemetry settings elsewhere",
            "its spans and metrics double ours unless the app is built with "
            "FastAPI(telemetry={'tracing': False, 'metrics': False, 'logs': False})",
        )
    return False


# --- botocore: the credentials a client signs with ----------------------------------------

AWS_CLIENT_CREDENTIALS = "reusing an AWS client's credentials"


def aws_client_credentials(client: Any) -> Any | None:
    """The credentials object ``client`` signs with, or None (logged once): use the default chain.

    botocore (and aiobotocore, which inherits it) offers no public accessor; its
    ``BaseClient._get_credentials()`` is documented as private. Checked by shape, like
    FastAPI's switch: a client without it, or credentials that cannot be frozen, fall back.
    None without a word for a client that signs with no credentials (``UNSIGNED``).
    """
    getter = getattr(client, "_get_credentials", None)
    try:
        if not callable(getter):
            raise AttributeError("no _get_credentials()")
        credentials = getter()
        if credentials is not None and not callable(getattr(credentials, "get_frozen_credentials", None)):
            raise TypeError(f"{type(credentials).__name__} cannot be frozen")
    except Exception as exc:
        fall_back(
            AWS_CLIENT_CREDENTIALS,
            f"{type(client).__name__}: {exc}",
            "the default credential chain signs the lookups of application inference profiles",
        )
        return None
    return credentials
