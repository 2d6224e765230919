"""Hypothesis strategies for hostile payloads: real examples with their parts replaced, dropped or broken.

``shaped_like(example)`` keeps an example's shape (so the parsers get far into it) while
any key may go missing and any value may become something hostile: the wrong type, an
integer past int64, NaN or infinity, a lone surrogate, a huge string, deep nesting.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

_MISSING = object()

HUGE_INTS = st.sampled_from([2**63, -(2**63) - 1, 10**20, 10**30, -1, 0, 2**31])
SPECIAL_FLOATS = st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 1e308, -1.5])
TEXT = st.text(max_size=30)
SURROGATE_TEXT = st.builds(lambda a, s: a + s, TEXT, st.characters(categories=["Cs"]))
LONG_TEXT = st.builds(lambda n: "x" * n, st.integers(10_000, 200_000))


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


DEEP = st.builds(_nested, st.integers(40, 400))
HOSTILE_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    HUGE_INTS,
    st.floats(),
    SPECIAL_FLOATS,
    TEXT,
    SURROGATE_TEXT,
    LONG_TEXT,
    st.lists(TEXT, max_size=3),
    st.dictionaries(TEXT, TEXT, max_size=3),
    DEEP,
)
"""A value where another was expected (JSON-encodable, though ``json.dumps`` writes NaN as ``NaN``)."""

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=15,
)


def shaped_like(example: Any) -> st.SearchStrategy[Any]:
    """``example`` with any value replaced by a hostile one, any key dropped, lists shortened or grown."""
    if isinstance(example, dict):
        fields = {key: st.one_of(shaped_like(value), st.just(_MISSING), HOSTILE_LEAF) for key, value in example.items()}
        return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not _MISSING})
    if isinstance(example, list):
        if not example:
            return st.lists(HOSTILE_LEAF, max_size=2)
        return st.lists(st.one_of(*(shaped_like(item) for item in example)), max_size=len(example) + 2)
    return st.one_of(st.just(example), HOSTILE_LEAF)


def as_json_bytes(value: Any) -> bytes:
    """``value`` as a body a server could send (NaN as JSON's non-standard ``NaN``, surrogates escaped)."""
    try:
        return json.dumps(value).encode()
    except (ValueError, RecursionError):
        return b"{"


BODIES_AROUND = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(as_json_bytes),
    st.just(b""),
    st.builds(lambda n: b"[" * n + b"]" * n, st.integers(500, 5000)),
)
"""Bodies that are not the example at all: bytes, other JSON, empty, nested past the recursion limit."""


def body_like(example: Any) -> st.SearchStrategy[bytes]:
    """An answer body: ``example`` broken (see :func:`shaped_like`), cut short, or something else entirely."""
    whole = shaped_like(example).map(as_json_bytes)
    cut = st.builds(lambda data, at: data[: int(len(data) * at)], whole, st.floats(0, 1))
    return st.one_of(whole, whole, cut, BODIES_AROUND)
