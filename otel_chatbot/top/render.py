"""One screen of ``otel-chatbot top`` from one ``/stats`` document, as rich renderables.

Rates, percentiles and errors are the window's (what is happening now); counts in the
header are since start. Numbers are formatted here, once, so the screen, the tests and
a reader of the JSON agree on what "p95 412 ms" means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

Json = Mapping[str, Any]


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    value = seconds * 1000
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def number(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def usd(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:.4f}" if abs(value) < 1 else f"${value:,.2f}"


def mib(value: float | None) -> str:
    return "—" if value is None else f"{value / 1048576:,.1f} MiB"


def duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _pick(distribution: Json | None, key: str) -> float | None:
    return None if distribution is None else distribution.get(key)


def header(view: Json) -> Text:
    service = view.get("service", {})
    name = " · ".join(str(service[k]) for k in ("name", "environment", "instance") if service.get(k)) or "unknown"
    window = view.get("window")
    since = view.get("since_start") or {}
    total = since.get("http", {}).get("overall", {})
    text = Text()
    text.append(f"otel-chatbot top  {name}", style="bold")
    text.append(f"   up {duration(view.get('uptime_s', 0.0))}")
    text.append(f"   window {number(window['seconds']) if window else '—'} s")
    text.append(f"   requests since start {number(total.get('requests'))}, errors {number(total.get('errors'))}")
    age = view.get("sample_age_s")
    if age is not None and age > 3:
        text.append(f"   (stale: last sample {age:.0f} s ago)", style="bold red")
    return text


def http_table(period: Json) -> Table:
    http = period["http"]
    overall = http["overall"]
    table = Table(title="HTTP", title_justify="left", expand=False, show_edge=False, pad_edge=False)
    for column in ("method", "route"):
        table.add_column(column, no_wrap=True)
    for column in ("req/s", "requests", "errors", "err %", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")

    def row(entry: Json, method: str, route: str, style: str = "") -> None:
        latency = entry.get("latency_s")
        table.add_row(
            method,
            route,
            number(entry["rate"], 2),
            number(entry["requests"]),
            number(entry["errors"]),
            percent(entry["error_rate"]),
            ms(_pick(latency, "p50")),
            ms(_pick(latency, "p95")),
            ms(_pick(latency, "p99")),
            ms(_pick(latency, "max")),
            style=style or ("red" if entry["errors"] else ""),
        )

    row(overall, "all", f"active {number(overall['active'])}, peak {number(overall['peak_active'])}", "bold")
    for route in http["routes"]:
        row(route, route["method"], route["route"] or "(no route)")
    return table


def genai_table(period: Json) -> Table:
    table = Table(title="GenAI", title_justify="left", show_edge=False, pad_edge=False)
    for column in ("provider", "model"):
        table.add_column(column, no_wrap=True)
    for column in ("calls", "errors", "throttles", "tok/min", "cost/h", "p50 ms", "p95 ms", "TTFT p50", "TTFT p95"):
        table.add_column(column, justify="right")
    models = period["genai"]["models"]
    for model in models:
        table.add_row(
            model["provider"],
            model["model"],
            number(model["calls"]),
            number(model["errors"]),
            number(model["throttles"]),
            number(model["tokens_per_min"]),
            usd(model["cost_per_hour_usd"]),
            ms(_pick(model["latency_s"], "p50")),
            ms(_pick(model["latency_s"], "p95")),
            ms(_pick(model["ttft_s"], "p50")),
            ms(_pick(model["ttft_s"], "p95")),
            style="red" if model["errors"] or model["throttles"] else "",
        )
    if not models:
        table.add_row("—", "no GenAI calls in this window", *[""] * 9)
    return table


def chat_lines(period: Json) -> Text:
    streams, sockets = period["streams"], period["websockets"]
    outcomes = ", ".join(f"{name} {count}" for name, count in streams["outcomes"].items()) or "none"
    text = Text()
    text.append("streams ", style="bold")
    text.append(
        f"{number(streams['streams'])} ({outcomes}), TTFB p95 {ms(_pick(streams['time_to_first_byte_s'], 'p95'))} ms"
    )
    text.append("   WebSockets ", style="bold")
    text.append(
        f"open {number(sockets['active'])} (peak {number(sockets['peak_active'])}), "
        f"messages in {number(sockets['messages_received'])} / out {number(sockets['messages_sent'])}"
    )
    cache, failover = period.get("cache"), period.get("failover")
    _optional(
        text,
        "\ncache ",
        "— (no cache_lookup() recorded)"
        if cache is None
        else f"hit ratio {percent(cache['hit_ratio'])} of {number(cache['lookups'])} lookups, "
        f"saved {usd(cache['saved_cost_usd'])}",
    )
    _optional(
        text,
        "   failover ",
        "— (no failover() recorded)"
        if failover is None
        else f"{number(failover['chains'])} chains, {number(failover['switched'])} switched, "
        f"{number(failover['exhausted'])} exhausted, overhead p95 {ms(_pick(failover['overhead_s'], 'p95'))} ms",
    )
    return text


def _optional(text: Text, label: str, line: str) -> None:
    text.append(label, style="bold")
    text.append(line)


def process_line(view: Json, period: Json) -> Text:
    process = period["process"]
    now = (view.get("since_start") or period)["process"]
    cost = view.get("stats", {}).get("collect_cpu_ms", {}).get("avg")
    text = Text()
    text.append("process ", style="bold")
    text.append(
        f"CPU {number(process['cpu_cores'], 3)} cores, RSS {mib(now['rss_bytes'])}, "
        f"threads {number(now['threads'])}, loop lag p99 {ms(_pick(process['loop_lag_s'], 'p99'))} ms"
        f"   (stats collection {number(cost, 2)} ms per sample)"
    )
    return text


def screen(view: Json) -> RenderableType:
    """The whole screen; the window when there is one yet, else since start."""
    period = view.get("window") or view.get("since_start")
    if period is None:
        return Group(header(view), Text("waiting for the first sample…"))
    return Group(
        header(view),
        Text(""),
        http_table(period),
        Text(""),
        genai_table(period),
        Text(""),
        chat_lines(period),
        process_line(view, period),
    )


def error_screen(url: str, message: str) -> RenderableType:
    return Group(Text(f"otel-chatbot top  {url}", style="bold"), Text(message, style="bold red"), Text("retrying…"))
