"""Decoding of the small OTLP building blocks shared by all three signals."""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otel_chatbot.testing.otlp_sink.records import Attributes, AttrValue


def any_value(value: AnyValue) -> AttrValue:
    """Turn an AnyValue into the Python value a test would write literally."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple(any_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    result: AttrValue = getattr(value, kind)
    return result


def attributes(pairs: Iterable[KeyValue]) -> Attributes:
    """Decode a repeated KeyValue into a dict (later duplicates win, as in the SDK)."""
    return {kv.key: any_value(kv.value) for kv in pairs}


def hex_id(raw: bytes) -> str:
    """Render a trace or span id the way every OTel UI and log shows it."""
    return raw.hex()


def optional_hex_id(raw: bytes) -> str | None:
    """Like :func:`hex_id`, but an absent (empty or all-zero) id becomes None."""
    if not raw.strip(b"\x00"):
        return None
    return raw.hex()


def enum_suffix(full_name: str, prefix: str) -> str:
    """Strip the proto enum prefix: ``SPAN_KIND_SERVER`` -> ``SERVER``."""
    return full_name[len(prefix) :] if full_name.startswith(prefix) else full_name
