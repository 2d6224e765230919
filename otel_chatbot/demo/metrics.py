"""Read the in-process Prometheus endpoint and pick the lines worth showing in a terminal.

Scraped with ``urllib`` (which the distro does not instrument), so reading the metrics
adds no telemetry of its own. Shown lines are compacted: labels that are the same on every
series of a run (instrumentation scope, protocol, provider) or empty are left out, and
values are rounded; the full scrape is saved to a file.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterable

# Sample name prefixes (Prometheus naming of the OTel instruments), in the order shown.
KEY_SERIES = (
    "http_server_request_duration_seconds_count",
    "gen_ai_client_operation_duration_seconds_count",
    "gen_ai_client_token_usage_sum",
    "gen_ai_client_cost",
)
DROPPED_LABELS = frozenset(
    {"otel_scope_schema_url", "otel_scope_version", "network_protocol_version", "url_scheme", "gen_ai_provider_name"}
)
MAX_LINES = 40

_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][\w:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+-?\d+)?$")
_LABEL = re.compile(r'(?P<key>\w+)="(?P<value>(?:[^"\\]|\\.)*)"')


def scrape(url: str, timeout_s: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return str(response.read().decode("utf-8"))


def compact(line: str) -> str:
    """``name{useful labels} value`` for one sample line; other lines come back unchanged."""
    match = _SAMPLE.match(line)
    if match is None:
        return line
    labels = [
        f'{label["key"]}="{label["value"]}"'
        for label in _LABEL.finditer(match["labels"] or "")
        if label["value"] and label["key"] not in DROPPED_LABELS
    ]
    try:
        value = f"{float(match['value']):.6g}"
    except ValueError:
        value = match["value"]
    return f"{match['name']}{{{','.join(labels)}}} {value}" if labels else f"{match['name']} {value}"


def key_lines(text: str, series: Iterable[str] = KEY_SERIES, limit: int = MAX_LINES) -> list[str]:
    """Compacted samples whose metric name starts with one of ``series``, grouped by series."""
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    picked: list[str] = []
    for prefix in series:
        picked += [compact(line) for line in samples if line.startswith(prefix)]
    return picked[:limit]
