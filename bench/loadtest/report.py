"""The markdown table of one run, printed at the end of ``run`` (and by ``show``)."""

from __future__ import annotations

from bench.loadtest.schema import Endpoint, Latency, Run


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _row(users: int, e: Endpoint) -> str:
    lat: Latency | None = e.latency_ms
    cells = [_ms(lat.p50), _ms(lat.p90), _ms(lat.p95), _ms(lat.p99), _ms(lat.max)] if lat else ["-"] * 5
    first = f"{_ms(e.first_event_ms.p50)} / {_ms(e.first_event_ms.p95)}" if e.first_event_ms else "-"
    return (
        f"| {users} | {e.key} | {e.requests} | {e.throughput_rps:.1f} | {100 * e.error_rate:.2f} % | "
        + " | ".join(cells)
        + f" | {first} |"
    )


def render_run(run: Run) -> str:
    title = f"{run.scenario} against {run.host}" + (f" ({run.label})" if run.label else "")
    lines = [
        f"### Load test: {title}",
        "",
        f"{run.created} · steady-state window per level, ramp-up excluded · latency in ms (HdrHistogram)",
        "",
        "| users | endpoint | requests | req/s | errors | p50 | p90 | p95 | p99 | max | first event p50 / p95 |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes: list[str] = []
    for level in run.levels:
        for endpoint in level.endpoints:
            lines.append(_row(level.users, endpoint))
        if len(level.endpoints) > 1:
            lines.append(_row(level.users, level.total))
        if level.generator_cpu_warning or level.generator_cpu_percent >= 90:
            notes.append(
                f"- {level.users} users: the load generator used {level.generator_cpu_percent:.0f} % CPU; "
                "throughput may be limited by the generator, not the app (run it on another machine)."
            )
        if level.user_errors:
            notes.append(f"- {level.users} users: {level.user_errors} exceptions inside Locust users (see stderr).")
        for endpoint in level.endpoints:
            for message, count in endpoint.errors.items():
                notes.append(f"- {level.users} users, {endpoint.key}: {count} x {message}")
    return "\n".join([*lines, "", *notes]).rstrip() + "\n"
