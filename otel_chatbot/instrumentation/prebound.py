"""Metric instruments bound to one attribute set, validated and hashed once.

The SDK's ``Histogram.record`` and ``Counter.add`` cost ~9.5 µs on the benchmark machine,
most of it spent on the attribute dict: ``Measurement`` re-validates it and the view match
re-hashes it into an aggregation key on every call. Our attribute sets repeat (routes are
templates, models are few), so a :class:`Bound` instrument does both once and then feeds
the SDK's own aggregations: the same aggregation, exemplars, views, temporality and
cardinality limit, at ~4 µs per record (``bench/README.md``).

That path reads SDK internals, so it is taken only with SDK versions it was tested
against (:data:`TESTED_SDK_VERSIONS`, checked by ``tests/unit/instrumentation/
test_prebound.py``). Everything else goes through the public API, with the same data at
the full cost: another SDK version, the API's no-op instruments, the first record of each
binding, a reader added later (rebinds), negative or non-finite values (the SDK's own
warning), a disabled meter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from opentelemetry.context import Context, get_current

from otel_chatbot.guard import report

TESTED_SDK_VERSIONS = ("1.45",)


class _Internals(NamedTuple):
    measurement: type[Any]
    hash_attributes: Callable[[Any], Any]


def _load_internals() -> _Internals | None:
    """The SDK pieces the fast path needs, or None when this SDK is not one we tested."""
    try:
        from opentelemetry.sdk.metrics._internal import _view_instrument_match
        from opentelemetry.sdk.metrics._internal.measurement import Measurement
        from opentelemetry.sdk.version import __version__
    except ImportError:
        return None
    hash_attributes = getattr(_view_instrument_match, "_hash_attributes", None)
    if ".".join(__version__.split(".")[:2]) not in TESTED_SDK_VERSIONS or hash_attributes is None:
        return None

    class PrevalidatedMeasurement(Measurement):
        """A ``Measurement`` whose attributes were cleaned when the binding was made."""

        def __post_init__(self) -> None:
            pass

    return _Internals(PrevalidatedMeasurement, hash_attributes)


_INTERNALS = _load_internals()


class _Target:
    """One view's aggregation stream for the bound attribute set."""

    __slots__ = ("attributes", "key", "match")

    def __init__(self, match: Any, attributes: dict[str, Any]) -> None:
        keys = match._view._attribute_keys
        self.attributes = attributes if keys is None else {k: v for k, v in attributes.items() if k in keys}
        self.key = _INTERNALS.hash_attributes(self.attributes)  # type: ignore[union-attr]
        self.match = match

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


class Bound:
    """One instrument and one attribute set; ``record`` (histograms) or ``add`` (counters)."""

    __slots__ = ("_attributes", "_cleaned", "_consumer", "_instrument", "_public", "_storages", "_targets")

    def __init__(self, instrument: Any, attributes: Mapping[str, Any]) -> None:
        self._instrument = instrument
        self._attributes = dict(attributes)
        self._public = getattr(instrument, "record", None) or instrument.add
        self._consumer = getattr(instrument, "_measurement_consumer", None) if _INTERNALS else None
        self._cleaned: dict[str, Any] | None = None
        self._storages: object = None
        self._targets: list[_Target] = []

    def record(self, amount: float, context: Context | None = None) -> None:
        consumer = self._consumer
        if (
            consumer is None
            or self._storages is not consumer._reader_storages
            or not (0 <= amount < math.inf)
            or not self._instrument._is_enabled()
        ):
            self._public(amount, self._attributes, context)
            if consumer is not None and self._storages is not consumer._reader_storages:
                self._bind(consumer)
            return
        try:
            measurement = _INTERNALS.measurement(  # type: ignore[union-attr]
                amount, time.time_ns(), self._instrument, context or get_current(), self._cleaned
            )
            sample = consumer._sdk_config.exemplar_filter.should_sample(
                amount, measurement.time_unix_nano, self._cleaned, measurement.context
            )
            for target in self._targets:
                target.aggregate(measurement, sample)
        except Exception as exc:  # internals we did not expect: public path from now on, never raise
            self._consumer = None
            report("pre-bound metric record", exc)

    add = record

    def _bind(self, consumer: Any) -> None:
        """Resolve the view streams once the public path has created them."""
        from opentelemetry.attributes import _clean_attribute_value

        try:
            storages = consumer._reader_storages
            cleaned = dict(_clean_attribute_value(self._attributes, None))
            targets = [
                _Target(match, cleaned)
                for storage in storages.values()
                for match in storage._get_or_init_view_instrument_match(self._instrument)
            ]
        except Exception:  # an SDK shape we did not expect: stay on the public path for good
            self._consumer = None
            return
        self._cleaned, self._targets, self._storages = cleaned, targets, storages


def fast_path_available() -> bool:
    """True when this SDK version gets the pre-bound path (tests pin it for ours)."""
    return _INTERNALS is not None


class Bindings:
    """The bound instruments of one instrument, by a key of attribute values.

    ``attributes(*key)`` builds the attribute set the first time a key is seen. Bounded,
    since the values come from traffic: past ``limit`` keys, a new set gets a binding that
    is not kept (correct, at the public API's cost).
    """

    __slots__ = ("_attributes", "_bound", "_instrument", "_limit")

    def __init__(self, instrument: Any, attributes: Callable[..., Mapping[str, Any]], limit: int = 2000) -> None:
        self._instrument = instrument
        self._attributes = attributes
        self._limit = limit
        self._bound: dict[tuple[Any, ...], Bound] = {}

    def get(self, *key: Any) -> Bound:
        bound = self._bound.get(key)
        if bound is None:
            bound = Bound(self._instrument, self._attributes(*key))
            if len(self._bound) < self._limit:
                self._bound[key] = bound
        return bound
