"""What happens to values an OTLP export cannot carry: converted or dropped, counted, logged once.

A provider's answer or a user's text ends up in attributes, log bodies and metric points,
and some values have no OTLP form: integers beyond int64, strings with lone surrogates
(no UTF-8 form), structures nested deeper than any receiver accepts, gigantic strings.
Upstream's encoders raise on them; an attribute is then dropped (logged with a traceback
every time), anything else fails the whole batch, and a cumulative metric with such a sum
fails every export from then on. The rules here:

* **attributes** (span, event, link, resource, log record): a key whose value cannot be
  encoded is left out, exactly as upstream's encoder leaves it out;
* **text outside attributes** (span and event names, status messages, log bodies and
  severity texts): each lone surrogate becomes U+FFFD, so one bad character never costs a
  batch (the collector would refuse invalid UTF-8 anyway);
* **log bodies** (any value): an integer beyond int64 becomes its decimal string, an
  unknown type its ``str()``, and what is nested deeper than :data:`MAX_DEPTH` is left out;
* **metric points**: an integer beyond int64 is sent as a double (the nearest one; ``inf``
  beyond the double range), which OTLP's ``NumberDataPoint.as_double`` carries;
* **huge strings**: an item bigger than :data:`MAX_ITEM_BYTES` has its longer strings cut to
  :data:`TRUNCATED_CHARS` characters, as the SDK's attribute length limit would cut them.

Each kind of change is counted in :data:`FINDINGS` and logged once per kind.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

_log = logging.getLogger("otel_chatbot.export")

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
MAX_DEPTH = 30
"""Levels of nested maps and lists an attribute or body may have.

Protobuf's decoders (C++, Java, upb in Python) stop at 100 nested messages, and each map
level costs three (``AnyValue``, ``KeyValueList``, ``KeyValue``) below the five or seven an
OTLP request needs to reach an attribute: 30 levels keep every request decodable."""
MAX_ITEM_BYTES = 1024 * 1024
"""A span or log record bigger than this (encoded) has its long strings truncated."""
TRUNCATED_CHARS = 64 * 1024
"""What a string of an oversized item is cut to."""

_SURROGATES = re.compile("[\ud800-\udfff]")

BIG_INT = "integer beyond int64"
INVALID_UTF8 = "text without a UTF-8 form (lone surrogates)"
TOO_DEEP = f"structure nested deeper than {MAX_DEPTH} levels"
UNSUPPORTED = "value of a type OTLP has no form for"
HUGE = f"item over {MAX_ITEM_BYTES} bytes (strings truncated)"
DROPPED_ATTRIBUTE = "attribute left out: its value has no OTLP form"

_WHAT_HAPPENS = {
    BIG_INT: "attributes are left out, metric points sent as doubles, log bodies as text",
    INVALID_UTF8: "attributes are left out, other text gets U+FFFD in their place",
    TOO_DEEP: "the deeper levels are left out",
    UNSUPPORTED: "attributes are left out, log bodies get the value's str()",
    HUGE: f"strings cut to {TRUNCATED_CHARS} characters",
    DROPPED_ATTRIBUTE: "the other attributes are sent",
}


class Findings:
    """How many values of each kind were changed; each kind logged the first time it is seen."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def note(self, kind: str, where: str, count: int = 1) -> None:
        with self._lock:
            first = kind not in self.counts
            self.counts[kind] += count
        if first:
            _log.warning(
                "otel_chatbot: a %s met an export (%s): %s; the export goes on; counted, logged once per kind",
                kind,
                where,
                _WHAT_HAPPENS.get(kind, "changed"),
            )


FINDINGS = Findings()


def valid_text(text: str, where: str) -> str:
    """``text`` itself when it has a UTF-8 form; otherwise with U+FFFD for each lone surrogate."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        FINDINGS.note(INVALID_UTF8, where)
        return _SURROGATES.sub("\ufffd", text)
    return text


def utf8(text: str, where: str) -> bytes:
    """``text`` as UTF-8; lone surrogates become U+FFFD (the rule for text outside attributes)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        FINDINGS.note(INVALID_UTF8, where)
        return _SURROGATES.sub("\ufffd", text).encode("utf-8")


def exportable_number(value: int | float, where: str) -> int | float:
    """A metric point's value as OTLP can carry it: ints beyond int64 as the nearest double."""
    if type(value) is float or INT64_MIN <= value <= INT64_MAX:
        return value
    FINDINGS.note(BIG_INT, where)
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


class _Drop:
    """Marks a value left out (None is a valid, empty AnyValue)."""


DROP = _Drop()


def exportable_body(value: Any, where: str) -> Any:
    """A log body (any ``AnyValue``) with every part converted per the rules above; never raises."""
    converted = _body(value, where, 0)
    return None if converted is DROP else converted


