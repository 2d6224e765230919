"""Stream framings of the HTTP providers: server-sent events (OpenAI, Anthropic) and NDJSON (Ollama).

Compact JSON (no spaces), as the providers send it; one frame per HTTP chunk.
"""

from __future__ import annotations

import json
from typing import Any

SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"
NDJSON_CONTENT_TYPE = "application/x-ndjson"


def compact_json(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def sse_frame(data: Any, event: str | None = None) -> bytes:
    """One server-sent event: an optional ``event:`` line, a ``data:`` line (JSON, or a literal string)."""
    payload = data if isinstance(data, str) else compact_json(data)
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {payload}\n\n".encode()


def ndjson_line(document: Any) -> bytes:
    """One JSON object on one line."""
    return (compact_json(document) + "\n").encode()
