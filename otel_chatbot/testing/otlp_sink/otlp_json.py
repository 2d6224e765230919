"""OTLP/JSON <-> protobuf messages.

OTLP/JSON is the proto3 JSON mapping with one twist: trace and span ids are hex
strings, not base64. We rewrite those fields and let ``json_format`` do the rest.
"""

from __future__ import annotations

import base64
import json
from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

MessageT = TypeVar("MessageT", bound=Message)

_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


class OtlpJsonError(ValueError):
    """The body is not valid OTLP/JSON for the expected message."""


def parse_otlp_json(body: bytes, message: MessageT) -> MessageT:
    """Fill ``message`` from an OTLP/JSON body; unknown fields are ignored as the spec asks."""
    try:
        tree = json.loads(body)
        json_format.ParseDict(_hex_ids_to_base64(tree), message, ignore_unknown_fields=True)
    except (ValueError, json_format.ParseError) as exc:
        raise OtlpJsonError(str(exc)) from exc
    return message


def to_otlp_json(message: Message) -> bytes:
    """Serialise a (response) message as OTLP/JSON."""
    return str(json_format.MessageToJson(message, indent=None)).encode()


def _hex_ids_to_base64(node: object) -> object:
    if isinstance(node, dict):
        return {
            key: _id_to_base64(value) if key in _ID_FIELDS and isinstance(value, str) else _hex_ids_to_base64(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    return node


def _id_to_base64(hex_value: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_value)).decode()
