"""A round of health checks as a table for people or JSON for scripts, and its exit code."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict

from otel_chatbot.health.checks import SEVERITY, Result, Status

EXIT_CODES: dict[Status, int] = {"ok": 0, "degraded": 1, "unhealthy": 2}
_LABEL: dict[Status, str] = {"ok": "healthy", "degraded": "degraded", "unhealthy": "unhealthy"}


def overall(results: Sequence[Result]) -> Status:
    """The worst status of the checks (``ok`` for none)."""
    return max((r.status for r in results), key=SEVERITY.__getitem__, default="ok")


def table(results: Sequence[Result]) -> str:
    rows = [("CHECK", "STATUS", "TIME", "DETAIL")]
    for result in results:
        took = "" if result.seconds is None else f"{result.seconds * 1000:.0f} ms"
        rows.append((result.name, result.status, took, result.message))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)), row[3]]) for row in rows
    ]
    status = overall(results)
    lines.append(f"overall: {_LABEL[status]} (exit {EXIT_CODES[status]})")
    return "\n".join(line.rstrip() for line in lines)


def as_json(results: Sequence[Result]) -> str:
    status = overall(results)
    return json.dumps(
        {
            "status": _LABEL[status],
            "exit_code": EXIT_CODES[status],
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "checks": [{**asdict(r), "details": dict(r.details)} for r in results],
        },
        separators=(",", ":"),
    )
