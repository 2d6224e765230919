"""OTLP/protobuf trace encoding written straight to bytes, and an HTTP exporter using it.

Upstream builds a protobuf message object per span, attribute and value, then
serialises it: about 43 µs of CPU per typical server span. :func:`encode_spans`
writes the same ``ExportTraceServiceRequest`` bytes directly, encoding each resource
and scope once (they repeat on every span) and reusing cached attribute keys and
common key/value pairs. The decoded message equals upstream's, field for field,
including its choices: ``Span.flags``/``Link.flags`` carry only the has-is-remote and
is-remote bits, ``Link.trace_state`` is not sent, ``Status`` is always present.
Where upstream's encoder raises (a name without a UTF-8 form) or a span is too big to
send, the rules of ``export/safe_values.py`` apply instead: the span is still sent.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from typing import Any, NamedTuple, TypeVar

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from otel_chatbot.compat import (
    READ_BY_FIELDS,
    FinishedSpanFields,
    fall_back,
    finished_span_reader,
    span_request_sender,
)
from otel_chatbot.export.protobuf_wire import (
    FIXED32,
    FIXED64,
    LEN,
    VARINT,
    attributes,
    length_delimited,
    string_field,
    tag,
    uint_field,
    varint,
)
from otel_chatbot.export.safe_values import FINDINGS, HUGE, MAX_ITEM_BYTES, TRUNCATED_CHARS, truncated
from otel_chatbot.export.span_batching import offer_gil

# Logged under upstream's logger name so outage.ExporterMessages filters it alike.
_upstream_logger = logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter")

# ExportTraceServiceRequest / ResourceSpans / ScopeSpans (first field tags are all 0x0a).
_RESOURCE_SPANS = _RESOURCE = _SCOPE = _RESOURCE_ATTRIBUTES = tag(1, LEN)
_SCOPE_SPANS = _SPANS = tag(2, LEN)
_SCHEMA_URL = tag(3, LEN)
# InstrumentationScope.
_SCOPE_NAME, _SCOPE_VERSION, _SCOPE_ATTRIBUTES = tag(1, LEN), tag(2, LEN), tag(3, LEN)
# Span.
_TRACE_STATE = tag(3, LEN)
_NAME = tag(5, LEN)
_ATTRIBUTES = tag(9, LEN)
_DROPPED_ATTRIBUTES = tag(10, VARINT)
_EVENTS = tag(11, LEN)
_DROPPED_EVENTS = tag(12, VARINT)
_LINKS = tag(13, LEN)
_DROPPED_LINKS = tag(14, VARINT)
_STATUS = tag(15, LEN)
_START, _END = tag(7, FIXED64), tag(8, FIXED64)
# Span.Event.
_EVENT_TIME, _EVENT_NAME = tag(1, FIXED64), tag(2, LEN)
_EVENT_ATTRIBUTES, _EVENT_DROPPED = tag(3, LEN), tag(4, VARINT)
# Span.Link.
_LINK_ATTRIBUTES, _LINK_DROPPED = tag(4, LEN), tag(5, VARINT)
# Status.
_STATUS_MESSAGE, _STATUS_CODE = tag(2, LEN), tag(3, VARINT)

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
# trace_id (field 1, 16 bytes) and span_id (field 2, 8 bytes), big-endian like upstream.
_IDS = struct.Struct(">BBQQBBQ")
_PARENT = struct.Struct(">BBQ")
_TIMES = struct.Struct("<BQBQ")
_LOW64 = (1 << 64) - 1

# SpanFlags: CONTEXT_HAS_IS_REMOTE (0x100), CONTEXT_IS_REMOTE (0x200).
_HAS_IS_REMOTE, _IS_REMOTE = 0x100, 0x200
_SPAN_FLAGS = {remote: tag(16, FIXED32) + _U32.pack(_HAS_IS_REMOTE | (_IS_REMOTE * remote)) for remote in (0, 1)}
_LINK_FLAGS = {remote: tag(6, FIXED32) + _U32.pack(_HAS_IS_REMOTE | (_IS_REMOTE * remote)) for remote in (0, 1)}

# The SDK's SpanKind values are one below the protobuf enum's (which has UNSPECIFIED = 0).
_KINDS = {kind: tag(6, VARINT) + varint(kind.value + 1) for kind in SpanKind}
_PLAIN_STATUS = {code: length_delimited(_STATUS, uint_field(_STATUS_CODE, code.value)) for code in StatusCode}

_ENCODED_CACHE_SIZE = 64
_resource_cache: dict[int, tuple[Resource, bytes]] = {}
_scope_cache: dict[int, tuple[InstrumentationScope | None, bytes, bytes]] = {}

_K = TypeVar("_K", bound=Hashable)
_UNSEEN = object()
# Spans encoded on the export thread between two hand-overs of the GIL (see _group).
_SPANS_PER_GIL_HOLD = 32


class EncodedSpan(NamedTuple):
    """A finished span already written as its ``ScopeSpans.spans`` field, with what groups it."""

    resource: Resource
    instrumentation_scope: InstrumentationScope | None
    encoded: bytes


def encode_finished(span: ReadableSpan) -> EncodedSpan:
    """Encode one span now (when it ends), so a batch needs only grouping and joining later."""
    return EncodedSpan(span.resource, span.instrumentation_scope, _encode_bounded(span))


def finished_encoder() -> Callable[[ReadableSpan], EncodedSpan]:
    """:func:`encode_finished`, reading an SDK span's fields directly when compat offers it.

    Same bytes (tested): only the reading differs. A span the reader does not know, or one
    it fails on, is encoded through the public properties.
    """
    read = finished_span_reader()
    if read is None:
        return encode_finished

    def encode_read(span: ReadableSpan) -> EncodedSpan:
        try:
            fields = read(span)
        except Exception as exc:
            fall_back(READ_BY_FIELDS, exc)
            fields = None
        if fields is None:
            return encode_finished(span)
        return _new_encoded((fields[13], fields[14], _encode_bounded_fields(fields)))

    return encode_read


_new_encoded = partial(tuple.__new__, EncodedSpan)  # EncodedSpan(...) without its Python-level __new__


def _public_fields(span: ReadableSpan) -> FinishedSpanFields:
    """The fields :func:`_encode_span` needs, read through the public properties."""
    return (
        span.get_span_context(),
        span.parent,
        span.name,
        span.kind,
        span.start_time,
        span.end_time,
        span.attributes,
        span.dropped_attributes,
        span.events,
        span.dropped_events,
        span.links,
        span.dropped_links,
        span.status,
        span.resource,
        span.instrumentation_scope,
    )


def _encode_bounded(span: ReadableSpan) -> bytes:
    """The span's field; one over :data:`MAX_ITEM_BYTES` again with its strings truncated."""
    return _encode_bounded_fields(_public_fields(span))


