"""Parsers that turn one raw setting string into a typed value.

Each parser raises :class:`ValueError` with the accepted values in its message; the
settings loader prefixes the variable name so the user knows what to fix.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

Parser = Callable[[str], Any]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_bool(raw: str) -> bool:
    """Accept the spellings OpenTelemetry SDKs accept for booleans."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected one of true, false (got {raw!r})")


def parse_str(raw: str) -> str:
    return raw.strip()


def parse_optional_str(raw: str) -> str | None:
    value = raw.strip()
    return value or None


def int_in(low: int, high: int) -> Parser:
    """An integer parser bounded to ``[low, high]``."""

    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"expected an integer from {low} to {high} (got {raw!r})") from None
        if not low <= value <= high:
            raise ValueError(f"expected an integer from {low} to {high} (got {value})")
        return value

    return parse


def optional_int_in(low: int, high: int) -> Parser:
    """Like :func:`int_in`, with the empty string meaning "not set" (None)."""
    bounded = int_in(low, high)

    def parse(raw: str) -> int | None:
        return bounded(raw) if raw.strip() else None

    return parse


def float_in(low: float, high: float) -> Parser:
    """A float parser bounded to ``[low, high]``."""

    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"expected a number from {low} to {high} (got {raw!r})") from None
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high} (got {value})")
        return value

    return parse


def one_of(choices: Sequence[str]) -> Parser:
    """A case-insensitive choice among ``choices``."""
    allowed = tuple(choices)

    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)} (got {raw!r})")
        return value

    return parse


def list_of(choices: Sequence[str]) -> Parser:
    """A comma-separated list whose items are each one of ``choices``."""
    allowed = tuple(choices)

    def parse(raw: str) -> tuple[str, ...]:
        items = tuple(item.strip().lower() for item in raw.split(",") if item.strip())
        bad = [item for item in items if item not in allowed]
        if bad:
            raise ValueError(f"expected a comma-separated list of {', '.join(allowed)} (got {bad[0]!r})")
        if "none" in items and len(items) > 1:
            raise ValueError("'none' cannot be combined with other values")
        return items

    return parse


def parse_csv(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_key_values(raw: str) -> tuple[tuple[str, str], ...]:
    """Parse the ``key1=value1,key2=value2`` form of ``OTEL_RESOURCE_ATTRIBUTES`` and headers.

    Values are percent-decoded as the OpenTelemetry specification requires.
    """
    pairs: list[tuple[str, str]] = []
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected key=value pairs separated by commas (got {item.strip()!r})")
        pairs.append((urllib.parse.unquote(key.strip()), urllib.parse.unquote(value.strip())))
    return tuple(pairs)


def parse_regex_list(raw: str) -> tuple[str, ...]:
    """A comma-separated list of regular expressions, each compiled to catch errors early."""
    patterns = parse_csv(raw)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return patterns


def parse_url(raw: str) -> str:
    value = raw.strip()
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"expected an http:// or https:// URL (got {raw!r})")
    return value.rstrip("/")


def parse_optional_url(raw: str) -> str | None:
    return parse_url(raw) if raw.strip() else None


_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def parse_genai_endpoints(raw: str) -> tuple[tuple[str, str], ...]:
    """``BASE_URL=provider,...``: GenAI servers by base URL, with the ``gen_ai.provider.name`` they get."""
    endpoints: list[tuple[str, str]] = []
    for base, provider in parse_key_values(raw):
        try:
            url = parse_url(base)
        except ValueError:
            raise ValueError(f"expected BASE_URL=provider pairs, {base!r} is not an http(s) URL") from None
        if urllib.parse.urlsplit(url).query:
            raise ValueError(f"a base URL has no query string (got {base!r})")
        if not _PROVIDER_NAME.match(provider):
            raise ValueError(
                f"expected a provider name such as openai, azure.ai.openai, anthropic or ollama for {base!r} "
                f"(lower-case letters, digits, '.', '_', '-'), got {provider!r}"
            )
        endpoints.append((url, provider))
    return tuple(endpoints)


_SOURCE = re.compile(r"^(header|path|body):([A-Za-z0-9_.\-]+)$")


def parse_id_sources(raw: str) -> tuple[tuple[str, str], ...]:
    """Where to read the conversation id: ``header:X-Session-ID,path:session_id,body:session_id``."""
    sources: list[tuple[str, str]] = []
    for item in parse_csv(raw):
        match = _SOURCE.match(item)
        if not match:
            raise ValueError(f"expected comma-separated header:NAME, path:NAME or body:NAME (got {item!r})")
        kind, name = match.groups()
        sources.append((kind, name.lower() if kind == "header" else name))
    return tuple(sources)
