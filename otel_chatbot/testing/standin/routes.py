"""Path templates (``/model/{modelId}/converse``) matched against request targets, labels decoded.

Labels are percent-decoded one segment at a time, because clients encode ``:`` and ``/``
inside model ids, ARNs and deployment names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar
from urllib.parse import unquote, urlsplit

T = TypeVar("T")


def path_segments(target: str) -> list[str]:
    """Raw (still percent-encoded) path segments of a request target."""
    return urlsplit(target).path.split("/")


def match_segments(template: list[str], segments: list[str]) -> dict[str, str] | None:
    """The decoded labels when ``segments`` fit ``template`` (``{name}`` segments are labels), else None."""
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(template, segments, strict=True):
        if expected.startswith("{"):
            if not actual:
                return None
            params[expected[1:-1]] = unquote(actual)
        elif expected != actual:
            return None
    return params


class RouteTable(Generic[T]):
    """``(method, template, value)`` rows; :meth:`match` finds the first row a request fits."""

    def __init__(self, rows: Iterable[tuple[str, str, T]]) -> None:
        self._rows = [(method, template.split("/"), value) for method, template, value in rows]

    def match(self, method: str, target: str) -> tuple[T, dict[str, str]] | None:
        segments = path_segments(target)
        for row_method, template, value in self._rows:
            if row_method == method:
                params = match_segments(template, segments)
                if params is not None:
                    return value, params
        return None
