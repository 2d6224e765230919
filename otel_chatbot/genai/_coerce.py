"""Defensive readers for untrusted payloads.

Bedrock bodies come from many model families and change without notice, so every
read goes through these helpers: they return ``None`` (or an empty container) for
anything of the wrong shape instead of raising.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def as_dict(value: object) -> dict[str, Any]:
    """``value`` if it is a mapping with string keys, else an empty dict.

    A plain ``dict`` (decoded JSON, a boto3 result) is returned as it is, not copied: the
    readers only read, and streams feed thousands of them per second.
    """
    if type(value) is dict:
        return value
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if isinstance(k, str)}
    return {}


def as_list(value: object) -> list[Any]:
    """``value`` if it is a list or tuple, else an empty list."""
    if isinstance(value, list | tuple):
        return list(value)
    return []


def as_str(value: object) -> str | None:
    """A non-empty string, else ``None``."""
    if isinstance(value, str) and value:
        return value
    return None


def as_int(value: object) -> int | None:
    """A non-negative integer (bools and fractional floats rejected), else ``None``.

    Header values arrive as strings, so decimal strings are accepted too.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
    return None


def as_float(value: object) -> float | None:
    """A finite number as float (bools rejected), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def str_tuple(value: object) -> tuple[str, ...] | None:
    """A list of strings as a tuple; a lone string as a 1-tuple; else ``None``."""
    if isinstance(value, str):
        return (value,) if value else None
    items = [v for v in as_list(value) if isinstance(v, str)]
    return tuple(items) if items else None


def first(*values: Any) -> Any:
    """The first value that is not ``None``."""
    for value in values:
        if value is not None:
            return value
    return None


def dig(value: object, *path: str | int) -> Any:
    """Walk nested dicts/lists along ``path``; ``None`` as soon as a step is missing."""
    current: Any = value
    for step in path:
        if isinstance(step, int):
            items = as_list(current)
            if not -len(items) <= step < len(items):
                return None
            current = items[step]
        else:
            if not isinstance(current, Mapping):
                return None
            current = current.get(step)
    return current


def parse_json_object(body: object) -> dict[str, Any]:
    """Decode an InvokeModel body (bytes, str or already a dict) into a dict.

    Anything that is not a JSON object decodes to ``{}`` so callers can read fields
    without checking.
    """
    if isinstance(body, Mapping):
        return as_dict(body)
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return {}
    if not isinstance(body, str):
        return {}
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return decoded if type(decoded) is dict else {}


def header(headers: Mapping[str, object] | None, name: str) -> str | None:
    """Case-insensitive header lookup; HTTP header names are case-insensitive."""
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value if isinstance(value, str) else None
    return None
