"""Metric instruments bound to one attribute set, validated and hashed once.

The SDK's ``Histogram.record`` and ``Counter.add`` cost ~10 µs on the benchmark machine,
most of it spent on the attribute dict: ``Measurement`` re-validates it and the view match
re-hashes it into an aggregation key on every call. Our attribute sets repeat (routes are
templates, models are few), so a :class:`Bound` instrument does both once and then feeds
the SDK's own aggregations: the same aggregation, exemplars, views, temporality and
cardinality limit, at ~4.5 µs per record (``bench/fast_paths.py``, ``bench/README.md``).

That path reads SDK internals, so it comes from :func:`otel_chatbot.compat.prebound_streams`,
which offers it only with the SDK versions it was tested against. Everything else goes
through the public API, with the same data at the full cost: another SDK version, the
API's no-op instruments, the first record of each binding, a reader added later (rebinds),
negative or non-finite values (the SDK's own warning), a disabled meter, and a record that
met an SDK shape we did not expect (that one and all later ones, logged once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.context import Context

from otel_chatbot.compat import (
    PREBOUND,
    PartlyRecorded,
    PreboundRecord,
    RecordedTogether,
    fall_back,
    prebound_streams,
)


class Bound:
    """One instrument and one attribute set; ``record`` (histograms) or ``add`` (counters)."""

    __slots__ = ("_attributes", "_fast", "_public", "_streams")

    def __init__(self, instrument: Any, attributes: Mapping[str, Any]) -> None:
        self._attributes = dict(attributes)
        self._public = getattr(instrument, "record", None) or instrument.add
        self._streams = prebound_streams(instrument)
        self._fast: PreboundRecord | None = None

    def record(self, amount: float, context: Context | None = None) -> None:
        fast = self._fast
        if fast is not None:
            try:
                if fast.record(amount, context):
                    return
            except Exception as exc:
                self._give_up(exc)
                fast = None
        self._public(amount, self._attributes, context)
        streams = self._streams
        if streams is not None and (fast is None or not fast.is_current()):
            # The public record created this attribute set's streams (in every reader): bind to them.
            self._fast = streams.bind(self._attributes)
            if self._fast is None:
                self._streams = None

    add = record

    def record_together(self, amount: float, together: RecordedTogether) -> None:
        """``record`` (or ``add``) one of several records of one event, sharing its context and exemplar decision."""
        fast = self._fast
        if fast is not None:
            try:
                if fast.record_together(amount, together):
                    return
            except Exception as exc:
                self._give_up(exc)
        self.record(amount, together.context)

    def _give_up(self, why: BaseException) -> None:
        """Internals we did not expect: this record and later ones go through the public API."""
        self._fast = self._streams = None
        fall_back(PREBOUND, why)

    def record_many(self, amounts: Sequence[float], context: Context | None = None) -> None:
        """``record`` each amount, in order; on the bound path the per-call checks are made once."""
        fast = self._fast
        if fast is not None and amounts:
            try:
                if fast.record_many(amounts, context):
                    return
            except PartlyRecorded as stop:  # the rest go through the public API
                self._give_up(stop.__cause__ or stop)
                amounts = amounts[stop.done :]
        for amount in amounts:
            self.record(amount, context)

    @property
    def fast_path_active(self) -> bool:
        """Whether the next record skips the public API (tests demand it on the tested SDK)."""
        return self._fast is not None


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
