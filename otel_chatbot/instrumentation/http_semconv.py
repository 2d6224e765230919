"""Pure helpers for the HTTP semantic conventions shared by server and client sides."""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Iterable

from opentelemetry.semconv.attributes import (
    client_attributes,
    error_attributes,
    http_attributes,
    network_attributes,
    server_attributes,
    url_attributes,
    user_agent_attributes,
)

METHOD = http_attributes.HTTP_REQUEST_METHOD
METHOD_ORIGINAL = http_attributes.HTTP_REQUEST_METHOD_ORIGINAL
STATUS = http_attributes.HTTP_RESPONSE_STATUS_CODE
ROUTE = http_attributes.HTTP_ROUTE
ERROR_TYPE = error_attributes.ERROR_TYPE
URL_PATH = url_attributes.URL_PATH
URL_QUERY = url_attributes.URL_QUERY
URL_SCHEME = url_attributes.URL_SCHEME
URL_FULL = url_attributes.URL_FULL
CLIENT_ADDRESS = client_attributes.CLIENT_ADDRESS
SERVER_ADDRESS = server_attributes.SERVER_ADDRESS
SERVER_PORT = server_attributes.SERVER_PORT
USER_AGENT = user_agent_attributes.USER_AGENT_ORIGINAL
PROTOCOL_VERSION = network_attributes.NETWORK_PROTOCOL_VERSION
PROTOCOL_NAME = network_attributes.NETWORK_PROTOCOL_NAME

# The buckets the HTTP metric conventions recommend for request durations (seconds).
DURATION_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)

KNOWN_METHODS = frozenset({"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE", "QUERY"})

# Query parameters whose values are redacted in url.query and url.full. The URL conventions
# name AWSAccessKeyId, Signature, sig and X-Goog-Signature; the rest are the credentials
# other signing schemes (AWS SigV4, Google, Azure SAS) and APIs put in URLs. Compared after
# percent-decoding, ignoring case, "-" and "_": api_key, API-Key and apikey are one key.
SENSITIVE_QUERY_KEYS = frozenset(
    key.replace("-", "").replace("_", "").lower()
    for key in (
        # the semantic conventions' list
        "AWSAccessKeyId",
        "Signature",
        "sig",
        "X-Goog-Signature",
        # signed URLs
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        "X-Goog-Credential",
        # credentials
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "api_key",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "authorization",
        "session_token",
    )
)
REDACTED = "REDACTED"


def normalize_method(method: str) -> tuple[str, str | None]:
    """Return the conventional method and, for unknown ones, the original to record beside it."""
    upper = method.upper()
    if upper in KNOWN_METHODS:
        return upper, (method if method != upper else None)
    return "_OTHER", method


def span_name(method: str, route: str | None) -> str:
    """``{method} {route}``; ``HTTP`` stands in for unknown methods, as the convention says."""
    verb = "HTTP" if method == "_OTHER" else method
    return f"{verb} {route}" if route else verb


def redact_query(query: str) -> str:
    """Replace the values of credential-bearing query parameters with ``REDACTED``."""
    if not query or "=" not in query:
        return query
    parts = []
    for item in query.split("&"):
        key, sep, _value = item.partition("=")
        parts.append(f"{key}={REDACTED}" if sep and is_sensitive_query_key(key) else item)
    return "&".join(parts)


def is_sensitive_query_key(raw_key: str) -> bool:
    """Whether a (still percent-encoded) query parameter name names a credential."""
    key = urllib.parse.unquote_plus(raw_key) if ("%" in raw_key or "+" in raw_key) else raw_key
    return key.strip().replace("-", "").replace("_", "").lower() in SENSITIVE_QUERY_KEYS


@functools.lru_cache(maxsize=256)
def split_host(host: str, default_port: int) -> tuple[str, int]:
    """``example.com:8080`` → (``example.com``, 8080); handles bracketed IPv6.

    Cached: a server sees the same few ``Host`` values on every request; bounded, since
    the header is the client's to choose.
    """
    if host.startswith("["):
        address, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        address, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    try:
        return address, int(port) if port else default_port
    except ValueError:
        return address, default_port


def status_is_error(status: int, server: bool) -> bool:
    """Server spans fail on 5xx only; client spans on 4xx and 5xx."""
    return status >= 500 if server else status >= 400


def header_attribute(prefix: str, name: str, values: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """``http.request.header.<name>`` with the lower-cased name and an array value."""
    return f"{prefix}.{name.lower()}", tuple(values)