def _encode_bounded_fields(fields: FinishedSpanFields) -> bytes:
    encoded = _encode_span(fields)
    if len(encoded) <= MAX_ITEM_BYTES:
        return encoded
    FINDINGS.note(HUGE, "the OTLP span encoder")
    return _encode_span(fields, cut=True)


def encode_spans(spans: Sequence[ReadableSpan | EncodedSpan]) -> bytes:
    """An ``ExportTraceServiceRequest`` holding ``spans``, grouped like upstream's encoder."""
    groups = _group(spans)
    out: list[bytes] = []
    for resource, scopes in groups.values():
        body = [_encoded_resource(resource)]
        for scope, encoded_spans in scopes.values():
            body.append(_scope_spans(scope, encoded_spans))
        body.append(string_field(_SCHEMA_URL, resource.schema_url))
        out.append(length_delimited(_RESOURCE_SPANS, b"".join(body)))
    return b"".join(out)


_ScopeGroups = dict[int, tuple["InstrumentationScope | None", list[bytes]]]


def _group(spans: Sequence[ReadableSpan | EncodedSpan]) -> dict[int, tuple[Resource, _ScopeGroups]]:
    """Encoded spans by resource, then scope, in first-seen order.

    Upstream groups with dicts keyed by the objects (hash and equality); ``Resource``
    hashes by JSON-dumping its attributes, so we only look at identities until a batch
    really holds two distinct objects, and then fall back to the same equality.

    Encoding runs on the export thread while the event loop may be waiting for the GIL,
    which CPython hands over only every 5 ms (``sys.getswitchinterval()``): a 512-span
    batch held it that long and set the p99 latency. So the GIL is offered back every
    few spans encoded here; spans that arrive as :class:`EncodedSpan` cost nothing here.
    """
    groups: dict[int, tuple[Resource, _ScopeGroups]] = {}
    resources = _Canonical[Resource]()
    scopes = _Canonical["InstrumentationScope | None"]()
    last: tuple[Any, Any, list[bytes]] = (_UNSEEN, _UNSEEN, [])
    encoded_here = 0
    for span in spans:
        resource, scope = span.resource, span.instrumentation_scope or None
        if resource is not last[0] or scope is not last[1]:
            last = (resource, scope, _span_list(groups, resources.of(resource), scopes.of(scope)))
        if type(span) is EncodedSpan:
            last[2].append(span.encoded)
            continue
        last[2].append(_encode_bounded(span))  # type: ignore[arg-type]
        encoded_here += 1
        if encoded_here % _SPANS_PER_GIL_HOLD == 0:
            offer_gil()
    return groups


