"""Records -> JSON-ready values, for the query API and the JSONL log."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any


def to_jsonable(value: object) -> Any:
    """Dataclasses become dicts, tuples lists, bytes hex strings; the rest is kept."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def dumps(value: object) -> bytes:
    """Compact JSON bytes of anything :func:`to_jsonable` understands."""
    return json.dumps(to_jsonable(value), separators=(",", ":")).encode()


def json_lines(signal: str, records: Iterable[object]) -> str:
    """One ``{"signal": ..., **record}`` line per record."""
    return "".join(json.dumps({"signal": signal, **to_jsonable(r)}, separators=(",", ":")) + "\n" for r in records)
