"""Read the in-process Prometheus endpoint: the lines worth showing, and histograms for the summary.

Scraped with ``urllib`` (which the distro does not instrument), so reading the metrics
adds no telemetry of its own. Shown lines are compacted: labels that are the same on every
series of a run (instrumentation scope, protocol, provider) or empty are left out, and
values are rounded; the full scrape is saved to a file. :func:`histograms` reads a
histogram's cumulative buckets back, and :func:`histogram_quantile` estimates a percentile
from them the way Prometheus's ``histogram_quantile`` does (what a dashboard would show).
"""

from __future__ import annotations

import math
import re
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

# Sample name prefixes (Prometheus naming of the OTel instruments), in the order shown.
KEY_SERIES = (
    "http_server_request_duration_seconds_count",
    "gen_ai_client_operation_duration_seconds_count",
    "gen_ai_client_token_usage_sum",
    "gen_ai_client_cost",
    "chatbot_stream_duration_seconds_count",
    "chatbot_websocket_messages_total",
    "chatbot_websocket_turn_time_to_first_message_seconds_count",
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


@dataclass(frozen=True)
class Histogram:
    """Cumulative bucket counts by upper bound (``inf`` last), the count and the sum."""

    buckets: tuple[tuple[float, float], ...]
    count: float
    sum: float


def _samples(text: str) -> Iterable[tuple[str, dict[str, str], float]]:
    for line in text.splitlines():
        match = _SAMPLE.match(line) if line and not line.startswith("#") else None
        if match is None:
            continue
        try:
            value = float(match["value"])
        except ValueError:
            continue
        labels = {label["key"]: label["value"] for label in _LABEL.finditer(match["labels"] or "")}
        yield match["name"], labels, value


def histograms(text: str, name: str, by: str | None = None) -> dict[str, Histogram]:
    """The histogram ``name`` (Prometheus base name) summed over its series, per value of label ``by``.

    Without ``by`` everything is summed under the key ``""``. Series without the label go
    under ``""`` too.
    """
    buckets: dict[str, dict[float, float]] = {}
    counts: dict[str, float] = {}
    sums: dict[str, float] = {}
    for sample, labels, value in _samples(text):
        key = labels.get(by, "") if by else ""
        if sample == f"{name}_bucket" and "le" in labels:
            bound = float(labels["le"])  # "+Inf" parses as inf
            per_key = buckets.setdefault(key, {})
            per_key[bound] = per_key.get(bound, 0.0) + value
        elif sample == f"{name}_count":
            counts[key] = counts.get(key, 0.0) + value
        elif sample == f"{name}_sum":
            sums[key] = sums.get(key, 0.0) + value
    return {
        key: Histogram(tuple(sorted(bounds.items())), counts.get(key, 0.0), sums.get(key, 0.0))
        for key, bounds in sorted(buckets.items())
    }


def counters(text: str, name: str, by: str) -> dict[str, float]:
    """The counter ``name`` (its Prometheus sample name, ``_total`` included) summed per value of label ``by``."""
    values: dict[str, float] = {}
    for sample, labels, value in _samples(text):
        if sample == name:
            key = labels.get(by, "")
            values[key] = values.get(key, 0.0) + value
    return dict(sorted(values.items()))


def histogram_quantile(histogram: Histogram, q: float) -> float | None:
    """Percentile ``q`` (0..100), interpolated linearly within its bucket as Prometheus does.

    ``None`` without observations. A rank in the ``+Inf`` bucket answers the highest finite
    bound; the first bucket starts at 0 (durations are never negative).
    """
    total = histogram.buckets[-1][1] if histogram.buckets else 0.0
    if total <= 0:
        return None
    rank = q / 100 * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, cumulative in histogram.buckets:
        if cumulative >= rank and cumulative > lower_count:
            if math.isinf(bound):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (cumulative - lower_count)
        lower_bound, lower_count = (bound if not math.isinf(bound) else lower_bound), cumulative
    return lower_bound