def _span_list(
    groups: dict[int, tuple[Resource, _ScopeGroups]], resource: Resource, scope: InstrumentationScope | None
) -> list[bytes]:
    scope_groups = groups.setdefault(id(resource), (resource, {}))[1]
    return scope_groups.setdefault(id(scope), (scope, []))[1]


class _Canonical(dict[int, _K]):
    """Maps each object to the first equal one seen (by identity until that is ambiguous)."""

    def __init__(self) -> None:
        super().__init__()
        self._by_value: dict[_K, _K] = {}

    def of(self, obj: _K) -> _K:
        if id(obj) in self:
            return self[id(obj)]
        if self and not self._by_value:
            first = next(iter(self.values()))
            self._by_value[first] = first
        found = self._by_value.setdefault(obj, obj) if self else obj
        self[id(obj)] = found
        return found


def _encoded_resource(resource: Resource) -> bytes:
    """``ResourceSpans.resource``, cached per (immutable) Resource object."""
    cached = _resource_cache.get(id(resource))
    if cached is not None and cached[0] is resource:
        return cached[1]
    encoded = length_delimited(_RESOURCE, b"".join(attributes(_RESOURCE_ATTRIBUTES, resource.attributes)))
    if len(_resource_cache) >= _ENCODED_CACHE_SIZE:
        _resource_cache.clear()
    _resource_cache[id(resource)] = (resource, encoded)
    return encoded


def _scope_spans(scope: InstrumentationScope | None, encoded_spans: list[bytes]) -> bytes:
    head, tail = _encoded_scope(scope)
    return length_delimited(_SCOPE_SPANS, b"".join([head, *encoded_spans, tail]))


def _encoded_scope(scope: InstrumentationScope | None) -> tuple[bytes, bytes]:
    """``ScopeSpans.scope`` and ``ScopeSpans.schema_url``, cached per scope object."""
    cached = _scope_cache.get(id(scope))
    if cached is not None and cached[0] is scope:
        return cached[1], cached[2]
    if scope is None:
        head, tail = length_delimited(_SCOPE, b""), b""
    else:
        body = [string_field(_SCOPE_NAME, scope.name), string_field(_SCOPE_VERSION, scope.version)]
        body += attributes(_SCOPE_ATTRIBUTES, scope.attributes)
        head, tail = length_delimited(_SCOPE, b"".join(body)), string_field(_SCHEMA_URL, scope.schema_url)
    if len(_scope_cache) >= _ENCODED_CACHE_SIZE:
        _scope_cache.clear()
    _scope_cache[id(scope)] = (scope, head, tail)
    return head, tail


def _encode_span(fields: FinishedSpanFields, cut: bool = False) -> bytes:
    """One ``ScopeSpans.spans`` field (tag, length, ``Span`` body); ``cut`` truncates its strings."""
    (context, parent, name, kind, start, end, attrs, dropped_attributes, events, dropped_events, links, dropped_links,
     status, _resource, _scope) = fields  # fmt: skip
    assert context is not None  # a finished SDK span always has one
    trace_id = context.trace_id
    parts = [_IDS.pack(0x0A, 16, trace_id >> 64, trace_id & _LOW64, 0x12, 8, context.span_id)]
    if context.trace_state:
        parts.append(string_field(_TRACE_STATE, ",".join(f"{k}={v}" for k, v in context.trace_state.items())))
    if parent is not None:
        parts.append(_PARENT.pack(0x22, 8, parent.span_id))
    if cut:
        name = name[:TRUNCATED_CHARS]
    parts += (string_field(_NAME, name), _KINDS[kind], _times(start, end))
    parts += attributes(_ATTRIBUTES, truncated(attrs) if cut else attrs)
    if dropped_attributes:
        parts += (_DROPPED_ATTRIBUTES, varint(dropped_attributes))
    if events:
        parts += [length_delimited(_EVENTS, _encode_event(event, cut)) for event in events]
    if dropped_events:
        parts += (_DROPPED_EVENTS, varint(dropped_events))
    if links:
        parts += [length_delimited(_LINKS, _encode_link(link, cut)) for link in links]
    if dropped_links:
        parts += (_DROPPED_LINKS, varint(dropped_links))
    parts.append(_encode_status(status, cut))
    parts.append(_SPAN_FLAGS[parent is not None and parent.is_remote])
    return length_delimited(_SPANS, b"".join(parts))


def _times(start: int | None, end: int | None) -> bytes:
    if start and end:
        return _TIMES.pack(_START[0], start, _END[0], end)
    return _fixed64(_START, start) + _fixed64(_END, end)


