"""Read a live view over HTTP: what ``otel-chatbot top`` and ``otel-chatbot health`` share.

Standard library only, so that ``top --once --json`` and ``health`` work in a bare install.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class StatsUnavailable(Exception):
    """The stats endpoint could not be read; the message says why, for a person."""


def default_stats_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The local endpoint the settings describe (``OTEL_CHATBOT_STATS_PORT``), when one is set."""
    env = os.environ if environ is None else environ
    port = env.get("OTEL_CHATBOT_STATS_PORT", "").strip()
    if not port or port == "0":
        return None
    host = env.get("OTEL_CHATBOT_STATS_HOST", "").strip() or "127.0.0.1"
    return f"http://{host}:{port}/"


def stats_document_url(url: str, window_s: int) -> str:
    """``http://host:port``, ``…/`` or ``…/stats`` → the ``/stats?window=`` URL."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected the stats endpoint's URL, like http://127.0.0.1:9465, got {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/stats"):
        path += "/stats"
    return urlunsplit((parts.scheme, parts.netloc, path, f"window={window_s}", ""))


def fetch_view(url: str, window_s: int = 60, timeout_s: float = 5.0) -> dict[str, Any]:
    """The ``/stats`` document; :class:`StatsUnavailable` with a readable reason otherwise."""
    target = stats_document_url(url, window_s)
    try:
        with urllib.request.urlopen(target, timeout=timeout_s) as response:
            document = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise StatsUnavailable(f"{target} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise StatsUnavailable(f"cannot reach {target}: {reason}") from None
    except ValueError:
        raise StatsUnavailable(f"{target} did not answer JSON (is this the stats port?)") from None
    if not isinstance(document, dict) or "since_start" not in document:
        raise StatsUnavailable(f"{target} answered JSON that is not an otel-chatbot live view")
    return document
