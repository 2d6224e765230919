"""Protobuf wire-format primitives and OTLP ``KeyValue``/``AnyValue`` encoding.

Written directly as bytes because building upstream's protobuf message objects costs
far more CPU than the bytes themselves. Every OTLP tag we emit is below field 16 (except
``Span.flags``, handled by the caller), so tags are single bytes.

Attribute semantics follow ``opentelemetry.exporter.otlp.proto.common``: ``None``
becomes an empty ``AnyValue``, sequences become ``ArrayValue``, mappings become
``KeyValueList``, and an attribute that cannot be encoded is left out. Unlike upstream,
which logs a traceback for every such attribute and fails the whole batch on a string
field without a UTF-8 form, the left-out attribute is counted and logged once per kind,
and other strings get U+FFFD for their lone surrogates (``export/safe_values.py``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from otel_chatbot.export.safe_values import MAX_DEPTH, note_dropped_attribute, utf8

WHERE = "the OTLP span encoder"

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64 = 1 << 64

# Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5

_SMALL_VARINTS = tuple(bytes((n,)) for n in range(128))
_DOUBLE = struct.Struct("<d")

# AnyValue field tags (opentelemetry/proto/common/v1/common.proto).
_STRING_VALUE = b"\x0a"
_BOOL_TRUE = b"\x10\x01"
_BOOL_FALSE = b"\x10\x00"
_INT_VALUE = b"\x18"
_DOUBLE_VALUE = b"\x21"
_ARRAY_VALUE = b"\x2a"
_KVLIST_VALUE = b"\x32"
_BYTES_VALUE = b"\x3a"
# KeyValue: key = 1, value = 2; ArrayValue/KeyValueList: values = 1.
_KEY = b"\x0a"
_VALUE = b"\x12"
_VALUES = b"\x0a"

# Bounds keep memory flat whatever the attribute cardinality; a full cache is
# simply cleared (the hot entries come back on their next use).
_KEY_CACHE_SIZE = 1024
_PAIR_CACHE_SIZE = 2048
_PAIR_CACHE_MAX_STR = 256

_key_cache: dict[str, bytes] = {}
_pair_cache: dict[tuple[str, type, Any], bytes] = {}


def tag(field: int, wire_type: int) -> bytes:
    """The encoded key of a field (used to build constants, not on the hot path)."""
    return varint((field << 3) | wire_type)


def varint(n: int) -> bytes:
    """Base-128 varint; negative numbers as their 64-bit two's complement (int64)."""
    if 0 <= n < 128:
        return _SMALL_VARINTS[n]
    if n < 0:
        n += _UINT64
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def length_delimited(field_tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: tag, byte length, payload."""
    return field_tag + varint(len(payload)) + payload


def string_field(field_tag: bytes, value: str | None) -> bytes:
    """A proto3 string field, omitted when empty or absent as protobuf does; never invalid UTF-8."""
    if not value:
        return b""
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        encoded = utf8(value, WHERE)
    return length_delimited(field_tag, encoded)


def uint_field(field_tag: bytes, value: int | None) -> bytes:
    """A proto3 varint field, omitted when zero or absent."""
    if not value:
        return b""
    return field_tag + varint(value)


def any_value(value: Any, depth: int = 0) -> bytes:
    """The body of an ``AnyValue`` message for one attribute value.

    Exact types are tested first because ``isinstance`` against ``Sequence`` (an ABC)
    costs more than encoding the value; subclasses take the general route.
    """
    kind = type(value)
    if kind is str:
        return length_delimited(_STRING_VALUE, value.encode("utf-8"))
    if kind is tuple or kind is list:
        return _array_value(value, depth)
    return _any_value_slow(value, depth)


def _nested(depth: int) -> int:
    """The level of a list or map's members; past ``MAX_DEPTH`` levels the attribute is left out."""
    if depth >= MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return depth + 1


def _array_value(values: Sequence[Any], depth: int) -> bytes:
    inner = _nested(depth)
    return length_delimited(_ARRAY_VALUE, b"".join([length_delimited(_VALUES, any_value(v, inner)) for v in values]))


def _any_value_slow(value: Any, depth: int) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bool):
        return _BOOL_TRUE if value else _BOOL_FALSE
    if isinstance(value, str):
        return length_delimited(_STRING_VALUE, value.encode("utf-8"))
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(f"Value out of range: {value}")
        return _INT_VALUE + varint(value)
    if isinstance(value, float):
        return _DOUBLE_VALUE + _DOUBLE.pack(value)
    if isinstance(value, bytes):
        return length_delimited(_BYTES_VALUE, value)
    if isinstance(value, Sequence):
        return _array_value(value, depth)
    if isinstance(value, Mapping):
        inner = _nested(depth)
        pairs = [length_delimited(_VALUES, _key_value(str(k), v, inner)) for k, v in value.items()]
        return length_delimited(_KVLIST_VALUE, b"".join(pairs))
    raise TypeError(f"Invalid type {type(value)} of value {value}")


