"""Encoder for the AWS event-stream binary framing (``application/vnd.amazon.eventstream``).

Streaming Bedrock operations answer with a sequence of frames, each one
``prelude (total length, headers length) | prelude CRC32 | headers | payload | message CRC32``.
botocore and aiobotocore verify both checksums, so the frames here must be byte exact
for unmodified SDK clients to stream from the fake server.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

_STRING_HEADER_TYPE = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
_SHORT = struct.Struct(">H")

_PADDING_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

JSON_CONTENT_TYPE = "application/json"
EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


def encode_headers(headers: Mapping[str, str]) -> bytes:
    """Encode string-valued headers; event streams only ever need the string type here."""
    out = bytearray()
    for name, value in headers.items():
        raw_name = name.encode("utf-8")
        raw_value = value.encode("utf-8")
        out.append(len(raw_name))
        out += raw_name
        out.append(_STRING_HEADER_TYPE)
        out += _SHORT.pack(len(raw_value))
        out += raw_value
    return bytes(out)


def encode_frame(headers: Mapping[str, str], payload: bytes) -> bytes:
    """Build one complete frame with both CRC32 checksums, as SDK decoders expect."""
    raw_headers = encode_headers(headers)
    total_length = _PRELUDE.size + _CRC.size + len(raw_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total_length, len(raw_headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude)) + raw_headers + payload
    return head + _CRC.pack(zlib.crc32(head))


def _json_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def event_frame(event_type: str, payload: Mapping[str, Any]) -> bytes:
    """A modeled event (``:message-type: event``) whose JSON payload is the event's members."""
    headers = {
        ":event-type": event_type,
        ":content-type": JSON_CONTENT_TYPE,
        ":message-type": "event",
    }
    return encode_frame(headers, _json_bytes(payload))


def exception_frame(exception_type: str, message: str) -> bytes:
    """A modeled in-stream exception; botocore turns it into ``EventStreamError``."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": JSON_CONTENT_TYPE,
        ":message-type": "exception",
    }
    return encode_frame(headers, _json_bytes({"message": message}))


def corrupt_crc(frame: bytes) -> bytes:
    """Flip bits in the trailing message CRC so a client's checksum validation fails."""
    crc = _CRC.unpack_from(frame, len(frame) - _CRC.size)[0]
    return frame[: -_CRC.size] + _CRC.pack(crc ^ 0xFFFFFFFF)


def padding(index: int) -> str:
    """Bedrock pads stream payloads with a ``p`` field of varying length; clients must ignore it."""
    return _PADDING_ALPHABET[: 4 + (index * 7) % 40]


def bytes_payload(payload: Mapping[str, Any], index: int) -> dict[str, Any]:
    """A ``chunk`` event body: the model's JSON, base64 encoded under ``bytes`` (a blob member)."""
    raw = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return {"bytes": base64.b64encode(raw).decode("ascii"), "p": padding(index)}
