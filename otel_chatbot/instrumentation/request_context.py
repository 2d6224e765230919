"""What the current incoming request tells code running under it (e.g. the Bedrock hooks).

The middleware stores one :class:`RequestInfo` per request in a context variable. The
conversation id is resolved lazily: path parameters exist only after routing and the
JSON body only after the handler read it, both later than the middleware's start.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

MAX_BODY_BYTES = 64 * 1024


@dataclass
class RequestInfo:
    sources: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    scope: dict[str, Any]
    body: bytearray = field(default_factory=bytearray)
    body_complete: bool = False
    _conversation_id: str | None = None
    _resolved: bool = False

    @property
    def conversation_id(self) -> str | None:
        if not self._resolved:
            found = conversation_id_from(
                self.sources,
                self.headers,
                self.scope.get("path_params") or {},
                bytes(self.body) if self.body_complete else b"",
            )
            if found is not None or self.body_complete:
                self._conversation_id, self._resolved = found, True
            return found
        return self._conversation_id


def conversation_id_from(
    sources: tuple[tuple[str, str], ...], headers: dict[str, str], path_params: dict[str, Any], body: bytes
) -> str | None:
    """The first configured source that has a value; a pure function for testing.

    A body field counts when it is a string or an integer: the body is the client's, and
    any other JSON value (an object, a list nested a thousand deep) is no id. A body that
    is not JSON, or too deep to decode, has no id.
    """
    parsed: Any = None
    for kind, name in sources:
        value: Any = None
        if kind == "header":
            value = headers.get(name)
        elif kind == "path":
            value = path_params.get(name)
        elif kind == "body" and body:
            if parsed is None:
                try:
                    parsed = json.loads(body)
                except (ValueError, RecursionError):  # not JSON (or not UTF-8), a number too long, nesting too deep
                    parsed = {}
            value = parsed.get(name) if isinstance(parsed, dict) else None
            if isinstance(value, bool) or not isinstance(value, str | int):
                value = None
        if value is not None and str(value).strip():
            return str(value)[:256]
    return None


CURRENT_REQUEST: ContextVar[RequestInfo | None] = ContextVar("otel_chatbot_request", default=None)


def current_conversation_id() -> str | None:
    info = CURRENT_REQUEST.get()
    return info.conversation_id if info is not None else None
