"""Render a Grafana dashboard JSON as a static SVG picture from real Prometheus data.

Not Grafana: a small, dependency-free approximation for documentation -- the panels at their
grid positions, stat values, time series as lines with their threshold lines, the latency
heatmap as cells.  Non-Prometheus panels (the Tempo table) are drawn as a placeholder.
tests/e2e/stack/test_stack_data.py renders every dashboard from its test run's Prometheus
(and writes the pictures to $OTEL_CHATBOT_DASHBOARD_PREVIEWS when that is set):

    OTEL_CHATBOT_DASHBOARD_PREVIEWS=dashboards/previews .venv/bin/python -m pytest tests/e2e/stack
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

# (labels, [(timestamp, value)]) for range queries; (labels, value) for instant ones.
Series = tuple[dict[str, str], list[tuple[float, float]]]
RangeQuery = Callable[[str, float, float, float], list[Series]]

COL = 50  # px per grid column (24 columns)
ROW = 30  # px per grid row
PAD = 6
PALETTE = ("#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c", "#37872d", "#8ab8ff", "#fade2a")
BG, PANEL_BG, TEXT, MUTED, GRID = "#111217", "#181b1f", "#ccccdc", "#8e8e9e", "#2c3235"
_LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "NaN"
    if unit == "percentunit":
        return f"{value * 100:.2f}%"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "bytes":
        for suffix, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(value) >= size:
                return f"{value / size:.1f} {suffix}"
        return f"{value:.0f} B"
    if unit == "currencyUSD":
        return f"${value:.4f}"
    if unit == "reqps":
        return f"{value:.2f} req/s"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.3g}"


def legend(template: str, labels: Mapping[str, str]) -> str:
    if not template or template == "__auto":
        return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__") or "value"
    return _LEGEND.sub(lambda m: labels.get(m.group(1), ""), template)


def _text(x: float, y: float, text: str, size: int = 11, color: str = TEXT, anchor: str = "start",
          weight: str = "normal") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{color}" text-anchor="{anchor}" '
        f'font-weight="{weight}" font-family="Inter, Helvetica, Arial, sans-serif">{escape(text)}</text>'
    )


def _thresholds(panel: Mapping[str, Any]) -> list[tuple[float, str]]:
    steps = panel["fieldConfig"]["defaults"].get("thresholds", {}).get("steps", [])
    return [(s["value"], s["color"]) for s in steps if s.get("value") is not None]


def _stat(panel: Mapping[str, Any], series: list[Series], x: float, y: float, w: float, h: float) -> list[str]:
    unit = panel["fieldConfig"]["defaults"].get("unit", "short")
    values = [points[-1][1] for _, points in series if points]
    if not values:
        return [_text(x + w / 2, y + h / 2, "No data", 14, MUTED, "middle")]
    value = values[0]
    color = PALETTE[0]
    for threshold, step_color in _thresholds(panel):
        if value >= threshold and step_color != "transparent":
            color = {"orange": "#ff9830", "red": "#f2495c", "green": PALETTE[0]}.get(step_color, step_color)
    return [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}" opacity="0.85" rx="2"/>',
        _text(x + w / 2, y + h / 2 + 10, fmt(value, unit), 26, "#ffffff", "middle", "bold"),
    ]


def _timeseries(
    panel: Mapping[str, Any], series: list[tuple[str, list[tuple[float, float]]]], start: float, end: float,
    x: float, y: float, w: float, h: float,
) -> list[str]:  # fmt: skip
    unit = panel["fieldConfig"]["defaults"].get("unit", "short")
    finite = [v for _, points in series for _, v in points if math.isfinite(v)]
    if not finite:
        return [_text(x + w / 2, y + h / 2, "No data", 14, MUTED, "middle")]
    legend_h = 14 * min(3, len(series))
    plot_h = h - legend_h - 4
    top = max(finite + [t for t, c in _thresholds(panel) if c != "transparent" and t <= max(finite) * 3]) or 1.0
    top *= 1.1
    left = x + 56
    plot_w = w - 60
    out = [
        _text(left - 4, y + 10, fmt(top, unit), 9, MUTED, "end"),
        _text(left - 4, y + plot_h, fmt(0, unit), 9, MUTED, "end"),
    ]
    out.append(
        f'<line x1="{left}" y1="{y + plot_h:.1f}" x2="{left + plot_w:.1f}" y2="{y + plot_h:.1f}" stroke="{GRID}"/>'
    )

    def px(t: float, v: float) -> tuple[float, float]:
        return left + (t - start) / max(end - start, 1e-9) * plot_w, y + plot_h - max(v, 0) / top * plot_h

    for threshold, color in _thresholds(panel):
        if color != "transparent" and threshold <= top:
            _, ty = px(start, threshold)
            out.append(
                f'<line x1="{left}" y1="{ty:.1f}" x2="{left + plot_w:.1f}" y2="{ty:.1f}" stroke="{color}" '
                f'stroke-dasharray="4 3" opacity="0.8"/>'
            )
    for index, (name, points) in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in (px(t, v) for t, v in points if math.isfinite(v)))
        if coords:
            out.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="1.5"/>')
        if index < 3:
            label = name if len(name) <= 70 else name[:67] + "..."
            ly = y + plot_h + 14 + 14 * index
            out.append(f'<rect x="{left}" y="{ly - 8:.1f}" width="10" height="3" fill="{color}"/>')
            out.append(_text(left + 14, ly - 3, label, 9, MUTED))
    if len(series) > 3:
        out.append(_text(x + w - 4, y + plot_h + 14, f"+{len(series) - 3} more", 9, MUTED, "end"))
    return out


def _heatmap(series: list[Series], start: float, end: float, x: float, y: float, w: float, h: float) -> list[str]:
    by_le: dict[float, dict[float, float]] = {}
    for labels, points in series:
        le = float("inf") if labels.get("le") == "+Inf" else float(labels.get("le", "nan"))
        by_le[le] = dict(points)
    bounds = sorted(b for b in by_le if b == b)
    times = sorted({t for points in by_le.values() for t in points})
    if not bounds or not times:
        return [_text(x + w / 2, y + h / 2, "No data", 14, MUTED, "middle")]
    counts: dict[tuple[int, float], float] = {}
    for i, le in enumerate(bounds):
        below = by_le[bounds[i - 1]] if i else {}
        for t in times:
            counts[(i, t)] = max(by_le[le].get(t, 0.0) - below.get(t, 0.0), 0.0)
    peak = max(counts.values()) or 1.0
    cell_w, cell_h = w / len(times), h / len(bounds)
    out = []
    for (i, t), count in counts.items():
        if count > 0:
            cx = x + times.index(t) * cell_w
            cy = y + h - (i + 1) * cell_h
            out.append(
                f'<rect x="{cx:.1f}" y="{cy:.1f}" width="{cell_w + 0.5:.1f}" height="{cell_h:.1f}" fill="#ff780a" '
                f'opacity="{0.15 + 0.85 * count / peak:.2f}"/>'
            )
    out.append(_text(x + 2, y + 10, f"le {bounds[-1]:g}", 9, MUTED))
    out.append(_text(x + 2, y + h - 2, f"le {bounds[0]:g}", 9, MUTED))
    return out


def render(
    dashboard: Mapping[str, Any],
    query_range: RangeQuery,
    start: float,
    end: float,
    step: float,
    substitute: Callable[[str], str],
    subtitle: str = "",
) -> str:
    """The dashboard as an SVG document; ``substitute`` fills in template variables."""
    panels: Sequence[Mapping[str, Any]] = dashboard["panels"]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) * ROW + 50
    width = 24 * COL
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<rect width="{width}" height="{height}" fill="{BG}"/>',
        _text(10, 26, dashboard["title"], 18, TEXT, weight="bold"),
        _text(width - 10, 26, subtitle, 10, MUTED, "end"),
    ]
    for panel in panels:
        grid = panel["gridPos"]
        x, y = grid["x"] * COL + PAD / 2, grid["y"] * ROW + 40 + PAD / 2
        w, h = grid["w"] * COL - PAD, grid["h"] * ROW - PAD
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{PANEL_BG}" '
                   f'stroke="{GRID}" rx="3"/>')  # fmt: skip
        out.append(_text(x + 8, y + 16, panel["title"], 12, TEXT, weight="bold"))
        cx, cy, cw, ch = x + 8, y + 24, w - 16, h - 30
        if panel["datasource"]["uid"] != "prometheus":
            out.append(_text(x + w / 2, y + h / 2, f"{panel['datasource']['type']} panel (not rendered)", 12, MUTED,
                             "middle"))  # fmt: skip
            continue
        named: list[tuple[str, list[tuple[float, float]]]] = []
        raw: list[Series] = []
        for target in panel["targets"]:
            result = query_range(substitute(target["expr"]), start, end, step)
            raw.extend(result)
            named.extend((legend(target.get("legendFormat", ""), labels), points) for labels, points in result)
        if panel["type"] == "stat":
            out.extend(_stat(panel, raw, cx, cy, cw, ch))
        elif panel["type"] == "heatmap":
            out.extend(_heatmap(raw, start, end, cx, cy, cw, ch))
        else:
            out.extend(_timeseries(panel, named, start, end, cx, cy, cw, ch))
    out.append("</svg>")
    return "\n".join(out) + "\n"