def _body(value: Any, where: str, depth: int) -> Any:
    if isinstance(value, str):
        return valid_text(value, where)
    if value is None or isinstance(value, (bool, float, bytes)):
        return value
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return value
        FINDINGS.note(BIG_INT, where)
        return str(int(value))
    if isinstance(value, (Mapping, Sequence)) and depth >= MAX_DEPTH:
        FINDINGS.note(TOO_DEEP, where)
        return DROP
    if isinstance(value, Mapping):
        pairs = ((valid_text(str(key), where), _body(item, where, depth + 1)) for key, item in value.items())
        return {key: item for key, item in pairs if item is not DROP}
    if isinstance(value, Sequence):
        return [item for item in (_body(v, where, depth + 1) for v in value) if item is not DROP]
    FINDINGS.note(UNSUPPORTED, where)
    try:
        return valid_text(str(value), where)
    except Exception:  # a __str__ that raises: nothing to send
        return DROP


def problem(value: Any, depth: int = 0) -> str | None:
    """Why upstream's encoder cannot encode this attribute value (it leaves the key out), or None."""
    if isinstance(value, str):
        if value.isascii():
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return INVALID_UTF8
        return None
    if value is None or isinstance(value, (bool, float, bytes)):
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else BIG_INT
    if isinstance(value, (Mapping, Sequence)) and depth >= MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, Mapping):
        found = (problem(str(k), depth + 1) or problem(v, depth + 1) for k, v in value.items())
        return next((p for p in found if p), None)
    if isinstance(value, Sequence):
        return next((p for p in (problem(v, depth + 1) for v in value) if p), None)
    return UNSUPPORTED


def note_dropped_attribute(key: str, value: Any, where: str) -> None:
    """Count an attribute left out, under the rule it met."""
    FINDINGS.note(problem(key) or problem(value) or UNSUPPORTED, where)
    FINDINGS.note(DROPPED_ATTRIBUTE, where)


def exportable_attributes(attributes: Mapping[str, Any] | None, where: str) -> Mapping[str, Any] | None:
    """``attributes`` itself when upstream's encoder takes every pair; else a copy without the others."""
    if not attributes:
        return attributes
    bad = [key for key, value in attributes.items() if problem(key) or problem(value)]
    if not bad:
        return attributes
    for key in bad:
        note_dropped_attribute(key, attributes[key], where)
    return {key: value for key, value in attributes.items() if key not in bad}


def truncated(value: Any, depth: int = 0) -> Any:
    """``value`` with every string (also inside sequences and maps) cut to :data:`TRUNCATED_CHARS`."""
    if isinstance(value, str):
        return value[:TRUNCATED_CHARS]
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {key: truncated(item, depth + 1) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(truncated(item, depth + 1) for item in value)
    if isinstance(value, list):
        return [truncated(item, depth + 1) for item in value]
    return value


def text_size(value: Any, depth: int = 0) -> int:
    """Characters of text and bytes in ``value``: what makes an item huge, counted cheaply."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if depth >= MAX_DEPTH:
        return 0
    if isinstance(value, Mapping):
        return sum(len(str(k)) + text_size(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(text_size(v, depth + 1) for v in value)
    return 8


# --- metric points ------------------------------------------------------------------------

_METRIC_WHERE = "the OTLP metric export"
_NUMBER_FIELDS = ("value", "sum", "min", "max")


def _out_of_range(value: object) -> bool:
    return type(value) is int and not INT64_MIN <= value <= INT64_MAX


def _needs_change(point: Any) -> bool:
    exemplars = getattr(point, "exemplars", None) or ()
    return any(_out_of_range(getattr(point, name, None)) for name in _NUMBER_FIELDS) or any(
        _out_of_range(e.value) for e in exemplars
    )


def _point(point: Any) -> Any:
    """The point with its out-of-range integers (value, sum, min, max, exemplar values) as doubles."""
    changes: dict[str, Any] = {
        name: exportable_number(getattr(point, name), _METRIC_WHERE)
        for name in _NUMBER_FIELDS
        if _out_of_range(getattr(point, name, None))
    }
    exemplars = getattr(point, "exemplars", None)
    if exemplars and any(_out_of_range(e.value) for e in exemplars):
        changes["exemplars"] = [
            dataclasses.replace(e, value=exportable_number(e.value, _METRIC_WHERE)) if _out_of_range(e.value) else e
            for e in exemplars
        ]
    return dataclasses.replace(point, **changes) if changes else point


def exportable_metrics(data: Any) -> Any:
    """``MetricsData`` itself, or a copy whose integers beyond int64 are doubles.

    A cumulative counter that once passed int64 would otherwise fail every export from then
    on (upstream's encoder raises ``ValueError: Value out of range`` for the whole request).
    One pass over the points per export: nothing is copied unless a point needs it.
    """
    if not any(
        _needs_change(point)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    ):
        return data
    return dataclasses.replace(
        data,
        resource_metrics=[
            dataclasses.replace(
                resource,
                scope_metrics=[
                    dataclasses.replace(
                        scope,
                        metrics=[
                            dataclasses.replace(
                                metric,
                                data=dataclasses.replace(
                                    metric.data, data_points=[_point(p) for p in metric.data.data_points]
                                ),
                            )
                            for metric in scope.metrics
                        ],
                    )
                    for scope in resource.scope_metrics
                ],
            )
            for resource in data.resource_metrics
        ],
    )