def _fixed64(field_tag: bytes, value: int | None) -> bytes:
    return field_tag + _U64.pack(value) if value else b""


def _encode_event(event: Event, cut: bool = False) -> bytes:
    name = event.name[:TRUNCATED_CHARS] if cut else event.name
    parts = [_fixed64(_EVENT_TIME, event.timestamp), string_field(_EVENT_NAME, name)]
    parts += attributes(_EVENT_ATTRIBUTES, truncated(event.attributes) if cut else event.attributes)
    parts.append(uint_field(_EVENT_DROPPED, event.dropped_attributes))
    return b"".join(parts)


def _encode_link(link: Link, cut: bool = False) -> bytes:
    context: SpanContext = link.context
    trace_id = context.trace_id
    parts = [_IDS.pack(0x0A, 16, trace_id >> 64, trace_id & _LOW64, 0x12, 8, context.span_id)]
    parts += attributes(_LINK_ATTRIBUTES, truncated(link.attributes) if cut else link.attributes)
    parts.append(uint_field(_LINK_DROPPED, link.dropped_attributes))
    parts.append(_LINK_FLAGS[context.is_remote])
    return b"".join(parts)


def _encode_status(status: Status, cut: bool = False) -> bytes:
    if not status.description:
        return _PLAIN_STATUS[status.status_code]
    description = status.description[:TRUNCATED_CHARS] if cut else status.description
    body = string_field(_STATUS_MESSAGE, description) + uint_field(_STATUS_CODE, status.status_code.value)
    return length_delimited(_STATUS, body)


# Encoded span bytes per export request, at most: a batch of 2,048 spans with captured prompts
# can pass the collector's default 20 MiB OTLP/HTTP body limit, and gateways often stop at 4 MiB.
REQUEST_SPAN_BYTES = 4 * 1024 * 1024
_UNENCODED_SPAN_BYTES = 1024  # a guess for spans not encoded yet; they are rare here


def split_by_size(spans: Sequence[ReadableSpan | EncodedSpan], limit: int) -> list[Sequence[Any]]:
    """Consecutive parts of ``spans`` of at most ``limit`` encoded bytes each (a bigger span alone)."""
    parts: list[Sequence[Any]] = []
    current: list[Any] = []
    size = 0
    for span in spans:
        n = len(span.encoded) if type(span) is EncodedSpan else _UNENCODED_SPAN_BYTES
        if current and size + n > limit:
            parts.append(current)
            current, size = [], 0
        current.append(span)
        size += n
    if current:
        parts.append(current)
    return parts


class FastOTLPSpanExporter(OTLPSpanExporter):
    """Upstream's http/protobuf span exporter with :func:`encode_spans` as its encoder.

    Upstream encodes inside ``export`` with no hook, so ``export`` is re-implemented
    around the pieces upstream's own ``export`` uses, which are private: they come from
    :func:`otel_chatbot.compat.span_request_sender`, checked once here. Without them
    (another SDK release, another shape) :meth:`export` is upstream's, unchanged, and
    :attr:`accepts_encoded_spans` is False, so no encoded span is ever handed in.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._chatbot_sender = span_request_sender(self)
        self._permanent = False

    @property
    def accepts_encoded_spans(self) -> bool:
        """True when :meth:`export` takes :class:`EncodedSpan` items as well as spans."""
        return self._chatbot_sender is not None

    def export(self, spans: Sequence[ReadableSpan | EncodedSpan]) -> SpanExportResult:
        sender = self._chatbot_sender
        if sender is None:
            return super().export(spans)  # type: ignore[arg-type]
        if sender.is_shut_down():
            _upstream_logger.warning("Exporter already shutdown, ignoring batch")
            self._permanent = True
            return SpanExportResult.FAILURE
        requests = split_by_size(spans, REQUEST_SPAN_BYTES)
        if len(requests) <= 1:
            result = sender.send(len(spans), lambda: encode_spans(spans))
            self._permanent = sender.last_failure_permanent
            return result
        failures = []
        for part in requests:
            if sender.send(len(part), lambda part=part: encode_spans(part)) is not SpanExportResult.SUCCESS:  # type: ignore[misc]
                failures.append(sender.last_failure_permanent)
        # Sent again only if some part may still get through (the parts that did go out go again).
        self._permanent = bool(failures) and all(failures)
        return SpanExportResult.FAILURE if failures else SpanExportResult.SUCCESS

    @property
    def last_failure_permanent(self) -> bool:
        """Whether the last failed :meth:`export` cannot succeed by sending the same spans again."""
        return self._permanent