def _key_value(key: str, value: Any, depth: int = 0) -> bytes:
    return encoded_key(key) + length_delimited(_VALUE, any_value(value, depth))


def encoded_key(key: str) -> bytes:
    """The ``KeyValue.key`` field for ``key``; keys repeat on every span, so cached."""
    cached = _key_cache.get(key)
    if cached is None:
        cached = length_delimited(_KEY, key.encode("utf-8"))
        if len(_key_cache) >= _KEY_CACHE_SIZE:
            _key_cache.clear()
        _key_cache[key] = cached
    return cached


def key_value(key: str, value: Any) -> bytes:
    """Length prefix plus body of a ``KeyValue``; the caller puts the field tag before it.

    Low-cardinality pairs (``http.request.method=GET``, ``server.port=8000``) repeat on
    most spans, so short str/int/bool pairs are cached; the value's type is part of the
    cache key because ``1 == True``. Floats are not cached (``0.0 == -0.0``, NaN).
    """
    kind = type(value)
    if not (kind is int or kind is bool or (kind is str and len(value) <= _PAIR_CACHE_MAX_STR)):
        return length_delimited(b"", _key_value(key, value))
    pair = (key, kind, value)
    cached = _pair_cache.get(pair)
    if cached is None:
        cached = length_delimited(b"", _key_value(key, value))
        if len(_pair_cache) >= _PAIR_CACHE_SIZE:
            _pair_cache.clear()
        _pair_cache[pair] = cached
    return cached


def _items(attrs: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    """``attrs.items()``, through a plain-dict copy for the SDK's read-only views.

    ``ReadableSpan.attributes`` is a ``MappingProxyType`` over ``BoundedAttributes``,
    whose generic ``items()`` calls Python-level ``__iter__``/``__getitem__`` per key;
    its ``copy()`` is one C-level dict copy, then iteration is C-speed too.
    """
    if type(attrs) is MappingProxyType:
        try:
            snapshot = attrs.copy()
        except AttributeError:  # a proxied mapping without copy()
            return attrs.items()
        if isinstance(snapshot, Mapping):
            return snapshot.items()
    return attrs.items()


def attributes(field_tag: bytes, attrs: Mapping[str, Any] | None) -> list[bytes]:
    """Repeated ``KeyValue`` fields; a pair that cannot be encoded is left out (counted, logged once)."""
    if not attrs:
        return []
    out: list[bytes] = []
    cache = _pair_cache
    for key, value in _items(attrs):
        try:
            # The cache hit of key_value, inlined: this loop runs for every attribute.
            kind = type(value)
            encoded = cache.get((key, kind, value)) if kind is str or kind is int or kind is bool else None
            if encoded is None:
                encoded = key_value(key, value)
        except Exception:  # same policy as upstream: drop the key, keep the rest
            note_dropped_attribute(key, value, WHERE)
            continue
        out += (field_tag, encoded)
    return out
